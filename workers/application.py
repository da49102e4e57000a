"""``etamil serve FILE --workers N`` (N > 1): the gunicorn master run from the command line, with
the same configuration as ``gunicorn -c conf/etamil.py`` (``workers.hooks.gunicorn_settings``).

``--reload`` adds a watcher thread in the master that sends the master HUP when a file of the
program changes: the master compiles the new version and replaces the workers without dropping
a request (a broken edit is logged and the running version keeps serving).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from gunicorn.app.base import BaseApplication

from etamil_server.base.terminal import complain
from etamil_server.config import ConfigError, load_settings
from etamil_server.web.loading import file_stamp

from . import hooks

RELOAD_POLL_SECONDS = 1.0


class EtamilApplication(BaseApplication):
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return hooks.load_program()


def _watch_and_reload(arbiter: Any) -> None:
    """In the master: HUP ourselves when a program file changes."""

    def files() -> list[str]:
        served = arbiter.app.callable
        return list(getattr(getattr(served, "loaded", None), "files", []))

    def watch() -> None:
        stamp = file_stamp(files())
        while True:
            time.sleep(RELOAD_POLL_SECONDS)
            current = file_stamp(files())
            if current != stamp:
                os.kill(os.getpid(), signal.SIGHUP)
                time.sleep(RELOAD_POLL_SECONDS)  # let the reload pick up the new file list
                stamp = file_stamp(files())

    threading.Thread(target=watch, name="etamil-reload", daemon=True).start()


def run_gunicorn(path: str, host: str, port: int, workers: int, reload: bool = False) -> int:
    """Run the gunicorn master until it stops; its exit status."""
    os.environ["ETAMIL_PROGRAM"] = path
    try:
        settings = load_settings()
    except ConfigError as exc:
        complain(f"✗ {exc}")
        return 1
    options = hooks.gunicorn_settings(settings)
    options.pop("wsgi_app")  # EtamilApplication.load is the loader here
    options["bind"] = [f"{host}:{port}"]
    options["workers"] = workers
    if reload:
        ready = options["when_ready"]

        def when_ready(arbiter: Any) -> None:
            ready(arbiter)
            _watch_and_reload(arbiter)

        options["when_ready"] = when_ready
    try:
        EtamilApplication(options).run()
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
