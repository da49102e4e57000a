"""The gunicorn worker: thin glue from the arbiter to ``etamil_server/web``.

One uvloop event loop per worker process, running the same :class:`~etamil_server.web.server.Server`
as ``etamil serve``. The program was compiled in the master (``self.wsgi`` is the loaded app); the
VM pool, the executor and the database pools are created here, after the fork.

Signals: TERM starts the staged drain (the master sends it for a graceful stop, HUP reloads, TTOU
and worker recycling); QUIT and INT stop at once; USR1 reopens the log files; ABRT (the master's
"you stopped beating") ends the worker. The heartbeat (``notify``) is beaten by the server's
once-a-second sweep, which keeps running during a drain. Once its listeners are open the worker
tells the master it serves (``report_serving``, set in ``hooks.post_fork``): the master's
``READY=1`` to systemd waits for that (``workers/lifecycle.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import queue
import signal
import sys

from gunicorn.workers.base import Worker

from etamil_server.base.recursion import allow_deep_recursion
from etamil_server.base.terminal import exit_now
from etamil_server.config import load_settings
from etamil_server.web import logs
from etamil_server.web.balance import Share
from etamil_server.web.loading import program_label
from etamil_server.web.proctitle import TitleKeeper
from etamil_server.web.serve import new_loop
from etamil_server.web.server import Server, settle_memory


class EtamilWorker(Worker):
    def init_signals(self) -> None:
        # The defaults first (gunicorn's Python-level handlers would run between bytecodes of a
        # handler); the loop installs its own in run(). USR1 and ABRT keep gunicorn's handlers.
        for signum in self.SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.signal(signal.SIGABRT, self.handle_abort)
        signal.siginterrupt(signal.SIGUSR1, False)
        self.early_signal = self._signal_received_while_booting()

    def _signal_received_while_booting(self) -> int | None:
        """A stop signal that reached this process before its handlers were ours (the master's
        handler queued it in our copy of the master's queue; see ``hooks.post_fork``)."""
        pending = getattr(self, "inherited_signal_queue", None)
        found = None
        while pending is not None:
            try:
                signum = pending.get_nowait()
            except queue.Empty:
                break
            if signum in (signal.SIGQUIT, signal.SIGINT) or (signum == signal.SIGTERM and found is None):
                found = signum
        return found

    def run(self) -> None:
        allow_deep_recursion()  # as in the master that loaded the program (a no-op after a fork)
        loaded = self.wsgi.loaded
        settings = self._settings()
        loop = new_loop()
        asyncio.set_event_loop(loop)
        # our lines go where gunicorn's go, in its format (and USR1 reopens them together)
        logs.configure(settings.log.level, handlers=self.log.error_log.handlers)
        table = getattr(self, "load_table", None)
        share = Share(table, self.age) if table is not None else None
        server = Server(loaded.app, settings, loop=loop, server_id=os.environ.get("ETAMIL_SERVER_ID"), share=share)
        server.tick_hooks.append(self.notify)
        server.tick_hooks.append(TitleKeeper(server, self.age, program_label(loaded.path)))
        server.tick_hooks.append(lambda: self._watch_limits(server))
        self.server = server
        loop.add_signal_handler(signal.SIGTERM, server.begin_drain)
        loop.add_signal_handler(signal.SIGQUIT, server.stop_now)
        loop.add_signal_handler(signal.SIGINT, server.stop_now)
        sockets = [getattr(sock, "sock", sock) for sock in self.sockets]
        self.notify()
        early = getattr(self, "early_signal", None)
        if early is not None:
            loop.call_soon(server.begin_drain if early == signal.SIGTERM else server.stop_now)
        settle_memory()
        loop.run_until_complete(server.start(sockets))
        report = getattr(self, "report_serving", None)
        if report is not None and not server.draining:
            report(self.age)
        status = loop.run_until_complete(server.done)
        self.log.info("Worker exiting after %s requests (pid: %s)", server.served, os.getpid())
        threads_left = server.threads_left
        loop.close()
        if threads_left or status:
            # handler threads stuck past the drain deadline would hold up interpreter exit;
            # a handler's வெளியேறு(n) ends the worker with n
            exit_now(status)

    def _settings(self):
        """Our settings, with what gunicorn was told taking precedence (command-line flags)."""
        settings = load_settings()
        cfg = self.cfg
        # gunicorn holds whole seconds: keep our finer value when it is the same setting rounded
        keepalive = settings.http.keepalive_timeout
        if math.ceil(keepalive) != cfg.keepalive:
            keepalive = float(cfg.keepalive)
        graceful = settings.drain.graceful_timeout
        if math.ceil(graceful) != cfg.graceful_timeout:
            graceful = float(cfg.graceful_timeout)
        return dataclasses.replace(
            settings,
            http=dataclasses.replace(settings.http, keepalive_timeout=keepalive),
            drain=dataclasses.replace(settings.drain, graceful_timeout=graceful),
            process=dataclasses.replace(settings.process, backlog=cfg.backlog),
        )

    def _watch_limits(self, server: Server) -> None:
        if server.draining:
            return
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            server.begin_drain()
        elif server.served >= self.max_requests:
            self.log.info("Autorestarting worker after %s requests.", server.served)
            server.begin_drain()

    def handle_abort(self, sig, frame) -> None:
        self.alive = False
        self.cfg.worker_abort(self)
        sys.exit(1)
