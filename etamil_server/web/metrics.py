"""``/metrics``: Prometheus text format, summed across the workers of one server
(``ETAMIL_METRICS=on``; prometheus_client's multiprocess mode).

Every worker writes its samples to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR``; whichever
worker answers ``/metrics`` reads them all (on the executor: it is file reading). The gunicorn
master makes the directory when none is given, clears stale files at start, and marks a worker's
gauges dead when it exits (``workers/hooks.py``). One process (``etamil serve``) works the same.

prometheus_client picks its storage when it is first imported, so nothing here imports it before
the directory is set (the master never imports it at all).

Exposed: ``etamil_http_requests_total{method,code}``, ``etamil_http_request_duration_seconds``
(histogram), ``etamil_http_requests_in_progress`` and ``etamil_http_connections`` (gauges, summed
over live workers).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_COMMON_METHODS = frozenset(("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"))


def prepare_directory(configured: str | None) -> tuple[str, bool]:
    """In the master, before any worker: the directory to use and whether we created it.
    Stale sample files of an earlier run are removed (they would be summed in)."""
    if configured:
        os.makedirs(configured, exist_ok=True)
        for name in os.listdir(configured):
            if name.endswith(".db"):
                try:
                    os.unlink(os.path.join(configured, name))
                except OSError:
                    pass
        os.environ[DIRECTORY_VARIABLE] = configured
        return configured, False
    directory = tempfile.mkdtemp(prefix="etamil-metrics-")
    os.environ[DIRECTORY_VARIABLE] = directory
    return directory, True


def remove_directory(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """In the master: drop a dead worker's live gauges."""
    if not os.environ.get(DIRECTORY_VARIABLE):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


class Metrics:
    """One worker's instruments. Created after the fork, once the directory is known."""

    def __init__(self) -> None:
        self.owned: str | None = None
        if not os.environ.get(DIRECTORY_VARIABLE):
            self.owned, _ = prepare_directory(None)  # one process without a master: a private one
        from prometheus_client import Counter, Gauge, Histogram

        # registry=None: in multiprocess mode the samples live in the files, and a second Metrics
        # in one process (a reload, a test) must not clash in the default registry
        self.requests = Counter("etamil_http_requests", "HTTP requests answered", ["method", "code"], registry=None)
        self.duration = Histogram(
            "etamil_http_request_duration_seconds",
            "From the request read to its response written",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=None,
        )
        self.in_progress = Gauge(
            "etamil_http_requests_in_progress", "Handlers running on the executor", multiprocess_mode="livesum", registry=None
        )
        self.connections = Gauge(
            "etamil_http_connections", "Open client connections", multiprocess_mode="livesum", registry=None
        )
        self._started: dict[int, float] = {}

    def started(self, request: Any) -> None:
        self._started[id(request)] = time.monotonic()

    def answered(self, request: Any, status: int) -> None:
        began = self._started.pop(id(request), None)
        if began is not None:
            self.duration.observe(time.monotonic() - began)
        method = request.method if request.method in _COMMON_METHODS else "other"
        self.requests.labels(method, str(status)).inc()

    def sample(self, busy: int, connections: int) -> None:
        """The sweep's once-a-second gauges."""
        self.in_progress.set(busy)
        self.connections.set(connections)
        if len(self._started) > 10000:
            self._started.clear()


    def close(self) -> None:
        if self.owned:
            remove_directory(self.owned)


def exposition() -> tuple[bytes, str]:
    """The text of every worker's samples, summed (blocking: reads the sample files)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
