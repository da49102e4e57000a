"""The server's own endpoints, answered in one place: ``/health`` (liveness), ``/ready`` (readiness)
and ``/metrics`` (Prometheus text, when metrics are on).

They exist in "ours" mode only (the reference ``--server`` registers its own ``GET /health``
program instead, HOST.md §4.10). A program route of the same method and path always wins:
``App.dispatch`` asks the program's router first and these only for what it does not answer, so
a program that defines ``GET /health`` keeps it. GET and HEAD are answered; another method on one
of these paths gets the 405 that any path gets (``Allow: GET, HEAD, OPTIONS``).

``/ready`` answers 503 with the reason the server gives (``"draining"``, ``"database
unavailable: …"``); ``/metrics`` reads every worker's sample files, which is file reading, so the
server provides it as a callable returning a future that resolves on the loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from .response import JSON, Response, error_response

HEALTH = "/health"
READY = "/ready"
METRICS = "/metrics"

_HEALTHY = Response(200, [("Content-Type", JSON)], b'{"status": "healthy"}', reason="OK")
_READY = Response(200, [("Content-Type", JSON)], b'{"status": "ready"}', reason="OK")


class ServerEndpoints:
    def __init__(
        self,
        ready: Callable[[], str | None] | None = None,
        metrics_page: Callable[[], asyncio.Future] | None = None,
    ):
        """``ready()`` returns None when ready, else why not; ``metrics_page()`` (None: metrics
        off, ``/metrics`` is then an ordinary unknown path) returns the page as a future."""
        self._ready = ready
        self._metrics_page = metrics_page
        self.paths: frozenset[str] = frozenset((HEALTH, READY) + ((METRICS,) if metrics_page else ()))

    def answer(self, path: str) -> Response | asyncio.Future:
        """The answer to GET (or HEAD) ``path``, one of :attr:`paths`."""
        if path == HEALTH:
            return _HEALTHY
        if path == READY:
            reason = self._ready() if self._ready is not None else None
            if reason is None:
                return _READY
            return error_response(503, '{"status": ' + json.dumps(reason, ensure_ascii=False) + "}")
        if path == METRICS and self._metrics_page is not None:
            return self._metrics_page()
        raise KeyError(path)


NO_ENDPOINTS = ServerEndpoints()  # health and readiness only, always ready (tests, one-off apps)
