"""The glue between the HTTP protocol and an eTamil app: decide, run, serialise.

``handle`` asks the app who answers (:meth:`App.dispatch`, with the server's own endpoints), then
either returns the answer at once, runs a handler that cannot block inline on the loop (no thread
hop), or sends one that can block to the VM pool's executor and returns a future. ``render``
serialises in "ours" mode (real reason phrases, Date, Server, Connection; no body where HTTP has
none) and turns a header with CR or LF into a logged 500 instead of writing it.

Every request gets an id as it is taken (``web/request_ids.py``: the client's ``X-Request-Id``
when it is safe, else a generated one); every answer carries it as ``X-Request-Id`` (unless the
handler set that header itself), and so do the access line and the handler-error lines. The id
is not part of the cached response head: it is written after the cached part, in one join.

Metrics (``web/metrics.py``): ``render`` counts each answer in the metrics' plain-Python tally by
route pattern, method and status, with its latency; the sweep moves the tally into the shared
files. The timing (one clock read when a request is taken, one when it is answered) is only taken
when the access log or the metrics are on.

Per-worker concurrency cap: at most ``max_concurrency`` handlers wait on the executor; beyond it
the answer is 503 with ``Connection: close`` (the client retries elsewhere; this worker sheds load
instead of queueing without bound). A threaded handler that has not answered shortly after its
deadline (it is stuck where the deadline cannot reach it, such as inside a database call) gets a
503 from here; its thread finishes on its own.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Protocol

from ..base.errors import DeadlineExceeded, EtamilExit
from ..runtime.context import HeldOutput, OverBudget, RunContext
from .accesslog import AccessLog
from .app import App, Dispatch
from .endpoints import ServerEndpoints
from .logs import ERROR_LOG, handler_fields
from .metrics import INTERNAL, OTHER_METHOD, REFUSED, Metrics, method_label, server_answer_label
from .request import Request
from .request_ids import HEADER as REQUEST_ID_HEADER
from .request_ids import HEADER_LOWER as REQUEST_ID_LOWER
from .request_ids import RequestIds
from .response import HeaderInjection, Response, body_allowed, error_body, error_response, serialize
from .vmpool import VmPool

_HEAD_CACHE_SIZE = 512
# seconds past the deadline before the loop answers for a handler that did not stop by itself
_LATE_MARGIN = 1.0
# the least deadline a handler moved off the loop gets for its second run (seconds)
_LEAST_LEFT = 0.05


def deadline_message(seconds: float) -> str:
    """The text of a passed deadline, as the runtime words it."""
    ctx = RunContext()
    ctx.deadline_seconds = seconds
    try:
        ctx.stopped()
    except DeadlineExceeded as exc:
        return exc.message
    return "deadline"  # unreachable: stopped() always raises


class ResponderHub(Protocol):
    """What the responder needs from its server (``web/server.py``)."""

    date: bytes  # the current HTTP date, refreshed by the sweep

    def readiness(self) -> str | None: ...

    def exit_process(self, status: int) -> None: ...


class AppResponder:
    def __init__(
        self,
        app: App,
        pool: VmPool,
        hub: ResponderHub,
        *,
        deadline: float,
        max_concurrency: int,
        server_name: str,
        access_log: AccessLog | None = None,
        metrics: Metrics | None = None,
        request_ids: RequestIds | None = None,
    ):
        self.app = app
        self.pool = pool
        self.hub = hub
        self.loop = pool.loop
        self.deadline = deadline
        self.max_concurrency = max(1, max_concurrency)
        self.server_name = server_name.encode("latin-1", "replace")
        self.served = 0
        self.access_log = access_log
        self.metrics = metrics
        self.tally = metrics.tally if metrics is not None else None
        self.timed = access_log is not None or metrics is not None
        self.ids = request_ids if request_ids is not None else RequestIds()
        self.in_flight = 0  # requests whose handler runs on the executor
        self.endpoints = ServerEndpoints(hub.readiness, self._metrics_page if metrics is not None else None)
        # the server's own answers that also end the connection (compared by identity)
        self.overloaded = error_response(503, error_body("Service Unavailable: too many requests in progress"))
        self.failed = error_response(500, error_body("Internal Server Error"))
        self.refused_header = error_response(500, error_body("Internal Server Error: invalid response header"))
        # (head, handler set X-Request-Id): the whole head then, else the head without its last
        # CRLF (the request id line goes there)
        self._heads: dict[tuple, tuple[bytes, bool]] = {}
        self._cache_date: bytes | None = None
        self.late = error_response(503, error_body(deadline_message(deadline))) if deadline else None
        self.held = HeldOutput()  # the printed text of the inline run (one at a time: the loop's)

    @property
    def busy(self) -> int:
        return self.pool.in_executor

    # ------------------------------------------------------------------ Responder interface

    def handle(self, request: Request) -> Response | asyncio.Future:
        app = self.app
        if self.timed:
            request.received = monotonic()
        request.request_id = self.ids.for_request(request.headers)
        dispatch = app.dispatch(request, self.endpoints)
        route = dispatch.route
        self.served += 1
        if route is None:
            response = dispatch.response
            status = response.status if isinstance(response, Response) else 200  # a future: /metrics
            request.route = server_answer_label(status, request.path, self.endpoints.paths)
            return response
        request.route = route.path
        if not route.blocking:
            # inline on the loop thread: the pool's run_inline, written out (the hot path), with
            # the printed text held back until the run ends (it may be run again, see below)
            pool = self.pool
            watchdog = pool.watchdog
            ctx = pool.acquire()
            stream = ctx.stdout
            held = self.held
            ctx.stdout = held
            watchdog.arm_inline(ctx)
            over_budget_since = None
            try:
                response = app.run_route(dispatch, request, ctx)
            except OverBudget as spent:
                # it held the loop past its budget: what it did is dropped (the text it printed,
                # its response variables with its context) and it runs again on the executor,
                # once this block is left: the exception's traceback holds the first run's frames,
                # and with them what it built (a runaway's texts), until then
                held.drop()
                over_budget_since = spent.started
            except EtamilExit as exc:
                held.pass_on(stream)
                self.hub.exit_process(exc.status)
                return self.failed
            finally:
                watchdog.disarm_inline(ctx)
                ctx.stdout = stream
                pool.give_back(ctx)
            if over_budget_since is not None:
                return self._threaded(dispatch, request, self._left(over_budget_since))
            if held.parts:
                held.pass_on(stream)
            return response
        return self._threaded(dispatch, request, self.deadline)

    def render(
        self, request: Request, response: Response, keep_alive: bool, peer: str | None = None
    ) -> tuple[bytes, bool]:
        if response is self.overloaded or response is self.failed:
            keep_alive = False
        body = response.body
        # The head of a response depends only on these (and on the Date, which clears the cache
        # when it changes), so it is serialised once and reused: most routes answer with the
        # same status, headers and often the same length again and again.
        key = (response.status, tuple(response.headers), len(body), keep_alive, request.http_version)
        if self._cache_date is not self.hub.date or len(self._heads) > _HEAD_CACHE_SIZE:
            self._heads.clear()
            self._cache_date = self.hub.date
        cached = self._heads.get(key)
        if cached is None:
            try:
                cached = self._head(response, keep_alive, request.http_version)
            except HeaderInjection as exc:
                ERROR_LOG.error("❌ %s (answered 500, not written) %s", exc, self._fields(request))
                response = self.refused_header
                body = response.body
                cached = self._head(response, keep_alive, request.http_version)
            else:
                self._heads[key] = cached
        head, own_id = cached
        request_id = request.request_id
        if not request_id:  # handle() failed before it gave the request an id
            request_id = request.request_id = self.ids.new()
        if not body_allowed(request.method, response.status):
            body = b""
        if own_id:
            data = head + body if body else head
        else:
            data = b"".join((head, b"X-Request-Id: ", request_id.encode(), b"\r\n\r\n", body))
        if self.timed:
            received = request.received
            seconds = monotonic() - received if received else 0.0
            if self.access_log is not None:
                self.access_log(request, response, len(data), peer, seconds)
            tally = self.tally
            if tally is not None:
                tally.answered(
                    request.route or INTERNAL, method_label(request.method), response.status, seconds if received else None
                )
        return data, keep_alive

    def _head(self, response: Response, keep_alive: bool, http_version: str) -> tuple[bytes, bool]:
        head = self._serialize_head(response, keep_alive, http_version)
        if any(name.lower() == REQUEST_ID_LOWER for name, _ in response.headers):
            return head, True
        return head[:-2], False

    @staticmethod
    def _fields(request: Request) -> str:
        route = f"{request.method.upper()} {request.route}" if request.route.startswith("/") else request.route
        return handler_fields(route=route, request_id=request.request_id)

    def _serialize_head(self, response: Response, keep_alive: bool, http_version: str) -> bytes:
        return serialize(
            response,
            mode="ours",
            keep_alive=keep_alive,
            head=True,
            date=self.hub.date,
            server_name=self.server_name,
            http_version=http_version,
        )

    def refusal(self, status: int, message: str) -> bytes:
        """A request the protocol refused before any route was chosen: it gets a fresh id (the
        request's own header was never read whole) and is counted under ``refused``."""
        if self.tally is not None:
            self.tally.answered(REFUSED, OTHER_METHOD, status, None)
        return serialize(
            error_response(status, error_body(message), [(REQUEST_ID_HEADER, self.ids.new())]),
            mode="ours",
            keep_alive=False,
            date=self.hub.date,
            server_name=self.server_name,
        )

    def internal_error(self) -> Response:
        return self.failed

    # ------------------------------------------------------------------ threaded handlers

    def _threaded(self, dispatch: Dispatch, request: Request, deadline: float) -> Response | asyncio.Future:
        """Run the route on the executor with ``deadline`` seconds left of the handler deadline
        (0: none); past them by the margin the loop answers 503 itself."""
        if self.pool.in_executor >= self.max_concurrency:
            return self.overloaded
        app = self.app
        full = self.deadline

        def run(ctx: RunContext) -> Response:
            ctx.deadline_seconds = full  # a run moved off the loop reports the deadline it was given
            return app.run_route(dispatch, request, ctx)

        inner = self.pool.submit(run, deadline)
        self.in_flight += 1
        outer = self.loop.create_future()
        timer = self.loop.call_later(deadline + _LATE_MARGIN, self._too_late, outer) if full else None
        inner.add_done_callback(lambda done: self._settle(outer, done, timer, request))
        return outer

    def _left(self, started: float) -> float:
        """What is left of the deadline of a run that started at ``started`` (at least a little,
        so the run again gets its chance to answer; 0: no deadline)."""
        if not self.deadline:
            return 0.0
        return max(self.deadline - (monotonic() - started), _LEAST_LEFT)

    def _settle(
        self, outer: asyncio.Future, inner: asyncio.Future, timer: asyncio.TimerHandle | None, request: Request
    ) -> None:
        self.in_flight -= 1
        if timer is not None:
            timer.cancel()
        if outer.done():
            return  # answered already (too late); the result is dropped
        if inner.cancelled():
            outer.set_result(self.failed)
            return
        exc = inner.exception()
        if exc is None:
            outer.set_result(inner.result())
        elif isinstance(exc, EtamilExit):
            self.hub.exit_process(exc.status)
            outer.set_result(self.failed)
        else:
            ERROR_LOG.error("❌ Handler task failed: %s: %s %s", type(exc).__name__, exc, self._fields(request))
            outer.set_result(self.failed)

    def _metrics_page(self) -> asyncio.Future:
        """``/metrics``: every worker's samples, read on the executor."""
        from .metrics import exposition

        if self.metrics is not None:
            self.metrics.flush()  # this worker's own counts are current on its own page
        outer = self.loop.create_future()

        def done(inner: asyncio.Future) -> None:
            if inner.cancelled() or inner.exception() is not None:
                outer.set_result(self.failed)
            else:
                body, content_type = inner.result()
                outer.set_result(Response(200, [("Content-Type", content_type)], body, reason="OK"))

        self.loop.run_in_executor(self.pool.executor, exposition).add_done_callback(done)
        return outer

    def _too_late(self, outer: asyncio.Future) -> None:
        if not outer.done():
            outer.set_result(self.late)

