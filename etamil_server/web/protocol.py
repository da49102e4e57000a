"""HTTP/1.1 on one connection: httptools parses, this class frames the input into messages,
enforces limits, keeps pipelined responses in order and decides when the connection closes.

The protocol knows HTTP, not eTamil. It hands every complete request to its :class:`Responder`
(``web/responder.py`` provides the real one) and writes what comes back:

* ``responder.handle(request)`` returns a ``Response`` (the handler ran inline) or an
  ``asyncio.Future`` that resolves to one (the handler runs on a thread);
* ``responder.render(request, response, keep_alive, peer)`` returns ``(bytes, keep_alive)``: the
  serialised response and whether the connection may stay open after it (``peer`` is the client
  address when the server asked for it, for the access log);
* ``responder.refusal(status, message)`` returns the bytes of the server's own error answer
  (JSON body, ``Connection: close``) for a request that never reaches a handler.

State: the connection's :class:`~.phase.Phase` (``web/phase.py`` holds the table of moves), the
request being read (:class:`~.incoming.Incoming`, one per request), the queue of requests read
but not answered, and the flow control (``web/flow.py``).

Framing: the input is fed to the parser one message at a time, cut where a message can end (the
end of the header block, ``Content-Length`` bytes later, or after a ``CRLF CRLF`` of a chunked
body), so the protocol always knows where the next request line starts: a method word the parser
does not know is rewritten there whatever the reads look like (``g`` + ``et / HTTP/1.1``, or a
``FROB`` pipelined behind a GET), and a request is answered the same whole or in pieces.

Limits (settings in ``config.HttpSettings``): a target over ``max_target`` gets 414, a request
line plus headers over ``max_header`` 431, a body over ``max_body`` 413 — decided from
``Content-Length`` before the body is read, or while a chunked body arrives — and the handler never
runs. Conflicting ``Content-Length``/``Transfer-Encoding``, duplicate or signed ``Content-Length``,
obs-fold, bare CR or LF and NUL are refused by the parser (400). RFC 9112: a missing (HTTP/1.1),
repeated or invalid ``Host`` gets 400, a request line without a version 400, a version other than
1.x 505 (``web/incoming.py``). ``Expect: 100-continue`` is answered when the request's turn comes.

Pipelining: requests are answered strictly in arrival order, one at a time; while one runs on a
thread the later ones wait in ``queue`` (reading pauses when it grows past ``max_pipeline``).

Timeouts are checked by the server's once-a-second sweep (:meth:`check_timeouts`), not by a timer
per request: an idle keep-alive connection closes after ``keepalive_timeout``; a request whose
headers have not arrived ``header_timeout`` after its first byte (slowloris), or that has not
arrived whole after ``read_timeout``, gets 408; a peer that reads nothing of our answers for
``send_timeout`` is cut off.

Drain (:meth:`begin_drain`): a connection with work answers what it has already received and
closes after the last of it (that response carries ``Connection: close``); an idle one gets
``idle_grace`` seconds for a request already on its way, then closes.
:meth:`close_after_response` makes one connection's next response its last.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Protocol

import httptools

from ..config import HttpSettings
from .flow import FlowControl
from .incoming import KNOWN_METHODS, MORE, NO_BODY, NOT_A_METHOD, Incoming, head_problem, method_word
from .logs import ERROR_LOG
from .phase import READING, TRANSITIONS, Event, Phase, advance
from .request import Request

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LINGER_SECONDS = 2.0
_BLANK = b"\r\n\r\n"  # ends a header block, and a chunked body (after its last chunk or trailer)
_HEAD_SLACK = 1024  # the request line's method and version, beyond max_target + max_header

IDLE, HEAD, BODY, DONE, CLOSING, CLOSED = Phase.IDLE, Phase.HEAD, Phase.BODY, Phase.DONE, Phase.CLOSING, Phase.CLOSED
# the three moves every request makes, looked up in the table without a call (a KeyError is the
# same defect as advance()'s PhaseError, reported by _parse as a failed callback)
_ON_BEGIN, _ON_HEADERS, _ON_COMPLETE = Event.BEGIN, Event.HEADERS, Event.COMPLETE


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
    wants_peer: bool  # look up the client's address (only the access log needs it)

    def connection_opened(self, conn: HttpProtocol) -> None: ...

    def connection_closed(self, conn: HttpProtocol) -> None: ...


class _Refuse(Exception):
    """Raised inside a parser callback to refuse the request being read."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.status = status
        self.message = message


class HttpProtocol(asyncio.Protocol):
    def __init__(self, hub: Hub, limits: HttpSettings):
        self.hub = hub
        self.responder = hub.responder
        self.limits = limits
        self.max_body = limits.max_body
        self.max_header = limits.max_header
        self.max_target = limits.max_target
        self.head_guard = limits.max_header + limits.max_target + _HEAD_SLACK
        self.transport: asyncio.Transport | None = None
        self.flow = FlowControl(limits.max_pipeline, limits.max_body, limits.send_timeout)
        self.peer: str | None = None
        self.parser = httptools.HttpRequestParser(self)

        # the connection
        self.phase = IDLE
        self.idle_since = 0.0
        self.grace_handle: asyncio.TimerHandle | None = None
        self.last_response_due = False  # set by close_after_response: the next response ends the connection

        # the request being read: the parser's reports, and the framing's place in it
        self.incoming: Incoming | None = None
        self._word_pending = False  # HEAD: the method word has not reached the parser yet
        self._held = b""  # the start of a method word that may go on in the next read
        self._tail = b""  # the last bytes of the previous read, where a CRLF CRLF may begin
        self._head_bytes = 0
        self._started = 0.0  # hub clock at the first byte of the request being read
        self._good_host: bytes | None = None  # the last Host value head_problem passed
        self.continue_wanted = False  # a 100 Continue is owed once earlier responses are out

        # requests read but not answered yet, in order: (request, keep_alive) or (None, error bytes)
        self.queue: deque[tuple[Request | None, Any]] = deque()
        self.queued_bytes = 0
        self.current: tuple[Request, bool] | None = None  # the head request, running on a thread

    # ------------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = self.flow.transport = transport  # type: ignore[assignment]
        if self.hub.wants_peer:
            peer = transport.get_extra_info("peername")
            self.peer = peer[0] if isinstance(peer, tuple) else str(peer or "-")
        self.idle_since = self.hub.clock
        self.hub.connection_opened(self)
        if self.hub.draining:
            self.begin_drain(self.hub.drain_grace)

    def connection_lost(self, exc: Exception | None) -> None:
        self.phase = advance(self.phase, Event.LOST)
        self.transport = None
        self.queue.clear()
        if self.grace_handle is not None:
            self.grace_handle.cancel()
            self.grace_handle = None
        self.hub.connection_closed(self)

    def data_received(self, data: bytes) -> None:
        if self.phase is IDLE and data.find(_BLANK) == len(data) - 4 and data[: data.find(b" ", 0, 8)] in KNOWN_METHODS:
            # the usual read: one whole head, nothing after it, a method the parser knows (what
            # _begin, _method and _feed_head would do, in one step)
            self.phase = TRANSITIONS[IDLE][_ON_BEGIN]
            self._word_pending = False
            self._tail = b""
            self.incoming = Incoming(None, self.hub.clock)
            self._parse(data)
            if self.phase is HEAD:
                self._refuse(400, "Bad Request")  # see _feed_head
            return
        # Each step feeds the parser at most one message's worth and returns what follows it.
        while data:
            phase = self.phase
            if phase is IDLE:
                data = self._begin(data)
            elif phase is HEAD:
                data = self._feed_head(data)
            elif phase is BODY:
                data = self._feed_body(data)
            else:
                return  # lingering after a refusal, past an upgrade or a close: input is dropped

    def pause_writing(self) -> None:
        self.flow.writing_paused = True

    def resume_writing(self) -> None:
        self.flow.writing_paused = False
        self._run_queue()

    def eof_received(self) -> bool | None:
        # The client will send nothing more: a request it had begun is dropped; answer what was
        # read (the transport closes once the queue is done because keep-alive is then pointless).
        self.incoming = None
        if self.phase in READING:
            self.phase = advance(self.phase, Event.STOP)
        if not self.queue and self.current is None:
            return None  # close now
        return True  # keep the transport open until our responses are out

    # ------------------------------------------------------------------ framing

    def _begin(self, data: bytes) -> bytes:
        """IDLE: skip the empty lines a client may send between requests; any other byte begins
        a request."""
        if data[0] in (13, 10):
            data = data.lstrip(b"\r\n")
            if not data:
                return data
        self.phase = TRANSITIONS[IDLE][_ON_BEGIN]
        self.incoming = None
        self._word_pending = True
        self._held = self._tail = b""
        self._head_bytes = 0
        self._started = self.hub.clock
        return data

    def _feed_head(self, data: bytes) -> bytes:
        """HEAD: feed up to the end of the header block (the first CRLF CRLF)."""
        if self._word_pending:
            data = self._method(data)
            if not data:
                return data
        tail = self._tail
        at = (tail + data).find(_BLANK) if tail else data.find(_BLANK)
        if at < 0:
            self._head_bytes += len(data)
            if self._head_bytes > self.head_guard:
                # httptools holds a header line until it ends, out of our sight: bound it here
                self._refuse(431, "Request Header Fields Too Large")
                return b""
            self._tail = (tail + data)[-3:]
            self._parse(data)
            return b""
        end = at + 4 - len(tail)
        self._tail = b""
        piece, rest = (data, b"") if end == len(data) else (data[:end], data[end:])
        self._parse(piece)
        if self.phase is HEAD:
            # the parser saw no end of the header block where it ends: the two disagree about the
            # framing, which is how requests are smuggled
            self._refuse(400, "Bad Request")
        return rest

    def _method(self, data: bytes) -> bytes:
        """Show the parser the method word it knows (see ``web/incoming.py``); b"" while the word
        may go on in the next read."""
        if self._held:
            data = self._held + data
            self._held = b""
        end = method_word(data)
        if end == MORE:
            if len(data) > self.head_guard:
                self._refuse(431, "Request Header Fields Too Large")
            else:
                self._held = data
            return b""
        self._word_pending = False
        if end == NOT_A_METHOD:
            self._refuse(400, "Bad Request")
            return b""
        word = data[:end]
        if word in KNOWN_METHODS:
            self.incoming = Incoming(None, self._started)
            return data
        self.incoming = Incoming(word.decode("ascii"), self._started)
        return b"GET" + data[end:]

    def _feed_body(self, data: bytes) -> bytes:
        """BODY: feed the rest of the body, and no further."""
        incoming = self.incoming
        assert incoming is not None
        if incoming.content_length >= 0:
            left = incoming.content_length - incoming.body_size
            if left >= len(data):
                self._parse(data)
                return b""
            self._parse(data[:left])
            if self.phase is BODY:
                self._refuse(400, "Bad Request")  # the parser disagrees with Content-Length
            return data[left:]
        # chunked: the body ends right after a CRLF CRLF (its last chunk, or its trailer)
        tail = self._tail
        at = (tail + data).find(_BLANK) if tail else data.find(_BLANK)
        if at < 0:
            self._tail = (tail + data)[-3:]
            self._parse(data)
            return b""
        end = at + 4 - len(tail)
        self._tail = b""
        self._parse(data[:end])
        return data[end:]

    def _parse(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Refuse):
                self._refuse(cause.status, cause.message)
            elif cause is not None and not isinstance(cause, Exception):
                raise cause from None  # SystemExit (gunicorn's ABRT handler) and the like: not ours
            else:
                _log_internal("HTTP parser callback failed", cause or exc)
                self._refuse(500, "Internal Server Error")
        except httptools.HttpParserUpgrade:
            pass  # on_message_complete has seen it (should_upgrade) and stopped reading
        except httptools.HttpParserError as exc:
            # every method word the parser sees is one it knows (see _method), so an invalid
            # method is bytes that are no method word: 400, like any other malformed input
            self._refuse(400, str(exc) or "Bad Request")

    # ------------------------------------------------------------------ httptools callbacks

    def on_url(self, url: bytes) -> None:
        incoming = self.incoming
        incoming.url += url  # may arrive in pieces
        if len(incoming.url) > self.max_target:
            raise _Refuse(414, "URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        incoming = self.incoming
        assert incoming is not None
        if self.phase is not HEAD:
            return  # a trailer of a chunked body: not a header of the request, and dropped
        incoming.header_size += len(name) + len(value) + 4
        if incoming.header_size + len(incoming.url) > self.max_header:
            raise _Refuse(431, "Request Header Fields Too Large")
        incoming.headers.append((name, value))
        size = len(name)
        if size == 4 and name.lower() == b"host":
            incoming.hosts += 1
            incoming.host = value
        elif size == 14 and name.lower() == b"content-length":
            incoming.content_length = int(value)  # the parser has validated it and refused duplicates
        elif size == 6 and name.lower() == b"expect":
            incoming.expect = value

    def on_headers_complete(self) -> None:
        self.phase = TRANSITIONS[self.phase][_ON_HEADERS]
        incoming = self.incoming
        assert incoming is not None
        incoming.version = version = self.parser.get_http_version()
        if incoming.hosts != 1 or incoming.host != self._good_host or version != "1.1":
            # a keep-alive client sends the same Host every time: checked once per connection
            problem = head_problem(incoming)
            if problem is not None:
                raise _Refuse(*problem)
            if version == "1.1":
                self._good_host = incoming.host
        if incoming.content_length > self.max_body:
            raise _Refuse(413, "Content Too Large")
        if incoming.expect is not None:
            if incoming.expect.strip().lower() != b"100-continue":
                raise _Refuse(417, "Expectation Failed")
            if incoming.content_length != 0 and incoming.version != "1.0":
                if not self.queue and self.current is None:
                    self._write(_CONTINUE)
                else:
                    self.continue_wanted = True

    def on_body(self, body: bytes) -> None:
        incoming = self.incoming
        assert incoming is not None
        incoming.body_size += len(body)
        if incoming.body_size > self.max_body:
            raise _Refuse(413, "Content Too Large")
        if incoming.body is NO_BODY:
            incoming.body = [body]
        else:
            incoming.body.append(body)

    def on_message_complete(self) -> None:
        self.phase = TRANSITIONS[self.phase][_ON_COMPLETE]
        self.continue_wanted = False
        incoming, self.incoming = self.incoming, None
        assert incoming is not None
        parser = self.parser
        request = incoming.request(parser.get_method())
        if parser.should_upgrade():
            # We speak no other protocol: answer this request normally, then close, since what
            # follows it on the connection is not HTTP/1.1.
            self.phase = advance(self.phase, Event.STOP)
            keep_alive = False
        else:
            keep_alive = parser.should_keep_alive()
        if not self.queue and self.current is None and not self.flow.writing_paused:
            self._answer(request, keep_alive)  # the usual case: nothing ahead of it
            return
        self.queue.append((request, keep_alive))
        self.queued_bytes += len(request.body)
        self.flow.backlog_grew(len(self.queue), self.queued_bytes)
        if self.current is None:
            self._run_queue()

    # ------------------------------------------------------------------ answering

    def _run_queue(self) -> None:
        queue = self.queue
        flow = self.flow
        assert flow is not None
        while queue and self.current is None and not flow.writing_paused and self.phase is not CLOSING:
            request, keep_alive = queue.popleft()
            if request is None:  # a refusal queued behind earlier requests
                self._write(keep_alive)
                self._close(linger=True)
                return
            self.queued_bytes -= len(request.body)
            self._answer(request, keep_alive)
        if queue or self.current is not None:
            return
        self.queued_bytes = 0
        phase = self.phase
        flow.backlog_drained(phase in READING)
        if self.continue_wanted and phase is BODY:
            self.continue_wanted = False
            self._write(_CONTINUE)
        if phase is DONE:
            self._close()  # past an upgrade or EOF: nothing more will come

    def _answer(self, request: Request, keep_alive: bool) -> None:
        """Hand ``request`` to the responder; write the answer now, or when its future is done."""
        try:
            result = self.responder.handle(request)
        except Exception as exc:  # the responder answers errors itself; this is a defect
            _log_internal("request handling failed", exc)
            result = self.responder.internal_error()
        if isinstance(result, asyncio.Future):
            self.current = (request, keep_alive)
            result.add_done_callback(self._on_done)
        else:
            self._respond(request, result, keep_alive)

    def _on_done(self, future: asyncio.Future) -> None:
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
        if self.hub.draining or self.last_response_due or self.phase is DONE:
            # answer everything already received, then close after the last of it
            keep_alive = keep_alive and bool(self.queue)
        data, keep_alive = self.responder.render(request, response, keep_alive, self.peer)
        self.flow.write(data)  # the transport is there: _on_done returns early without it
        if not keep_alive:
            # linger unless the client has finished sending: it may have pipelined more behind
            # this request, and closing on unread input resets the connection, which can destroy
            # this answer before the client reads it
            self._close(linger=self.phase is not DONE)
        else:
            self.idle_since = self.hub.clock

    def _refuse(self, status: int, message: str) -> None:
        """Stop reading; answer earlier requests, then this refusal, then close (lingering so the
        client can read the answer even if it is still sending a body we will not read)."""
        if self.phase not in READING:
            return  # already ending (e.g. input after "Connection: close"): nothing more to say
        self.phase = advance(self.phase, Event.STOP)
        self.incoming = None
        data = self.responder.refusal(status, message)
        if self.queue or self.current is not None:
            self.queue.append((None, data))
            return
        self._write(data)
        self._close(linger=True)

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.flow.write(data)

    def _close(self, linger: bool = False) -> None:
        transport = self.transport
        if transport is None or self.phase is CLOSING:
            return
        self.phase = advance(self.phase, Event.CLOSE)
        self.queue.clear()
        if linger and transport.can_write_eof():
            # Half-close: the client sees our answer and EOF, and its remaining body is read and
            # dropped (closing with unread input would reset the connection and lose the answer).
            transport.write_eof()
            self.flow.read_to_discard()
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
        return self.phase is IDLE and self.current is None and not self.queue

    def check_timeouts(self, now: float) -> None:
        """The sweep calls this about once a second."""
        phase = self.phase
        if phase is CLOSED or self.transport is None:
            return
        if self.flow.stalled(now):
            self.flow.cut_off()  # the peer reads nothing: drop it, and the answers it pins
            return
        if phase is HEAD:
            limits = self.limits
            waited = now - self._started
            if (limits.header_timeout and waited > limits.header_timeout) or (
                limits.read_timeout and waited > limits.read_timeout
            ):
                self._refuse(408, "Request Timeout")
        elif phase is BODY:
            if self.limits.read_timeout and now - self.incoming.started > self.limits.read_timeout:
                self._refuse(408, "Request Timeout")
        elif phase is IDLE and self.current is None and not self.queue:
            if now - self.idle_since > self.limits.keepalive_timeout:
                self._close()

    def begin_drain(self, grace: float) -> None:
        """The server stopped accepting: finish what was received, close when done."""
        if self.phase is CLOSING or self.transport is None:
            return
        if self.idle:
            # a request may already be on its way: it gets ``grace`` seconds to arrive
            self.grace_handle = self.hub.loop.call_later(grace, self._close_if_idle)

    def close_after_response(self) -> None:
        """The response now being prepared, or the next one, is this connection's last: it says
        ``Connection: close`` and the connection closes after it (requests already received are
        answered first). An idle connection is not cut: its next request is answered. The load
        balancing (``web/balance.py``) sheds connections of a worker far busier than the others
        this way: the client reconnects, and another worker takes it."""
        self.last_response_due = True

    def _close_if_idle(self) -> None:
        self.grace_handle = None
        if self.idle:
            self._close()

    def abort(self) -> None:
        """The drain deadline passed, or the peer stopped reading: close whatever state the
        connection is in."""
        if self.transport is not None:
            self.transport.abort()


def _log_internal(what: str, exc: BaseException) -> None:
    ERROR_LOG.error("etamil-server: %s: %s: %s", what, type(exc).__name__, exc)
