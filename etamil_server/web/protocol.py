"""HTTP/1.1 on one connection: httptools parses, this class enforces limits, keeps pipelined
responses in order and decides when the connection closes.

The protocol knows HTTP, not eTamil. It hands every complete request to its :class:`Responder`
(``web/server.py`` provides the real one) and writes what comes back:

* ``responder.handle(request)`` returns a ``Response`` (the handler ran inline) or an
  ``asyncio.Future`` that resolves to one (the handler runs on a thread);
* ``responder.render(request, response, keep_alive, peer)`` returns ``(bytes, keep_alive)``: the
  serialised response and whether the connection may stay open after it (``peer`` is the client
  address when the server asked for it, for the access log);
* ``responder.refusal(status, message)`` returns the bytes of the server's own error answer
  (JSON body, ``Connection: close``) for a request that never reaches a handler.

Limits (settings in ``config.HttpSettings``): a target over ``max_target`` gets 414, a request
line plus headers over ``max_header`` 431, a body over ``max_body`` 413 — decided from
``Content-Length`` before the body is read, or while a chunked body arrives — and the handler never
runs. Conflicting ``Content-Length``/``Transfer-Encoding`` and duplicate ``Content-Length`` are
refused by the parser (400). ``Expect: 100-continue`` is answered when the request's turn comes.

Pipelining: requests are answered strictly in arrival order, one at a time; while one runs on a
thread the later ones wait in ``queue`` (reading pauses when it grows past ``max_pipeline``).

Timeouts are checked by the server's once-a-second sweep (:meth:`check_timeouts`), not by a timer
per request: an idle keep-alive connection closes after ``keepalive_timeout``; a request that has
begun but not finished arriving after ``read_timeout`` gets 408.

Drain (:meth:`begin_drain`): a connection with work answers what it has already received and
closes after the last of it (that response carries ``Connection: close``); an idle one gets
``idle_grace`` seconds for a request already on its way, then closes.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections import deque
from typing import Any, Protocol

import httptools

from .request import Request

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# A request line that starts with a syntactically valid method token: an unknown method is 501,
# anything else the parser refuses is 400.
_METHOD_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ ")
_LINGER_SECONDS = 2.0
_NO_BODY: list[bytes] = []  # shared, never appended to: most requests have no body
_METHOD_NAMES = {name.encode(): name for name in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")}
# The method word of a request line (after any empty lines a client may send between requests).
_LEADING_METHOD = re.compile(rb"^((?:\r\n)*)([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ")


class Responder(Protocol):
    def handle(self, request: Request) -> Any: ...

    def render(
        self, request: Request, response: Any, keep_alive: bool, peer: str | None
    ) -> tuple[bytes, bool]: ...

    def refusal(self, status: int, message: str) -> bytes: ...

    def internal_error(self) -> Any: ...


class Hub(Protocol):
    """What a connection needs from its server (``web/server.py``)."""

    loop: asyncio.AbstractEventLoop
    responder: Responder
    draining: bool
    drain_grace: float  # seconds an idle connection waits, in a drain, for a request on its way
    clock: float  # loop time, refreshed by the sweep (good to about a second)

    def connection_opened(self, conn: HttpProtocol) -> None: ...

    def connection_closed(self, conn: HttpProtocol) -> None: ...


class _Refuse(Exception):
    """Raised inside a parser callback to refuse the request being read."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.status = status
        self.message = message


class HttpProtocol(asyncio.Protocol):
    last_response_due = False  # set by close_after_response: the next response ends the connection

    def __init__(self, hub: Hub, limits: Any):
        self.hub = hub
        self.responder = hub.responder
        self.max_body = limits.max_body
        self.max_header = limits.max_header
        self.max_target = limits.max_target
        self.keepalive_timeout = limits.keepalive_timeout
        self.read_timeout = limits.read_timeout
        self.max_pipeline = max(1, limits.max_pipeline)
        self.head_guard = 4 * limits.max_header + limits.max_target + 65536
        self.transport: asyncio.Transport | None = None
        self.peer: str | None = None
        self.parser = httptools.HttpRequestParser(self)

        # the request being read
        self.in_message = False
        self.headers_done = False
        # The reference upper-cases any method word (HOST.md §4.4: `get` reaches GET routes;
        # custom methods such as `purge` or FROB are routable). llhttp only knows its own list of
        # upper-case methods, so such a word is shown to it as GET and kept here for the Request.
        self.method_override: str | None = None
        self.head_bytes = 0
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_size = 0
        self.body: list[bytes] = _NO_BODY
        self.body_size = 0
        self.content_length = -1
        self.expect: bytes | None = None
        self.message_started = 0.0

        # requests read but not answered yet, in order: (request, keep_alive) or (None, error bytes)
        self.queue: deque[tuple[Request | None, Any]] = deque()
        self.busy = False  # the head request is running on a thread
        self.current: tuple[Request, bool] | None = None
        self.continue_wanted = False  # a 100 Continue is owed once earlier responses are out
        self.stopped_reading = False  # parse no more input (an error or an upgrade request)
        self.closing = False  # the last response is written; the socket closes when flushed
        self.reading_paused = False
        self.writing_paused = False
        self.idle_since = 0.0
        self.grace_handle: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if getattr(self.hub, "wants_peer", False):  # only the access log needs it
            peer = transport.get_extra_info("peername")
            self.peer = peer[0] if isinstance(peer, tuple) else str(peer or "-")
        self.idle_since = self.hub.clock
        self.hub.connection_opened(self)
        if self.hub.draining:
            self.begin_drain(self.hub.drain_grace)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.queue.clear()
        if self.grace_handle is not None:
            self.grace_handle.cancel()
            self.grace_handle = None
        self.hub.connection_closed(self)

    def data_received(self, data: bytes) -> None:
        if self.stopped_reading:
            return  # lingering after a refusal, or past an upgrade: input is dropped
        if not self.in_message:
            match = _LEADING_METHOD.match(data)
            if match is not None and match.group(2) not in _METHOD_NAMES:
                self.method_override = match.group(2).decode("ascii")
                data = match.group(1) + b"GET" + data[match.end(2) :]
        try:
            self.parser.feed_data(data)
            if self.in_message and not self.headers_done:
                # httptools buffers a header name or value until it ends, out of our sight: bound
                # the bytes a header block may take (generously: a read may hold earlier requests)
                self.head_bytes += len(data)
                if self.head_bytes > self.head_guard:
                    self._refuse(431, "Request Header Fields Too Large")
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Refuse):
                self._refuse(cause.status, cause.message)
            elif cause is not None and not isinstance(cause, Exception):
                raise cause from None  # SystemExit (gunicorn's ABRT handler) and the like: not ours
            else:
                _log_internal("HTTP parser callback failed", cause or exc)
                self._refuse(500, "Internal Server Error")
        except httptools.HttpParserInvalidMethodError:
            if _METHOD_TOKEN.match(data):
                self._refuse(501, "Not Implemented")
            else:
                self._refuse(400, "Bad Request")
        except httptools.HttpParserUpgrade:
            pass  # on_message_complete has seen it (should_upgrade) and stopped reading
        except httptools.HttpParserError as exc:
            message = str(exc) or "Bad Request"
            self._refuse(400, message)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._run_queue()

    def eof_received(self) -> bool | None:
        # The client will send nothing more; answer what was read (the transport closes once the
        # queue is done because keep-alive is then pointless).
        if self.in_message:
            self.in_message = False
        if not self.queue and not self.busy:
            return None  # close now
        self.stopped_reading = True
        return True  # keep the transport open until our responses are out

    # ------------------------------------------------------------------ httptools callbacks

    def on_message_begin(self) -> None:
        self.in_message = True
        self.headers_done = False
        self.head_bytes = 0
        self.url = b""
        self.headers = []
        self.header_size = 0
        self.body = _NO_BODY
        self.body_size = 0
        self.content_length = -1
        self.expect = None
        self.message_started = self.hub.clock

    def on_url(self, url: bytes) -> None:
        self.url += url  # may arrive in pieces
        if len(self.url) > self.max_target:
            raise _Refuse(414, "URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_size += len(name) + len(value) + 4
        if self.header_size + len(self.url) > self.max_header:
            raise _Refuse(431, "Request Header Fields Too Large")
        self.headers.append((name, value))
        if len(name) == 14 and name.lower() == b"content-length":
            self.content_length = int(value)  # the parser has validated it and refused duplicates
        elif len(name) == 6 and name.lower() == b"expect":
            self.expect = value

    def on_headers_complete(self) -> None:
        self.headers_done = True
        if self.content_length > self.max_body:
            raise _Refuse(413, "Content Too Large")
        if self.expect is not None:
            if self.expect.strip().lower() != b"100-continue":
                raise _Refuse(417, "Expectation Failed")
            if self.content_length != 0 and self.parser.get_http_version() != "1.0":
                if not self.queue and not self.busy:
                    self._write(_CONTINUE)
                else:
                    self.continue_wanted = True

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > self.max_body:
            raise _Refuse(413, "Content Too Large")
        if self.body is _NO_BODY:
            self.body = [body]
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        self.in_message = False
        self.continue_wanted = False
        if self.closing:
            return  # a response said "Connection: close": nothing after it is answered
        parser = self.parser
        body = self.body
        method = parser.get_method()
        target = self.url.decode("utf-8", "replace")
        path, _, query = target.partition("?")
        override, self.method_override = self.method_override, None
        request = Request(
            override or _METHOD_NAMES.get(method) or method.decode("ascii"),
            target,
            path,
            query,
            [(n.decode("utf-8", "replace"), v.decode("utf-8", "replace")) for n, v in self.headers],
            b"" if body is _NO_BODY else body[0] if len(body) == 1 else b"".join(body),
            parser.get_http_version(),
        )
        if parser.should_upgrade():
            # We speak no other protocol: answer this request normally, then close, since what
            # follows it on the connection is not HTTP/1.1.
            self.stopped_reading = True
            keep_alive = False
        else:
            keep_alive = parser.should_keep_alive()
        if not self.queue and not self.busy and not self.writing_paused:
            self._answer(request, keep_alive)  # the usual case: nothing ahead of it
            return
        self.queue.append((request, keep_alive))
        if len(self.queue) >= self.max_pipeline and not self.reading_paused and self.transport:
            self.reading_paused = True
            self.transport.pause_reading()
        if not self.busy:
            self._run_queue()

    # ------------------------------------------------------------------ answering

    def _run_queue(self) -> None:
        queue = self.queue
        while queue and not self.busy and not self.writing_paused and not self.closing:
            request, keep_alive = queue.popleft()
            if request is None:  # a refusal queued behind earlier requests
                self._write(keep_alive)
                self._close(linger=True)
                return
            self._answer(request, keep_alive)
        if not queue:
            if self.reading_paused and self.transport is not None and not self.stopped_reading:
                self.reading_paused = False
                self.transport.resume_reading()
            if self.continue_wanted and self.in_message and not self.busy:
                self.continue_wanted = False
                self._write(_CONTINUE)
            if self.stopped_reading and not self.busy and not self.closing:
                self._close()  # past an upgrade or EOF: nothing more will come

    def _answer(self, request: Request, keep_alive: bool) -> None:
        """Hand ``request`` to the responder; write the answer now, or when its future is done."""
        try:
            result = self.responder.handle(request)
        except Exception as exc:  # the responder answers errors itself; this is a defect
            _log_internal("request handling failed", exc)
            result = self.responder.internal_error()
        if isinstance(result, asyncio.Future):
            self.busy = True
            self.current = (request, keep_alive)
            result.add_done_callback(self._on_done)
        else:
            self._respond(request, result, keep_alive)

    def _on_done(self, future: asyncio.Future) -> None:
        self.busy = False
        current, self.current = self.current, None
        if self.transport is None or current is None:
            return  # the client went away; the handler's work is done and dropped
        try:
            response = future.result()
        except BaseException as exc:  # noqa: BLE001 - cancelled or a defect: still answer
            _log_internal("handler future failed", exc)
            response = self.responder.internal_error()
        self._respond(current[0], response, current[1])
        self._run_queue()

    def _respond(self, request: Request, response: Any, keep_alive: bool) -> None:
        if self.hub.draining or self.stopped_reading or self.last_response_due:
            # answer everything already received, then close after the last of it
            keep_alive = keep_alive and bool(self.queue)
        data, keep_alive = self.responder.render(request, response, keep_alive, self.peer)
        self._write(data)
        if not keep_alive:
            self._close()
        else:
            self.idle_since = self.hub.clock

    def _refuse(self, status: int, message: str) -> None:
        """Stop reading; answer earlier requests, then this refusal, then close (lingering so the
        client can read the answer even if it is still sending a body we will not read)."""
        if self.closing:
            return  # already ending (e.g. input after "Connection: close"): nothing more to say
        self.stopped_reading = True
        self.in_message = False
        data = self.responder.refusal(status, message)
        if self.queue or self.busy:
            self.queue.append((None, data))
            return
        self._write(data)
        self._close(linger=True)

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def _close(self, linger: bool = False) -> None:
        transport = self.transport
        if transport is None or self.closing:
            return
        self.closing = True
        self.stopped_reading = True
        self.queue.clear()
        if linger and transport.can_write_eof():
            # Half-close: the client sees our answer and EOF, and its remaining body is read and
            # dropped (closing with unread input would reset the connection and lose the answer).
            transport.write_eof()
            if self.reading_paused:
                transport.resume_reading()
            self.hub.loop.call_later(_LINGER_SECONDS, self._abort)
        else:
            transport.close()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------------ server-driven

    @property
    def idle(self) -> bool:
        """Nothing being read, run or queued on this connection."""
        return not self.in_message and not self.busy and not self.queue

    def check_timeouts(self, now: float) -> None:
        """The sweep calls this about once a second."""
        if self.closing or self.transport is None:
            return
        if self.in_message:
            if self.read_timeout and now - self.message_started > self.read_timeout:
                self._refuse(408, "Request Timeout")
        elif not self.busy and not self.queue:
            if now - self.idle_since > self.keepalive_timeout:
                self._close()

    def begin_drain(self, grace: float) -> None:
        """The server stopped accepting: finish what was received, close when done."""
        if self.closing or self.transport is None:
            return
        if self.idle:
            # a request may already be on its way: it gets ``grace`` seconds to arrive
            self.grace_handle = self.hub.loop.call_later(grace, self._close_if_idle)

    def close_after_response(self) -> None:
        """The response now being prepared, or the next one, is this connection's last: it says
        ``Connection: close`` and the connection closes after it (requests already received are
        answered first). The load balancing (``web/balance.py``) sheds connections of a worker
        far busier than the others this way: the client reconnects, and another worker takes it."""
        self.last_response_due = True

    def _close_if_idle(self) -> None:
        self.grace_handle = None
        if self.idle:
            self._close()

    def abort(self) -> None:
        """The drain deadline passed: close whatever state the connection is in."""
        if self.transport is not None:
            self.transport.abort()


def _log_internal(what: str, exc: BaseException) -> None:
    print(f"etamil-server: {what}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
