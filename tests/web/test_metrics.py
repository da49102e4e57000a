"""The metrics of one worker: labels that stay bounded, the plain-Python tally of the request path,
and what reaches the Prometheus page (parsed back with prometheus_client's own parser)."""

from __future__ import annotations

import os

import pytest

from etamil_server.web import metrics as metrics_module
from etamil_server.web.metrics import (
    INTERNAL,
    LATENCY_BUCKETS,
    NOT_ALLOWED,
    PREFLIGHT,
    UNMATCHED,
    RequestTally,
    WorkerSample,
    method_label,
    server_answer_label,
)

ENDPOINTS = frozenset(("/health", "/ready", "/metrics"))


@pytest.fixture
def multiprocess(tmp_path, monkeypatch):
    """prometheus_client in multiprocess mode on a directory of this test's own, whatever this
    process imported before (it picks its storage at import; the worker sets the directory first)."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    from prometheus_client import values

    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue())
    return directory


def families() -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    text, content_type = metrics_module.exposition()
    assert content_type.startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(text.decode())}


def samples(found: dict, family: str, sample_name: str | None = None) -> dict:
    """{frozen labels: value} of one sample name of a family."""
    wanted = sample_name or family
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for sample in found[family].samples
        if sample.name == wanted
    }


# ------------------------------------------------------------------------------ labels


@pytest.mark.parametrize(
    ("method", "label"),
    [("GET", "GET"), ("get", "GET"), ("Patch", "PATCH"), ("OPTIONS", "OPTIONS"), ("FROB", "other"), ("purge", "other")],
)
def test_methods_outside_the_usual_seven_are_other(method, label):
    assert method_label(method) == label


@pytest.mark.parametrize(
    ("status", "path", "label"),
    [
        (404, "/any/thing", UNMATCHED),
        (405, "/health", NOT_ALLOWED),
        (405, "/orders", NOT_ALLOWED),
        (200, "/health", "/health"),
        (503, "/ready", "/ready"),
        (200, "/metrics", "/metrics"),
        (204, "/orders", PREFLIGHT),
        (500, "/x", INTERNAL),
    ],
)
def test_the_server_s_own_answers_have_fixed_labels(status, path, label):
    assert server_answer_label(status, path, ENDPOINTS) == label


# ------------------------------------------------------------------------------ the tally


def test_the_tally_counts_by_route_method_and_status_with_latency_buckets():
    tally = RequestTally()
    tally.answered("/users/:id", "GET", 200, 0.0004)
    tally.answered("/users/:id", "GET", 200, 0.003)
    tally.answered("/users/:id", "GET", 404, 100.0)
    tally.answered("refused", "other", 414, None)
    counts, latency = tally.take()
    assert counts == {("/users/:id", "GET", 200): 2, ("/users/:id", "GET", 404): 1, ("refused", "other", 414): 1}
    histogram = latency["/users/:id"]
    assert len(histogram) == len(LATENCY_BUCKETS) + 2  # the buckets, +Inf, the sum
    assert histogram[0] == 1  # 0.0004 <= 0.0005
    assert histogram[LATENCY_BUCKETS.index(0.005)] == 1  # 0.0025 < 0.003 <= 0.005
    assert histogram[len(LATENCY_BUCKETS)] == 1  # above every bound: +Inf
    assert histogram[-1] == pytest.approx(100.0034)
    assert "refused" not in latency  # no latency known for a refusal
    assert tally.take() == ({}, {})  # taken means gone


def test_a_value_on_a_bound_falls_in_that_bucket():
    tally = RequestTally()
    tally.answered("/", "GET", 200, 0.01)
    _, latency = tally.take()
    assert latency["/"][LATENCY_BUCKETS.index(0.01)] == 1


# ------------------------------------------------------------------------------ to the page


def test_flushed_counts_and_latencies_reach_the_page(multiprocess):
    metrics = metrics_module.Metrics()
    for seconds in (0.0001, 0.002, 0.2):
        metrics.tally.answered("/users/:id", "GET", 200, seconds)
    metrics.tally.answered("/users/:id", "other", 405, 0.001)
    metrics.tally.answered("refused", "other", 431, None)
    assert families().get("etamil_http_requests") is None  # nothing before the flush
    metrics.flush()
    found = families()
    requests = samples(found, "etamil_http_requests", "etamil_http_requests_total")
    assert requests == {
        (("code", "200"), ("method", "GET"), ("route", "/users/:id")): 3.0,
        (("code", "405"), ("method", "other"), ("route", "/users/:id")): 1.0,
        (("code", "431"), ("method", "other"), ("route", "refused")): 1.0,
    }
    name = "etamil_http_request_duration_seconds"
    counts = samples(found, name, name + "_count")
    assert counts == {(("route", "/users/:id"),): 4.0}
    buckets = {dict(labels)["le"]: value for labels, value in samples(found, name, name + "_bucket").items()}
    assert buckets["0.0005"] == 1.0 and buckets["0.001"] == 2.0 and buckets["0.0025"] == 3.0
    assert buckets["0.25"] == 4.0 and buckets["+Inf"] == 4.0  # cumulative, as Prometheus wants
    assert samples(found, name, name + "_sum")[(("route", "/users/:id"),)] == pytest.approx(0.2031)
    metrics.tally.answered("/users/:id", "GET", 200, 0.0001)
    metrics.flush()
    again = samples(families(), "etamil_http_requests", "etamil_http_requests_total")
    assert again[(("code", "200"), ("method", "GET"), ("route", "/users/:id"))] == 4.0


def test_gauges_and_database_numbers(multiprocess):
    metrics = metrics_module.Metrics(database_wait_buckets=(0.01, 0.1))
    usage = {
        "open": 3, "idle": 1, "in_use": 2, "waiting": 1, "max": 20,
        "wait_buckets": [5, 1, 0], "wait_seconds": 0.05, "timeouts": 0,
    }
    sample = WorkerSample(
        connections=7, in_flight=2, vm_pool_size=66, vm_idle=60, vm_in_use=3,
        executor_threads=64, executor_tasks=4, draining=False, databases={"PostgreSQL": dict(usage)},
    )
    metrics.sample(sample)
    found = families()
    assert samples(found, "etamil_http_connections") == {(): 7.0}
    assert samples(found, "etamil_http_requests_in_flight") == {(): 2.0}
    assert samples(found, "etamil_vm_contexts") == {(("state", "idle"),): 60.0, (("state", "in_use"),): 3.0}
    assert samples(found, "etamil_executor_tasks") == {(): 4.0}
    assert samples(found, "etamil_workers") == {(("state", "serving"),): 1.0, (("state", "draining"),): 0.0}
    assert samples(found, "etamil_db_pool_in_use") == {(("database", "PostgreSQL"),): 2.0}
    assert samples(found, "etamil_db_pool_max") == {(("database", "PostgreSQL"),): 20.0}
    wait = "etamil_db_pool_wait_seconds"
    assert samples(found, wait, wait + "_count") == {(("database", "PostgreSQL"),): 6.0}
    # the pool's totals only grow: a second look adds the difference, not the totals again
    usage.update(wait_buckets=[6, 1, 1], wait_seconds=0.5, timeouts=2)
    metrics.sample(WorkerSample(draining=True, databases={"PostgreSQL": dict(usage)}))
    found = families()
    assert samples(found, wait, wait + "_count") == {(("database", "PostgreSQL"),): 8.0}
    assert samples(found, wait, wait + "_sum")[(("database", "PostgreSQL"),)] == pytest.approx(0.5)
    assert samples(found, "etamil_db_pool_timeouts", "etamil_db_pool_timeouts_total") == {
        (("database", "PostgreSQL"),): 2.0
    }
    assert samples(found, "etamil_workers") == {(("state", "serving"),): 0.0, (("state", "draining"),): 1.0}
    # the pool closed (a drain): its connections are gone from the gauges
    metrics.sample(WorkerSample(draining=True, databases={}))
    assert samples(families(), "etamil_db_pool_open") == {(("database", "PostgreSQL"),): 0.0}


def test_a_replaced_pool_starts_its_totals_again(multiprocess):
    metrics = metrics_module.Metrics(database_wait_buckets=(0.01,))
    base = {"open": 1, "idle": 1, "in_use": 0, "waiting": 0, "max": 20, "wait_seconds": 0.0, "timeouts": 0}
    metrics.sample(WorkerSample(databases={"SQLite": dict(base, wait_buckets=[10, 0])}))
    metrics.sample(WorkerSample(databases={"SQLite": dict(base, wait_buckets=[2, 0])}))  # a new pool
    wait = "etamil_db_pool_wait_seconds"
    assert samples(families(), wait, wait + "_count") == {(("database", "SQLite"),): 12.0}


def test_a_histogram_layout_the_code_does_not_know_is_reported_not_miscounted(multiprocess, capsys, server_log):
    metrics = metrics_module.Metrics()
    metrics.tally.answered("/", "GET", 200, 0.001)
    child = metrics.duration.labels("/")
    child._buckets = child._buckets[:-1]  # as if prometheus_client stored its buckets otherwise
    metrics.flush()  # logged, not raised: a request or a drain must not fail on it
    assert "Histogram layout" in capsys.readouterr().err


def test_the_master_counts_replaced_workers_only(multiprocess):
    metrics_module._restarts = None
    try:
        metrics_module.master_started()
        metrics_module.worker_exited(999999, replaced=False)
        assert samples(families(), "etamil_worker_restarts", "etamil_worker_restarts_total") == {(): 0.0}
        metrics_module.worker_exited(999998, replaced=True)
        metrics_module.worker_exited(999997, replaced=True)
        assert samples(families(), "etamil_worker_restarts", "etamil_worker_restarts_total") == {(): 2.0}
    finally:
        metrics_module._restarts = None


def test_a_dead_worker_s_gauges_leave_the_sum(multiprocess):
    metrics = metrics_module.Metrics()
    metrics.sample(WorkerSample(connections=5))
    assert samples(families(), "etamil_http_connections") == {(): 5.0}
    metrics_module.worker_exited(os.getpid(), replaced=False)  # as the master does for a dead one
    assert "etamil_http_connections" not in families()


def test_prometheus_imported_before_the_directory_was_set_still_counts(tmp_path, monkeypatch):
    from prometheus_client import values

    directory = tmp_path / "late"
    directory.mkdir()
    monkeypatch.setattr(values, "ValueClass", values.MutexValue)  # one-process storage chosen at import
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    metrics = metrics_module.Metrics()
    metrics.tally.answered("/", "GET", 200, 0.001)
    metrics.flush()
    requests = samples(families(), "etamil_http_requests", "etamil_http_requests_total")
    assert requests == {(("code", "200"), ("method", "GET"), ("route", "/")): 1.0}
