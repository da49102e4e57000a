"""The per-process server loop: listening sockets, the connections, the once-a-second sweep,
readiness, and the staged drain. The gunicorn worker (``workers/``) and ``etamil serve`` /
``etamil --async`` (``web/serve.py``) both run this, so they cannot drift apart.

The sweep (every second, on the loop): refresh the cached clock and ``Date``, close idle
keep-alive connections and time out slow requests, let the timers try for leadership, and call the
tick hooks (the worker's heartbeat to the master, the process title, ``max_requests``, the
metrics' gauges and the move of the request counts into the shared files). It keeps running
during a drain, so the heartbeat does too.

Staged drain (:meth:`Server.begin_drain`, SIGTERM):

1. stop accepting (close this process's listening servers; other workers and the master keep the
   shared socket, so nothing queued in the kernel is lost);
2. readiness answers 503;
3. every response to a request already received carries ``Connection: close`` (the last one on
   each connection) and the connection closes after it;
4. an idle keep-alive connection gets ``idle_grace`` for a request already on its way (answered
   with ``Connection: close``), then closes;
5. handlers in flight finish;
6. at the deadline (``graceful_timeout`` minus ``margin``) whatever is left is closed and running
   handlers are told to stop;
7. the VM pool, the executor and the database pools are closed; ``run`` returns 0.

:meth:`Server.stop_now` is the fast stop (QUIT/INT): close everything at once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from collections.abc import Callable, Iterable

from ..base.terminal import exit_now
from ..config import Settings
from ..runtime import limits
from .accesslog import AccessLog
from .app import App
from .balance import PATIENCE, Share
from .logs import ERROR_LOG, close_access, configure_access
from .malloc import fix_mmap_threshold
from .metrics import Metrics, WorkerSample
from .protocol import HttpProtocol
from .resources import close_databases, database_unavailable, database_usage
from .responder import AppResponder
from .response import http_date
from .timers import TimerRunner, cluster_leadership
from .vmpool import VmPool

SWEEP_SECONDS = 1.0
ACCEPT_BATCH = 64  # connections accepted per wake-up of the loop, at most
DATABASE_PROBE_SECONDS = 2.0


class Server:
    def __init__(
        self,
        app: App,
        settings: Settings,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        server_id: str | None = None,
        share: Share | None = None,
    ):
        """``share``: this worker's place in the load table of the workers sharing the listening
        socket (gunicorn); None in one process, where every waiting connection is accepted."""
        self.loop = loop or asyncio.get_event_loop()
        self.settings = settings
        self.http = settings.http
        self.draining = False
        self.drain_grace = settings.drain.idle_grace
        self.clock = self.loop.time()
        self.date = http_date()
        self.connections: set[HttpProtocol] = set()
        self.listeners: list[asyncio.AbstractServer] = []
        self._sockets: list[socket.socket] = []
        self._readers: list[int] = []  # listening descriptors we accept on ourselves
        self._adopting = 0  # accepted connections not yet connected to a protocol
        self.share = share
        self.tick_hooks: list[Callable[[], None]] = []
        self.database_reason: str | None = None
        self.exit_status = 0
        execution = settings.execution
        limits.apply(settings.limits)  # the process's runs, handlers and timers alike
        fix_mmap_threshold()  # a large text freed goes back to the system (web/malloc.py)
        self.pool = VmPool(execution.pool_size, execution.executor_threads, execution.handler_deadline, self.loop,
                           inline_budget=execution.inline_budget_ms / 1000)
        access_log = None
        if settings.log.access_log:
            configure_access(settings.log.access_log)
            access_log = AccessLog(settings.log.format)
        metrics = Metrics() if settings.metrics.enabled else None
        self.responder = AppResponder(
            app,
            self.pool,
            self,
            deadline=execution.handler_deadline,
            max_concurrency=execution.max_concurrency,
            server_name=settings.http.server_header,
            access_log=access_log,
            metrics=metrics,
        )
        self.timers = TimerRunner(
            app.timers,
            self.loop,
            self.pool.submit,
            server_id or str(os.getpid()),
            settings.process.state_dir,
            on_exit=self.exit_process,
            cluster=cluster_leadership(app),
        )
        #: connections look up the client's address only when the access log needs it
        self.wants_peer = access_log is not None
        if access_log is not None:
            self.tick_hooks.append(access_log.flush)
        if metrics is not None:
            self.tick_hooks.append(self.sample_metrics)
        self.done: asyncio.Future = self.loop.create_future()
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._drain_task: asyncio.Task | None = None
        self._probing = False
        self._next_probe = 0.0

    # ------------------------------------------------------------------ running

    @property
    def app(self) -> App:
        return self.responder.app

    def set_app(self, app: App) -> None:
        """Serve a reloaded program from now on (requests in flight finish on the old one)."""
        self.responder.app = app
        self.timers.replace(app.timers)

    async def start(self, sockets: Iterable[socket.socket]) -> None:
        """Listen on already bound sockets (gunicorn's, or ones ``serve.py`` made)."""
        backlog = self.settings.process.backlog
        for sock in sockets:
            self._sockets.append(sock)  # closed by _stop_listening: this process stops accepting
            if self.http.balance_accept:
                self._accept_balanced(sock)
            else:
                # uvloop closes the descriptor it is given when the server closes, behind the
                # socket object's back: it gets a duplicate
                listener = await self.loop.create_server(self._protocol, sock=sock.dup(), backlog=backlog)
                self.listeners.append(listener)
        if self.draining:  # a stop arrived while we were starting
            self._stop_listening()
        self._sweep_handle = self.loop.call_later(SWEEP_SECONDS, self._sweep)
        self.timers.poll()
        self._probe_database()
        self._sample_safely()  # this worker's gauges exist from its first second

    def _accept_balanced(self, sock: socket.socket) -> None:
        """Accept connections ourselves, so that workers sharing the socket take turns
        (``web/balance.py``): at most ``ACCEPT_BATCH`` per wake-up, and with a load table only
        while this worker is not busier than the least loaded other one."""
        sock.setblocking(False)
        fd = sock.fileno()
        declined_since: float | None = None
        least_seen: int | None = None

        def acceptable() -> None:
            nonlocal declined_since, least_seen
            share = self.share
            if share is not None and not share.may_accept(len(self.connections) + self._adopting):
                now = self.loop.time()
                least = share.least_other()
                if declined_since is None or least != least_seen:
                    declined_since, least_seen = now, least  # the others are taking them
                if now - declined_since < PATIENCE:
                    # let a less loaded worker take it; look again shortly (not at once: the
                    # socket stays readable and the loop would spin)
                    self.loop.remove_reader(fd)
                    self.loop.call_later(0.001, resume)
                    return
                # nobody took them (the others are stuck or slow): take a batch ourselves
            declined_since = None
            for _ in range(ACCEPT_BATCH):
                try:
                    conn, _ = sock.accept()
                except (BlockingIOError, InterruptedError):
                    return  # nothing (more) waiting, or another worker took it
                except OSError as exc:  # EMFILE and friends: report, keep serving the others
                    ERROR_LOG.warning("⚠️  Connection error: %s", exc)
                    return
                conn.setblocking(False)
                self._adopting += 1
                self._publish_load()
                self.loop.create_task(self._adopt(conn))
                if share is not None and not share.may_accept(len(self.connections) + self._adopting):
                    return  # our share for this turn

        def resume() -> None:
            if fd in self._readers:
                self.loop.add_reader(fd, acceptable)

        self.loop.add_reader(fd, acceptable)
        self._readers.append(fd)

    async def _adopt(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self._protocol, conn)
        except OSError:
            conn.close()  # the client left before we got to it
        finally:
            self._adopting -= 1
            self._publish_load()

    def _publish_load(self) -> None:
        if self.share is not None and not self.draining:
            self.share.publish(len(self.connections) + self._adopting)

    async def run(self, sockets: Iterable[socket.socket]) -> int:
        """Serve until drained or stopped; the exit status."""
        await self.start(sockets)
        return await self.done

    def _protocol(self) -> HttpProtocol:
        return HttpProtocol(self, self.http)

    def connection_opened(self, conn: HttpProtocol) -> None:
        self.connections.add(conn)  # counted in _adopting until _adopt publishes the change

    def connection_closed(self, conn: HttpProtocol) -> None:
        self.connections.discard(conn)
        self._publish_load()

    @property
    def busy(self) -> int:
        return self.pool.in_executor

    @property
    def served(self) -> int:
        return self.responder.served

    def sample_metrics(self) -> None:
        """Set this worker's gauges and flush its request counts (when metrics are on)."""
        metrics = self.responder.metrics
        if metrics is None:
            return
        pool = self.pool
        metrics.sample(
            WorkerSample(
                connections=len(self.connections),
                in_flight=self.responder.in_flight,
                vm_pool_size=pool.size,
                vm_idle=pool.idle,
                vm_in_use=pool.in_use,
                executor_threads=pool.threads,
                executor_tasks=pool.in_executor,
                draining=self.draining,
                databases=database_usage(),
            )
        )

    def _sample_safely(self) -> None:
        try:
            self.sample_metrics()
        except Exception as exc:  # the metrics must never stop a start or a drain
            ERROR_LOG.error("etamil-server: metrics failed: %s: %s", type(exc).__name__, exc)

    # ------------------------------------------------------------------ the sweep

    def _sweep(self) -> None:
        self.clock = now = self.loop.time()
        self.date = http_date()
        for conn in list(self.connections):
            conn.check_timeouts(now)
        if not self.draining:
            self.timers.poll()
            self._probe_database()
        for hook in self.tick_hooks:
            try:
                hook()
            except Exception as exc:  # a hook must never stop the sweep (it carries the heartbeat)
                ERROR_LOG.error("etamil-server: tick hook failed: %s: %s", type(exc).__name__, exc)
        if not self.done.done():
            self._sweep_handle = self.loop.call_later(SWEEP_SECONDS, self._sweep)

    # ------------------------------------------------------------------ readiness

    def readiness(self) -> str | None:
        """None when ready; else why not (``/ready`` answers 503 with it)."""
        if self.draining:
            return "draining"
        return self.database_reason

    def _probe_database(self) -> None:
        """Keep ``database_reason`` current without blocking the loop: the probe (a connection
        attempt when the program uses a database) runs on the executor every few seconds."""
        if self._probing or not self.app.uses_database:
            return
        if self.clock < self._next_probe:
            return
        self._probing = True
        self._next_probe = self.clock + DATABASE_PROBE_SECONDS

        def done(future: asyncio.Future) -> None:
            self._probing = False
            if not future.cancelled() and future.exception() is None:
                self.database_reason = future.result()

        try:
            future = self.loop.run_in_executor(self.pool.executor, database_unavailable, self.app.uses_database)
        except RuntimeError:  # the executor is shut down: we are stopping
            self._probing = False
            return
        future.add_done_callback(done)

    # ------------------------------------------------------------------ stopping

    def _stop_listening(self) -> None:
        for fd in self._readers:
            self.loop.remove_reader(fd)
        self._readers.clear()
        if self.share is not None:
            self.share.release()  # the others must not leave connections for us any more
        for listener in self.listeners:
            listener.close()
        for sock in self._sockets:
            sock.close()  # this process's descriptor: the master and other workers keep theirs

    def begin_drain(self) -> None:
        """Start the staged drain (SIGTERM, max_requests, a reload retiring this process)."""
        if self.draining or self.done.done():
            return
        self.draining = True
        self._stop_listening()
        self.timers.stop()
        grace = self.drain_grace
        for conn in list(self.connections):
            conn.begin_drain(grace)
        self._drain_task = self.loop.create_task(self._finish_drain())
        self._sample_safely()  # the drain shows at once, not at the next sweep

    async def _finish_drain(self) -> None:
        loop = self.loop
        deadline = loop.time() + self.settings.drain.deadline
        while (self.connections or self.pool.in_executor) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections):
            conn.abort()
        self._finish(self.exit_status)

    def stop_now(self) -> None:
        """The fast stop (QUIT/INT): close listeners and connections at once."""
        if self.done.done():
            return
        self.draining = True
        self._stop_listening()
        self.timers.stop()
        for conn in list(self.connections):
            conn.abort()
        self._finish(self.exit_status)

    def _finish(self, status: int) -> None:
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
        drain = self._drain_task
        if drain is not None and not drain.done() and drain is not asyncio.current_task(self.loop):
            drain.cancel()  # a fast stop during a drain
        self.timers.stop()
        self.pool.stop_running()
        self.pool.close(wait=False)
        close_databases()
        if self.responder.access_log is not None:
            self.responder.access_log.close()
            close_access()
        if self.responder.metrics is not None:
            self.responder.metrics.close()
        if not self.done.done():
            self.done.set_result(status)

    @property
    def threads_left(self) -> bool:
        """Handler threads still running after the stop (they would hold up interpreter exit)."""
        return self.pool.in_executor > 0

    def exit_process(self, status: int) -> None:
        """``வெளியேறு(n)`` in a handler or tick ends the process with status n (HOST.md §6.7)."""
        if self.responder.access_log is not None:
            self.responder.access_log.flush()  # the lines of requests already answered
        exit_now(status)


def settle_memory() -> None:
    """Before serving: move everything loaded so far (modules, the compiled program) out of the
    garbage collector's sight. Full collections then scan only what requests create, so they
    stay short (a pause is a latency spike), and forked workers keep sharing those pages."""
    gc.collect()
    gc.freeze()

