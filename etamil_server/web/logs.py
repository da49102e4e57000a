"""The server's two loggers, stdlib ``logging``: ``etamil.error`` (handler errors, timer failures,
connection and internal faults, lifecycle) and ``etamil.access`` (one line per answered request,
``web/accesslog.py`` formats them).

Under gunicorn the worker hands its error log's handlers to :func:`configure`, so our lines land
where gunicorn's do, with gunicorn's format, and USR1 reopens them together. In one process
(``etamil serve``, ``etamil --async``) lines go to stderr as the message alone, so the reference's
stderr lines (``❌ Handler execution error: …``, ``❌ இடைவெளி #k every Ns failed: …``, HOST.md §2.8)
come out byte for byte (:func:`handler_error_line` formats the handler-error line; the server
appends the route, the failing statement's file and line, and the request id). The access log goes to ``ETAMIL_ACCESS_LOG`` (``-``:
stdout, else a file that logrotate may move: it is reopened when that happens).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterable

ERROR_LOG = logging.getLogger("etamil.error")
ACCESS_LOG = logging.getLogger("etamil.access")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


HANDLER_ERROR = "❌ Handler execution error: "


def handler_error_line(message: str, *, route: str | None = None, request_id: str | None = None,
                       file: str | None = None, line: int | None = None) -> str:
    """The line logged when a handler fails (HOST.md §2.8 names its prefix, which stays first).

    Without context (the reference ``--server``) it is the reference's line exactly. The server
    appends what it knows after the message, in brackets at the very end of the line, each value a
    JSON string, so a parser can take the fields from the end whatever the message holds::

        ❌ Handler execution error: <message> [route="GET /orders/:id" file="shop.qmz" line="12" request_id="3f9a0c1d2e4b-1a"]

    ``file`` and ``line``: where in the program the error happened (the statement's, when known).
    More context belongs here too, as another ``name="value"`` field."""
    fields = handler_fields(route=route, request_id=request_id, file=file, line=line)
    return f"{HANDLER_ERROR}{message} {fields}" if fields else HANDLER_ERROR + message


def handler_fields(*, route: str | None = None, request_id: str | None = None,
                   file: str | None = None, line: int | None = None) -> str:
    """``[route="…" file="…" line="…" request_id="…"]`` for the fields that are known; empty
    when none is."""
    known = (("route", route), ("file", file), ("line", None if line is None else str(line)), ("request_id", request_id))
    pairs = [(name, value) for name, value in known if value]
    if not pairs:
        return ""
    return "[" + " ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in pairs) + "]"


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
