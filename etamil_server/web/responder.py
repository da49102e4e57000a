"""The glue between the HTTP protocol and an eTamil app: decide, run, serialise.

``handle`` asks the app who answers (:meth:`App.dispatch`, with the server's own endpoints), then
either returns the answer at once, runs a handler that cannot block inline on the loop (no thread
hop), or sends one that can block to the VM pool's executor and returns a future. ``render``
serialises in "ours" mode (real reason phrases, Date, Server, Connection; no body where HTTP has
none) and turns a header with CR or LF into a logged 500 instead of writing it.

Per-worker concurrency cap: at most ``max_concurrency`` handlers wait on the executor; beyond it
the answer is 503 with ``Connection: close`` (the client retries elsewhere; this worker sheds load
instead of queueing without bound). A threaded handler that has not answered shortly after its
deadline (it is stuck where the deadline cannot reach it, such as inside a database call) gets a
503 from here; its thread finishes on its own.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from ..base.errors import DeadlineExceeded, EtamilExit
from ..runtime.context import RunContext
from .accesslog import AccessLog
from .app import App
from .endpoints import ServerEndpoints
from .logs import ERROR_LOG
from .metrics import Metrics
from .request import Request
from .response import HeaderInjection, Response, body_allowed, error_body, error_response, serialize
from .vmpool import VmPool

_HEAD_CACHE_SIZE = 512
# seconds past the deadline before the loop answers for a handler that did not stop by itself
_LATE_MARGIN = 1.0


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
        self.endpoints = ServerEndpoints(hub.readiness, self._metrics_page if metrics is not None else None)
        # the server's own answers that also end the connection (compared by identity)
        self.overloaded = error_response(503, error_body("Service Unavailable: too many requests in progress"))
        self.failed = error_response(500, error_body("Internal Server Error"))
        self.refused_header = error_response(500, error_body("Internal Server Error: invalid response header"))
        self._heads: dict[tuple, bytes] = {}
        self._cache_date: bytes | None = None
        self.late = error_response(503, error_body(deadline_message(deadline))) if deadline else None

    @property
    def busy(self) -> int:
        return self.pool.in_executor

    # ------------------------------------------------------------------ Responder interface

    def handle(self, request: Request) -> Response | asyncio.Future:
        app = self.app
        if self.access_log is not None:
            self.access_log.started(request)
        if self.metrics is not None:
            self.metrics.started(request)
        dispatch = app.dispatch(request, self.endpoints)
        route = dispatch.route
        self.served += 1
        if route is None:
            return dispatch.response
        if not route.blocking:
            # inline on the loop thread: the pool's run_inline, written out (the hot path)
            pool = self.pool
            watchdog = pool.watchdog
            ctx = pool.acquire()
            watchdog.arm(ctx)
            try:
                return app.run_route(dispatch, request, ctx)
            except EtamilExit as exc:
                self.hub.exit_process(exc.status)
                return self.failed
            finally:
                watchdog.disarm(ctx)
                pool.give_back(ctx)
        if self.pool.in_executor >= self.max_concurrency:
            return self.overloaded
        inner = self.pool.submit(lambda ctx: app.run_route(dispatch, request, ctx))
        outer = self.loop.create_future()
        timer = self.loop.call_later(self.deadline + _LATE_MARGIN, self._too_late, outer) if self.deadline else None
        inner.add_done_callback(lambda done: self._settle(outer, done, timer))
        return outer

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
        head = self._heads.get(key)
        if head is None:
            try:
                head = self._serialize_head(response, keep_alive, request.http_version)
            except HeaderInjection as exc:
                ERROR_LOG.error("❌ %s (answered 500, not written)", exc)
                response = self.refused_header
                body = response.body
                head = self._serialize_head(response, keep_alive, request.http_version)
            else:
                self._heads[key] = head
        data = head + body if body_allowed(request.method, response.status) else head
        if self.access_log is not None:
            self.access_log(request, response, len(data), peer)
        if self.metrics is not None:
            self.metrics.answered(request, response.status)
        return data, keep_alive

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
        return serialize(
            error_response(status, error_body(message)),
            mode="ours",
            keep_alive=False,
            date=self.hub.date,
            server_name=self.server_name,
        )

    def internal_error(self) -> Response:
        return self.failed

    # ------------------------------------------------------------------ threaded handlers

    def _settle(self, outer: asyncio.Future, inner: asyncio.Future, timer: asyncio.TimerHandle | None) -> None:
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
            ERROR_LOG.error("❌ Handler task failed: %s: %s", type(exc).__name__, exc)
            outer.set_result(self.failed)

    def _metrics_page(self) -> asyncio.Future:
        """``/metrics``: every worker's samples, read on the executor."""
        from .metrics import exposition

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

