"""The server's two loggers, stdlib ``logging``: ``etamil.error`` (handler errors, timer failures,
connection and internal faults, lifecycle) and ``etamil.access`` (one line per answered request,
``web/accesslog.py`` formats them).

Under gunicorn the worker hands its error log's handlers to :func:`configure`, so our lines land
where gunicorn's do, with gunicorn's format, and USR1 reopens them together. In one process
(``etamil serve``, ``etamil --async``) lines go to stderr as the message alone, so the reference's
stderr lines (``❌ Handler execution error: …``, ``❌ இடைவெளி #k every Ns failed: …``, HOST.md §2.8)
come out byte for byte. The access log goes to ``ETAMIL_ACCESS_LOG`` (``-``: stdout, else a file
that logrotate may move: it is reopened when that happens).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterable

ERROR_LOG = logging.getLogger("etamil.error")
ACCESS_LOG = logging.getLogger("etamil.access")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


class _StandardStream(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` (or ``sys.stdout``) is when a line is written, not when
    the handler was made: the stream may be replaced (a test's capture, a daemon's redirection)."""

    def __init__(self, name: str):
        super().__init__()
        self._name = name

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - a text stream
        return getattr(sys, self._name)

    @stream.setter
    def stream(self, value) -> None:  # logging.StreamHandler.__init__ assigns it
        pass


def configure(level: str = "info", handlers: Iterable[logging.Handler] | None = None) -> None:
    """Set the error logger up for this process (the entry point does: ``etamil serve``, the
    gunicorn worker, ``etamil --server``). ``handlers``: where error lines go (gunicorn's
    error-log handlers); None: stderr, bare."""
    ERROR_LOG.setLevel(_LEVELS.get(level.lower(), logging.INFO))
    ERROR_LOG.propagate = False
    if handlers is None:
        handler: logging.Handler = _StandardStream("stderr")
        handler.setFormatter(logging.Formatter("%(message)s"))
        handlers = [handler]
    _replace_handlers(ERROR_LOG, handlers)


def configure_access(access_target: str | None) -> None:
    """Point the access logger at ``ETAMIL_ACCESS_LOG`` (the server does, when it makes its
    access log); None: access lines go nowhere."""
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False
    access: list[logging.Handler] = []
    if access_target:
        if access_target == "-":
            target: logging.Handler = _StandardStream("stdout")
        else:
            target = logging.handlers.WatchedFileHandler(access_target, encoding="utf-8")
        target.setFormatter(logging.Formatter("%(message)s"))
        access.append(target)
    _replace_handlers(ACCESS_LOG, access)


def close_access() -> None:
    """Flush and close what :func:`configure_access` opened (the end of a drain)."""
    for handler in list(ACCESS_LOG.handlers):
        handler.flush()
        handler.close()
        ACCESS_LOG.removeHandler(handler)


def _replace_handlers(logger: logging.Logger, handlers: Iterable[logging.Handler]) -> None:
    for old in list(logger.handlers):
        logger.removeHandler(old)
    for handler in handlers:
        logger.addHandler(handler)
