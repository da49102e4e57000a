"""The per-process server loop: listening sockets, the connections, the once-a-second sweep,
readiness, and the staged drain. The gunicorn worker (``workers/``) and ``etamil serve`` /
``etamil --async`` (``web/serve.py``) both run this, so they cannot drift apart.

The sweep (every second, on the loop): refresh the cached clock and ``Date``, close idle
keep-alive connections and time out slow requests, beat in the load table and shed connections
when this worker is far busier than another (``web/balance.py``), let the timers try for
leadership, and call the tick hooks (the worker's heartbeat to the master, the process title,
``max_requests``, the metrics' gauges and the move of the request counts into the shared
files). It keeps running during a drain, so the heartbeat does too.

Staged drain (:meth:`Server.begin_drain`, SIGTERM):

1. stop accepting: take the connections already waiting in the listen queue, then close this
   process's listening descriptors (the master and the other workers may keep the shared socket;
   the last to close would otherwise leave the kernel to reset what is queued);
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
import time
from collections.abc import Callable, Iterable

from ..base.terminal import exit_now
from ..config import Settings
from ..runtime import limits
from .accesslog import AccessLog
from .app import App
from .balance import Share
from .listen_fence import refuse_new_connections
from .logs import ERROR_LOG, close_access, configure_access
from .malloc import fix_mmap_threshold
from .metrics import Metrics, WorkerSample
from .protocol import HttpProtocol
from .resources import close_databases, database_failure_since, database_unavailable, database_usage
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
        owns_listeners: bool = False,
    ):
        """``share``: this worker's place in the load table of the workers sharing the listening
        socket (gunicorn); None in one process, where every waiting connection is accepted.
        ``owns_listeners``: no other process holds the listening sockets (``etamil serve``), so a
        drain fences them before it takes what waits (``web/listen_fence.py``); under gunicorn
        the master fences them when the whole server stops."""
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
        self._owns_listeners = owns_listeners
        self._readers: list[int] = []  # listening descriptors we accept on ourselves
        self._adopting = 0  # accepted connections not yet connected to a protocol
        self._leaving: set[HttpProtocol] = set()  # asked to close after their next response (shedding)
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
        #: when the last probe that found the databases well started (monotonic clock): a
        #: request's database failure after it makes ``/ready`` 503 until a later probe passes
        self._healthy_at = 0.0

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
        as many as this worker's share allows."""
        sock.setblocking(False)
        fd = sock.fileno()

        def readable() -> None:
            if self.share is None:
                take()
                return
            # decide once the other events of this wake-up are handled: closes among them lower
            # our count (a call_soon made now would run before those scheduled after it)
            self.loop.remove_reader(fd)
            self.loop.call_soon(self.loop.call_soon, take_and_resume)

        def take_and_resume() -> None:
            if fd not in self._readers:
                return  # stopped listening meanwhile (a drain): the socket is closed
            if take():
                resume()
            else:
                # let another worker take them; look again shortly
                self.loop.call_later(0.001, resume)

        def take() -> bool:
            """Accept this worker's share of the waiting connections; False if it is none."""
            share = self.share
            allowed = ACCEPT_BATCH
            if share is not None:
                allowed = min(allowed, share.allowance(len(self.connections) + self._adopting))
                if not allowed:
                    return False
            for _ in range(allowed):
                try:
                    conn, _ = sock.accept()
                except (BlockingIOError, InterruptedError):
                    break  # nothing (more) waiting, or another worker took it
                except OSError as exc:  # EMFILE and friends: report, keep serving the others
                    ERROR_LOG.warning("⚠️  Connection error: %s", exc)
                    break
                self._take(conn)
            return True

        def resume() -> None:
            if fd in self._readers:
                self.loop.add_reader(fd, readable)

        self.loop.add_reader(fd, readable)
        self._readers.append(fd)

    def _take(self, conn: socket.socket) -> None:
        """Serve a connection we accepted ourselves."""
        conn.setblocking(False)
        self._adopting += 1
        self._publish_load()
        self.loop.create_task(self._adopt(conn))

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
        self._leaving.discard(conn)
        if self.share is not None and not self.draining:
            self.share.closed(len(self.connections) + self._adopting)

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
        since = self.clock  # the previous sweep: connections answered after it are active
        self.clock = now = self.loop.time()
        self.date = http_date()
        for conn in list(self.connections):
            conn.check_timeouts(now)
        if self.share is not None and not self.draining:
            try:
                self._rebalance(since)
            except Exception as exc:  # like a hook: never stop the sweep (it carries the heartbeat)
                ERROR_LOG.error("etamil-server: rebalancing failed: %s: %s", type(exc).__name__, exc)
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

    def _rebalance(self, since: float) -> None:
        """Beat in the load table, and when this worker is far busier than the least loaded
        other, ask some active keep-alive connections to close after their next response
        (``web/balance.py``, shedding): their clients reconnect to the other worker."""
        share = self.share
        share.beat()
        leaving = self._leaving
        excess = share.excess(len(self.connections) + self._adopting - len(leaving))
        if excess <= 0:
            return
        for conn in self.connections:
            if conn not in leaving and conn.idle_since >= since:  # answered since the last sweep
                conn.close_after_response()
                leaving.add(conn)
                excess -= 1
                if not excess:
                    return

    # ------------------------------------------------------------------ readiness

    def readiness(self) -> str | None:
        """None when ready; else why not (``/ready`` answers 503 with it)."""
        if self.draining:
            return "draining"
        if self.app.uses_database:
            failed = database_failure_since(self._healthy_at)
            if failed is not None:
                return failed
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
        started = time.monotonic()

        def done(future: asyncio.Future) -> None:
            self._probing = False
            if not future.cancelled() and future.exception() is None:
                self.database_reason = future.result()
                if self.database_reason is None:
                    self._healthy_at = started

        try:
            future = self.loop.run_in_executor(self.pool.executor, database_unavailable, self.app.uses_database)
        except RuntimeError:  # the executor is shut down: we are stopping
            self._probing = False
            return
        future.add_done_callback(done)

    # ------------------------------------------------------------------ stopping

    def _stop_listening(self, take_waiting: bool = False) -> None:
        """Close this process's listening descriptors. ``take_waiting`` (a drain): first accept
        every connection already waiting in the listen queue, to be served like the others."""
        for fd in self._readers:
            self.loop.remove_reader(fd)
        self._readers.clear()
        if self.share is not None:
            self.share.release()  # the others must not leave connections for us any more
        if self._owns_listeners:
            for sock in self._sockets:  # before any close: uvloop's listener is a duplicate
                refuse_new_connections(sock)
        for listener in self.listeners:
            listener.close()
        for sock in self._sockets:
            if take_waiting:
                self._take_waiting(sock)
            sock.close()  # this process's descriptor: the master and other workers keep theirs

    def _take_waiting(self, sock: socket.socket) -> None:
        """Accept what the kernel has queued on ``sock``. When the last descriptor of a
        listening socket closes, the kernel resets every connection still in its queue: clients
        whose handshake had completed and whose request may already be sent. The master closes
        its copy first and every worker closes its own when its drain begins, so the last worker
        to close takes whatever is left. A connection arriving between that final accept and the
        close would be reset too (the window is up to a GIL switch interval wide, 5 ms, when a
        handler thread takes the GIL during the accept): when the socket dies with the server, the
        master fences it before anything closes (``etamil serve``: this process, owning it), so
        that none can (``web/listen_fence.py``)."""
        try:
            sock.setblocking(False)
        except OSError:
            return  # already closed
        while True:
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and friends: what is left is lost either way
                ERROR_LOG.warning("⚠️  Connection error while draining: %s", exc)
                return
            self._take(conn)

    def begin_drain(self) -> None:
        """Start the staged drain (SIGTERM, max_requests, a reload retiring this process)."""
        if self.draining or self.done.done():
            return
        self.draining = True
        self._stop_listening(take_waiting=True)
        self.timers.stop()
        grace = self.drain_grace
        for conn in list(self.connections):
            conn.begin_drain(grace)
        self._drain_task = self.loop.create_task(self._finish_drain())
        self._sample_safely()  # the drain shows at once, not at the next sweep

    async def _finish_drain(self) -> None:
        loop = self.loop
        deadline = loop.time() + self.settings.drain.deadline
        while (self.connections or self._adopting or self.pool.in_executor) and loop.time() < deadline:
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

