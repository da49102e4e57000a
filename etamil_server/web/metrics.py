"""``/metrics``: Prometheus text format, summed across the workers of one server
(``ETAMIL_METRICS=on``; prometheus_client's multiprocess mode).

Every worker writes its samples to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR``; whichever
worker answers ``/metrics`` reads them all (on the executor: it is file reading). The gunicorn
master makes the directory when none is given, clears stale files at start, marks a worker's
gauges dead when it exits and counts the workers it had to replace (``workers/hooks.py``). One
process (``etamil serve``) works the same, with a private directory.

prometheus_client picks its storage when it is first imported, so nothing here imports it before
the directory is set (the master imports it only once it has set the directory).

The request path costs a few dictionary operations, not a metric update: :class:`RequestTally`
counts in plain Python on the loop thread, and the server's once-a-second sweep (and every
``/metrics`` answer, and the end of a drain) moves the counts into the shared files. A scrape
therefore sees another worker's last second only after that worker's next sweep; a worker
killed with SIGKILL loses at most its last second of counts.

Series are labelled by route *pattern* (``/users/:id``, as registered) or by one of the fixed
labels below for the server's own answers, never by the raw path, and methods outside the usual
seven are counted as ``other``: the number of series is bounded by the program, not by clients.
See docs/OPERATIONS.md for the list of metrics.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from .logs import ERROR_LOG
from .resources import DATABASE_WAIT_BUCKETS

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# route labels for answers no program route gave (program routes start with "/", these never do)
UNMATCHED = "unmatched"  # 404: no route, no endpoint
NOT_ALLOWED = "method_not_allowed"  # 405 on a path that exists
PREFLIGHT = "preflight"  # the 204 OPTIONS answer on a path without an OPTIONS route
REFUSED = "refused"  # refused by the protocol before any route was chosen (400, 408, 413, 414, 417, 431, 505...)
INTERNAL = "internal"  # the server failed before choosing (a defect: logged)
# /health, /ready and /metrics are labelled with their own (fixed) paths

COMMON_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
OTHER_METHOD = "other"
_METHOD_LABELS = {name: name for name in COMMON_METHODS}

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def method_label(method: str) -> str:
    """The method as counted: one of the usual seven (any case), else ``other``."""
    label = _METHOD_LABELS.get(method)
    if label is None:
        label = _METHOD_LABELS.get(method.upper(), OTHER_METHOD)
    return label


def server_answer_label(status: int, path: str, endpoint_paths: frozenset[str]) -> str:
    """The route label of an answer the server gave itself (no program route ran)."""
    if status == 404:
        return UNMATCHED
    if status == 405:
        return NOT_ALLOWED
    if path in endpoint_paths:
        return path
    if status == 204:
        return PREFLIGHT
    return INTERNAL


# ------------------------------------------------------------------------------ the master


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


_restarts: Any = None


def master_started() -> None:
    """In the master, once the directory is set: the worker-restart counter exists from the start
    (at 0), so ``increase()`` over it works before the first restart."""
    global _restarts
    if _restarts is None and os.environ.get(DIRECTORY_VARIABLE):
        from prometheus_client import Counter

        _restarts = Counter(
            "etamil_worker_restarts",
            "Worker processes that exited and were replaced while the server kept running",
            registry=None,
        )


def worker_exited(pid: int, replaced: bool) -> None:
    """In the master: drop a dead worker's live gauges; count it when another takes its place."""
    if not os.environ.get(DIRECTORY_VARIABLE):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)
    if replaced:
        master_started()
        _restarts.inc()


# ------------------------------------------------------------------------------ a worker


class RequestTally:
    """Answers counted since the last flush, in plain Python (the loop thread only)."""

    __slots__ = ("counts", "latency")

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        # route -> [count per bucket of LATENCY_BUCKETS..., count above them (+Inf), sum of seconds]
        self.latency: dict[str, list] = {}

    def answered(self, route: str, method: str, status: int, seconds: float | None) -> None:
        key = (route, method, status)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        if seconds is not None:
            histogram = self.latency.get(route)
            if histogram is None:
                histogram = self.latency[route] = [0] * (len(LATENCY_BUCKETS) + 1) + [0.0]
            histogram[bisect_left(LATENCY_BUCKETS, seconds)] += 1
            histogram[-1] += seconds

    def take(self) -> tuple[dict[tuple[str, str, int], int], dict[str, list]]:
        """What was counted, leaving the tally empty."""
        taken = self.counts, self.latency
        self.counts, self.latency = {}, {}
        return taken


@dataclass
class WorkerSample:
    """The once-a-second gauges of one worker (``Server.sample``)."""

    connections: int = 0
    in_flight: int = 0
    vm_pool_size: int = 0
    vm_idle: int = 0
    vm_in_use: int = 0
    executor_threads: int = 0
    executor_tasks: int = 0
    draining: bool = False
    # per database type: the pool's ``usage()`` (host/db/pool.py)
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)


def _histogram_add(child: Any, counts: list, total: float) -> None:
    """Add counts per bucket (+Inf last) and a sum to a histogram child at once. prometheus_client
    has no public call for this; its children keep one value per bucket (not cumulative) and one
    for the sum, which is what this writes (checked when the instruments are made)."""
    buckets = child._buckets
    if len(buckets) != len(counts):  # prometheus_client changed its insides: say so, count nothing wrong
        raise RuntimeError("prometheus_client's Histogram layout is not the one etamil_server knows")
    for index, count in enumerate(counts):
        if count:
            buckets[index].inc(count)
    if total:
        child._sum.inc(total)


class Metrics:
    """One worker's instruments. Created after the fork, once the directory is known."""

    def __init__(self, database_wait_buckets: tuple[float, ...] = DATABASE_WAIT_BUCKETS) -> None:
        """``database_wait_buckets``: the bounds the pool counts checkout waits in (its own)."""
        self.owned: str | None = None
        if not os.environ.get(DIRECTORY_VARIABLE):
            self.owned, _ = prepare_directory(None)  # one process without a master: a private one
        from prometheus_client import Counter, Gauge, Histogram, values

        if not getattr(values.ValueClass, "_multiprocess", False):
            # prometheus_client was imported before the directory was set (in a process that
            # embeds the server, or a test): it chose one-process storage, which /metrics would
            # never read. Nothing of ours was counted in it; from now on values go to the files.
            values.ValueClass = values.MultiProcessValue()

        def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> Any:
            return Gauge(name, text, labels, multiprocess_mode="livesum", registry=None)

        # registry=None: in multiprocess mode the samples live in the files, and a second Metrics
        # in one process (a reload, a test) must not clash in the default registry
        self.requests = Counter(
            "etamil_http_requests", "HTTP requests answered", ["route", "method", "code"], registry=None
        )
        self.duration = Histogram(
            "etamil_http_request_duration_seconds",
            "From the request taken to its response serialised, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=None,
        )
        self.in_flight = gauge("etamil_http_requests_in_flight", "Requests whose handler runs on the executor")
        self.connections = gauge("etamil_http_connections", "Open client connections")
        self.vm_pool_size = gauge("etamil_vm_pool_size", "VM contexts kept for reuse, at most")
        self.vm_contexts = gauge("etamil_vm_contexts", "VM contexts by state", ("state",))
        self.executor_threads = gauge("etamil_executor_threads", "Threads for handlers that can block, at most")
        self.executor_tasks = gauge("etamil_executor_tasks", "Runs submitted to the executor, queued or running")
        self.workers = gauge("etamil_workers", "Worker processes by state", ("state",))
        self.db_open = gauge("etamil_db_pool_open", "Open database connections (idle, in use, connecting)", ("database",))
        self.db_in_use = gauge("etamil_db_pool_in_use", "Database connections leased to a run", ("database",))
        self.db_waiting = gauge("etamil_db_pool_waiting", "Runs waiting for a free database connection", ("database",))
        self.db_max = gauge("etamil_db_pool_max", "Open database connections allowed (0: no limit)", ("database",))
        self.db_wait = Histogram(
            "etamil_db_pool_wait_seconds",
            "Time a checkout waited for a free connection (0 when one was free)",
            ["database"],
            buckets=database_wait_buckets,
            registry=None,
        )
        self.db_timeouts = Counter(
            "etamil_db_pool_timeouts", "Checkouts that found no free connection in time", ["database"], registry=None
        )
        self.tally = RequestTally()
        self._request_children: dict[tuple[str, str, int], Any] = {}
        self._duration_children: dict[str, Any] = {}
        self._databases_seen: dict[str, tuple[list[int], float, int]] = {}
        self._database_labels: set[str] = set()

    # ------------------------------------------------------------------ requests

    def flush(self) -> None:
        """Move the tally into the shared files (the sweep, ``/metrics``, the end of a drain).
        A failure is logged, never raised: metrics must not break a request or a drain."""
        counts, latency = self.tally.take()
        try:
            self._push(counts, latency)
        except Exception as exc:
            ERROR_LOG.error("etamil-server: metrics update failed: %s: %s", type(exc).__name__, exc)

    def _push(self, counts: dict[tuple[str, str, int], int], latency: dict[str, list]) -> None:
        for key, count in counts.items():
            child = self._request_children.get(key)
            if child is None:
                route, method, status = key
                child = self._request_children[key] = self.requests.labels(route, method, str(status))
            child.inc(count)
        for route, histogram in latency.items():
            child = self._duration_children.get(route)
            if child is None:
                child = self._duration_children[route] = self.duration.labels(route)
            _histogram_add(child, histogram[:-1], histogram[-1])

    # ------------------------------------------------------------------ gauges

    def sample(self, sample: WorkerSample) -> None:
        """The sweep's once-a-second gauges (and the tally's flush)."""
        self.flush()
        self.in_flight.set(sample.in_flight)
        self.connections.set(sample.connections)
        self.vm_pool_size.set(sample.vm_pool_size)
        self.vm_contexts.labels("idle").set(sample.vm_idle)
        self.vm_contexts.labels("in_use").set(sample.vm_in_use)
        self.executor_threads.set(sample.executor_threads)
        self.executor_tasks.set(sample.executor_tasks)
        self.workers.labels("serving").set(0 if sample.draining else 1)
        self.workers.labels("draining").set(1 if sample.draining else 0)
        self._sample_databases(sample.databases)

    def _sample_databases(self, databases: dict[str, dict[str, Any]]) -> None:
        self._database_labels.update(databases)
        for name in self._database_labels:
            usage = databases.get(name)
            if usage is None:  # the pool was closed or replaced: nothing open any more
                for instrument in (self.db_open, self.db_in_use, self.db_waiting):
                    instrument.labels(name).set(0)
                continue
            self.db_open.labels(name).set(usage["open"])
            self.db_in_use.labels(name).set(usage["in_use"])
            self.db_waiting.labels(name).set(usage["waiting"])
            self.db_max.labels(name).set(usage["max"])
            buckets, total, timeouts = list(usage["wait_buckets"]), usage["wait_seconds"], usage["timeouts"]
            seen = self._databases_seen.get(name)
            self._databases_seen[name] = (buckets, total, timeouts)
            if seen is not None and all(now >= before for now, before in zip(buckets, seen[0], strict=True)):
                buckets = [now - before for now, before in zip(buckets, seen[0], strict=True)]
                total -= seen[1]
                timeouts -= seen[2]
            # else: the first look, or a new pool whose totals started again from zero
            if any(buckets):
                _histogram_add(self.db_wait.labels(name), buckets, max(total, 0.0))
            if timeouts > 0:
                self.db_timeouts.labels(name).inc(timeouts)

    def close(self) -> None:
        self.flush()
        if self.owned:
            remove_directory(self.owned)


def exposition() -> tuple[bytes, str]:
    """The text of every worker's samples, summed (blocking: reads the sample files)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
