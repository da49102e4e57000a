"""The gunicorn configuration as functions: settings, the program loader and the server hooks.

conf/etamil.py (``gunicorn -c conf/etamil.py``) and ``etamil serve --workers N`` both build their
configuration from :func:`gunicorn_settings`, so they cannot disagree.

The program is compiled in the master (``preload_app``): :func:`load_program` is gunicorn's
"application" factory. A program that does not load stops the start before any fork, with the
eTamil messages on stderr and gunicorn's boot-error exit status (3). On HUP, :func:`on_reload`
compiles the file again and the new workers serve the new version while the old ones drain; a
broken edit is logged and the running version keeps serving.

Nothing here opens a database connection or creates a VM pool: those are made in each worker,
after the fork (``EtamilWorker.run``).

The master tells systemd where the server is in its life (``workers/lifecycle.py``: ``READY=1``
once a worker serves, ``RELOADING=1``, ``STOPPING=1``) and, with metrics on, counts the workers it
had to replace (``etamil_worker_restarts_total``, written to the metrics directory the workers
read).
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.arbiter import Arbiter

from etamil_server.base.terminal import complain
from etamil_server.config import ConfigError, Settings, load_settings
from etamil_server.host.tokens import prepare_server_secret
from etamil_server.web import metrics, proctitle
from etamil_server.web.balance import LoadTable
from etamil_server.web.listen_fence import refuse_new_connections
from etamil_server.web.loading import LoadedApp, ProgramError, describe, load_app, program_label
from etamil_server.web.timers import remove_state

from . import lifecycle, sdnotify

BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR
# open connections per worker, shared by the workers (made in the master before any fork)
LOAD_TABLE: LoadTable | None = None
# the master's systemd state and the workers' "I serve" reports (made in on_starting)
LIFECYCLE: lifecycle.MasterLifecycle | None = None


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        complain(f"✗ {exc}")
        sys.exit(1)


def program_path() -> str | None:
    return os.environ.get("ETAMIL_PROGRAM") or None


# ------------------------------------------------------------------------------ the "application"


class ServedProgram:
    """What gunicorn calls "the application": the compiled program. gunicorn insists that it be
    callable; it is never called (the worker class serves it)."""

    def __init__(self, loaded: LoadedApp):
        self.loaded = loaded

    def __call__(self, *args: Any) -> Any:
        raise RuntimeError("an eTamil program is served by workers.etamil_worker.EtamilWorker")


def load_program() -> ServedProgram:
    """gunicorn's app factory (``wsgi_app``): load and compile ``ETAMIL_PROGRAM`` in the master."""
    path = program_path()
    if path is None:
        complain("✗ ETAMIL_PROGRAM is not set: it names the eTamil program to serve")
        sys.exit(BOOT_ERROR)
    try:
        return ServedProgram(load_app(path))
    except ProgramError as exc:
        for line in exc.lines:
            complain(line)
        sys.exit(BOOT_ERROR)


# ------------------------------------------------------------------------------ settings


def gunicorn_settings(settings: Settings) -> dict[str, Any]:
    """Every gunicorn setting we choose, from our settings (``bind`` and ``workers`` included)."""
    process = settings.process
    values: dict[str, Any] = {
        "wsgi_app": "workers.hooks:load_program()",
        "worker_class": "workers.etamil_worker.EtamilWorker",
        "preload_app": True,
        "bind": list(process.bind),
        "workers": process.worker_count,
        "backlog": process.backlog,
        # gunicorn takes whole seconds
        "timeout": math.ceil(process.heartbeat_timeout),
        "graceful_timeout": math.ceil(settings.drain.graceful_timeout),
        "keepalive": math.ceil(settings.http.keepalive_timeout),
        "max_requests": process.max_requests,
        "max_requests_jitter": process.max_requests_jitter,
        "limit_request_line": 0,  # our protocol enforces its own limits (414/431/413)
        "proc_name": "etamil",
        "loglevel": settings.log.level,
        "errorlog": "-",
        # gunicorn 23+'s control socket has one default path per user: two servers on one host
        # would fight over it, and it adds a thread to the master before the forks
        "control_socket_disable": True,
        "on_starting": on_starting,
        "when_ready": when_ready,
        "on_reload": on_reload,
        "post_fork": post_fork,
        "on_exit": on_exit,
        "child_exit": child_exit,
    }
    if process.pidfile:
        values["pidfile"] = process.pidfile
    return values


# ------------------------------------------------------------------------------ hooks


def on_starting(arbiter: Any) -> None:
    """Master, before the listeners: name this server (timer lock files) and the processes, and
    give the workers a metrics directory of their own (they sum it for /metrics)."""
    global LOAD_TABLE
    os.environ["ETAMIL_SERVER_ID"] = f"{os.getpid()}-{int(time.time())}"
    prepare_server_secret()  # one JWT secret for every worker when ETAMIL_JWT_SECRET is unset
    patch_process_titles(program_label(program_path()))
    LOAD_TABLE = LoadTable()
    start_lifecycle(arbiter)
    fence_listeners_when_stopping(arbiter)
    start_metrics(load_settings_quietly())


def start_lifecycle(arbiter: Any) -> None:
    """Take ``$NOTIFY_SOCKET`` before gunicorn sends its own too-early ``READY=1`` (it does right
    after this hook), and watch the arbiter (``workers/lifecycle.py``)."""
    global LIFECYCLE
    if LIFECYCLE is not None:
        LIFECYCLE.reports.close()
    LIFECYCLE = lifecycle.MasterLifecycle(sdnotify.take_address(), lifecycle.ServingReports())
    LIFECYCLE.attach(arbiter)


def fence_listeners_when_stopping(arbiter: Any) -> None:
    """When the master stops (TERM, QUIT, INT) and its listening sockets die with this server,
    fence them before anything closes (``web/listen_fence.py``): the workers' drains then take
    every connection still queued, and none can join the queue between the last worker's final
    accept and its close, where the kernel would reset it."""
    stop = arbiter.stop

    def fenced_stop(graceful: bool = True) -> None:
        if listeners_die_with_master(arbiter):
            for listener in arbiter.LISTENERS:
                refuse_new_connections(getattr(listener, "sock", listener))
        stop(graceful)

    arbiter.stop = fenced_stop


def listeners_die_with_master(arbiter: Any) -> bool:
    """No other process keeps the listening sockets after this master: not systemd (socket
    activation), nor the other master of a USR2 re-exec (gunicorn's own test before it unlinks a
    Unix socket)."""
    return not arbiter.systemd and arbiter.reexec_pid == 0 and arbiter.master_pid == 0


def start_metrics(settings: Settings) -> None:
    """The metrics directory (made or cleared) and, once it is set, the master's restart counter."""
    if settings.metrics.enabled:
        directory, created = metrics.prepare_directory(settings.metrics.directory)
        if created:
            os.environ["ETAMIL_METRICS_OWNED_DIR"] = directory
        metrics.master_started()


def child_exit(arbiter: Any, worker: Any) -> None:
    """Master: a worker is gone; its connection count and its live gauges no longer count, and
    it is counted as a restart when the master will replace it."""
    if LOAD_TABLE is not None:
        LOAD_TABLE.forget(worker.pid)
    if load_settings_quietly().metrics.enabled:
        replaced = LIFECYCLE is not None and LIFECYCLE.worker_replaced(arbiter)
        metrics.worker_exited(worker.pid, replaced)


def when_ready(arbiter: Any) -> None:
    served = arbiter.app.callable
    if isinstance(served, ServedProgram):
        arbiter.log.info("eTamil program %s: %s", served.loaded.path, describe(served.loaded.app))


def on_reload(arbiter: Any) -> None:
    """HUP: compile the program again; new workers get it, the old ones drain."""
    if LIFECYCLE is not None:
        LIFECYCLE.reloading(arbiter)
    path = program_path()
    if path is None:
        return
    try:
        fresh = load_app(path)
    except ProgramError as exc:
        arbiter.log.error("reload of %s failed, the running version keeps serving:\n%s", path, "\n".join(exc.lines))
        return
    arbiter.app.callable = ServedProgram(fresh)
    arbiter.log.info("reloaded eTamil program %s: %s", path, describe(fresh.app))


def post_fork(arbiter: Any, worker: Any) -> None:
    """Worker, right after the fork. (No database connection of the parent is used here: the pool
    forgets what it inherited in its own fork hook, see ``web/resources.py``.)

    Until the worker installs its own handlers, a signal sent to it runs the master's handler,
    which only queues it in the master's queue (our copy of it): the worker looks there so a
    SIGTERM sent while it was booting is not lost."""
    worker.inherited_signal_queue = getattr(arbiter, "SIG_QUEUE", None)
    worker.load_table = LOAD_TABLE
    worker.report_serving = LIFECYCLE.reports.report if LIFECYCLE is not None else None


def on_exit(arbiter: Any) -> None:
    server_id = os.environ.get("ETAMIL_SERVER_ID")
    if server_id:
        remove_state(server_id, load_settings_quietly().process.state_dir)
    owned = os.environ.get("ETAMIL_METRICS_OWNED_DIR")
    if owned:
        metrics.remove_directory(owned)


def load_settings_quietly() -> Settings:
    try:
        return load_settings()
    except ConfigError:
        return Settings()


# ------------------------------------------------------------------------------ process titles


def patch_process_titles(program: str) -> None:
    """gunicorn names its processes "gunicorn: master [name]" and "gunicorn: worker [name]";
    ours say ``etamil: master <program>`` (the worker refreshes its own title every second)."""

    def set_title(title: str) -> None:
        role = title.split(" ", 1)[0]
        if role == "master":
            proctitle.set_title(proctitle.master_title(program))
        elif role == "worker":
            proctitle.set_title(f"etamil: worker {program}")
        else:
            proctitle.set_title(f"etamil: {title}")

    gunicorn_util._setproctitle = set_title
