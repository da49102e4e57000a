"""Entry points the command line calls: ``etamil serve`` and ``etamil --async``.

Both run the same server loop as the gunicorn worker (:class:`~.server.Server` on uvloop), in this
one process. (``etamil serve --workers N`` with N > 1 is the gunicorn master: the command chooses
that, ``workers/application.py`` runs it; this module knows nothing of gunicorn.)

Signals in the one-process server: TERM drains (the staged drain of ``web/server.py``), INT
(Ctrl-C) drains too and a second INT stops at once, QUIT stops at once.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import Any

from ..base.terminal import complain, exit_now, say
from ..config import ConfigError, Settings, load_settings
from . import banners, logs
from .loading import LoadedApp, ProgramError, describe, load_app, program_label
from .proctitle import TitleKeeper
from .server import Server, settle_memory
from .sync_server import bind_error_text


def bind_sockets(host: str, port: int, backlog: int = 2048) -> list[socket.socket]:
    """Resolve ``host:port`` and bind the first address that works (as the reference does)."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    last_error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
            return [sock]
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError("could not resolve to any addresses")


def new_loop() -> asyncio.AbstractEventLoop:
    """A uvloop event loop (the plain asyncio loop if uvloop is unavailable)."""
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return asyncio.new_event_loop()


def run_in_process(
    loaded: LoadedApp,
    sockets: list[socket.socket],
    settings: Settings,
    *,
    on_interrupt: Any = None,
    reload: bool = False,
) -> int:
    """Serve ``loaded`` on ``sockets`` in this process until drained or stopped."""
    logs.configure(settings.log.level)
    loop = new_loop()
    asyncio.set_event_loop(loop)
    server = Server(loaded.app, settings, loop=loop, owns_listeners=True)  # sockets bound here
    server.tick_hooks.append(TitleKeeper(server, 1, program_label(loaded.path)))
    if reload:
        server.tick_hooks.append(_Reloader(server, loaded))
    interrupts = 0

    def interrupted() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            if on_interrupt is not None:
                on_interrupt()
            server.begin_drain()
        else:
            server.stop_now()

    loop.add_signal_handler(signal.SIGTERM, server.begin_drain)
    loop.add_signal_handler(signal.SIGINT, interrupted)
    loop.add_signal_handler(signal.SIGQUIT, server.stop_now)
    settle_memory()
    try:
        status = loop.run_until_complete(server.run(sockets))
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            loop.remove_signal_handler(signum)
    threads_left = server.threads_left
    loop.close()
    if threads_left:
        # a handler thread stuck past the drain deadline would hold up interpreter exit
        exit_now(status)
    return status


class _Reloader:
    """``etamil serve --reload``: a sweep hook that recompiles the program when a file of it
    changes. A broken edit is reported and the previous program keeps serving."""

    def __init__(self, server: Server, loaded: LoadedApp):
        self.server = server
        self.loaded = loaded
        self.stamp = loaded.stamp()

    def __call__(self) -> None:
        stamp = self.loaded.stamp()
        if stamp == self.stamp:
            return
        self.stamp = stamp
        try:
            fresh = load_app(self.loaded.path)
        except ProgramError as exc:
            for line in exc.lines:
                complain(line)
            complain("✗ reload skipped: still serving the previous version")
            return
        self.loaded = fresh
        self.stamp = fresh.stamp()
        self.server.set_app(fresh.app)
        say(f"↻ reloaded {fresh.path} ({describe(fresh.app)})")


def _settings() -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        complain(f"✗ {exc}")
        return None


def serve(path: str, host: str = "127.0.0.1", port: int = 8080, reload: bool = False) -> int:
    """``etamil serve FILE`` in one process: development and single-host use. The exit status."""
    settings = _settings()
    if settings is None:
        return 1
    try:
        loaded = load_app(path)
    except ProgramError as exc:
        for line in exc.lines:
            complain(line)
        return 1
    try:
        sockets = bind_sockets(host, port, settings.process.backlog)
    except OSError as exc:
        complain(f"❌ Server error: {bind_error_text(exc)}")
        return 1
    bound = sockets[0].getsockname()
    say(f"etamil serve: {loaded.path} ({describe(loaded.app)})")
    say(f"listening on http://{host}:{bound[1]}  (Ctrl-C to stop{', reloads on change' if reload else ''})")
    return run_in_process(loaded, sockets, settings, reload=reload)


def serve_async(path: str | None, host: str = "127.0.0.1", port: int = 8080, *, program: Any = None) -> int:
    """``etamil --async FILE``: our server in one process, with the reference's console output
    (HOST.md §4.15; the caller has printed ``✓ Parsing complete`` and type-checked)."""
    settings = _settings()
    if settings is None:
        return 1
    try:
        loaded = load_app(path or "", program=program)
    except ProgramError as exc:
        for line in exc.lines:
            complain(line)
        return 1
    say(banners.async_banner_before_bind(host, port).removesuffix("\n"))
    try:
        sockets = bind_sockets(host, port, settings.process.backlog)
    except OSError as exc:
        complain(f"❌ Async server error: {bind_error_text(exc)}")
        return 1
    say(banners.async_banner_after_bind(loaded.app, host, port).removesuffix("\n"))
    return run_in_process(loaded, sockets, settings, on_interrupt=lambda: say("\n⏹️  Shutting down."))
