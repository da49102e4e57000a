"""Scenario 11: ramp and spike, against the example API (GET /gst: decimals and JSON, no database).

Ramp: keep-alive clients rising step by step to 2,000 connections (the clients of earlier steps
stay), ``STEP_SECONDS`` per step. The open-file limit is raised in this process before the server
starts, so gunicorn and its workers inherit it. The knee is the load test's
(``bench.loadtest_scenarios.find_knee``): the last step with no error and a p99 within
``P99_LIMIT_MS``. Below it nothing but 200; at every step no loss, no failed connect.

Spike: 1 request/s, then 1,000 requests within one second, each on a connection of its own
(``bench.loadtest_spike.schedule``, the load test's plan), then 1 request/s again: every one of
the 1,000 is answered 200.

Above the knee a worker may shed load: beyond ``ETAMIL_MAX_CONCURRENCY`` (1,000) requests in
handling it answers 503 with ``Connection: close`` at once. Two workers at 2,000 connections sit
right at that bound, so a step above the knee may see a few; nothing is ever lost or refused."""

from __future__ import annotations

import resource
import time

import ledger
import pytest
from loadgen import LoadGen, get_request, report, summarise

from bench.loadtest_scenarios import P99_LIMIT_MS, find_knee
from bench.loadtest_spike import SPIKE_REQUESTS, schedule

STEPS = (10, 50, 100, 250, 500, 1000, 1500, 2000)
STEP_SECONDS = 2.0
OPEN_FILES = 8192  # 2,000 client sockets here, as many accepted ones spread over the workers
ROUTE = "/gst?amount=1000&rate=18"


@pytest.fixture
def open_files():
    """The soft open-file limit raised to ``OPEN_FILES`` (within the hard limit) for this test
    and the processes it starts; put back afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    if wanted < STEPS[-1] * 2:
        pytest.skip(f"the hard open-file limit ({hard}) is too low for {STEPS[-1]:,} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_ramp_to_2000_connections_without_an_error(gunicorn, open_files):
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME).wait_ready()
    load = LoadGen(server.port, get_request(ROUTE), connections=0, duration=STEP_SECONDS * len(STEPS) + 30)
    load.start()
    current = 0
    for connections in STEPS:
        load.mark(f"c={connections}")
        load.add_connections(connections - current)
        current = connections
        time.sleep(STEP_SECONDS)
    summary = load.stop()
    steps, lines = [], []
    for connections in STEPS:  # every attempt of a step, finished (the last ones end after it)
        phase = summarise(load.attempts(f"c={connections}"))
        shed = phase.statuses.get(503, 0)
        errors = {"losses": phase.losses, "unconnected": phase.unconnected, "refused": phase.refused,
                  "503 (shed)": shed, "other": phase.answered - phase.statuses.get(200, 0) - shed}
        steps.append({"connections": connections, "error_total": sum(errors.values()), "errors": errors,
                      "p99_ms": phase.p99_ms})
        lines.append(f"c={connections:>5,}: {phase}")
    knee, stopped_by = find_knee(steps)
    lines.append(f"knee (the last step with no error and p99 <= {P99_LIMIT_MS:g} ms): c={knee}; the first beyond it: {stopped_by}")
    lines.append(f"all: {summary}")
    report("11. Ramp to 2,000 connections", *lines)
    assert knee is not None, steps[0]
    for step in steps:
        # nothing lost or refused at any step; the only error allowed, above the knee, is the
        # per-worker concurrency cap's 503 with Connection: close (ETAMIL_MAX_CONCURRENCY)
        errors = step["errors"]
        assert errors["losses"] == errors["unconnected"] == errors["refused"] == errors["other"] == 0, step
        if step["connections"] <= knee:
            assert step["error_total"] == 0, step
    assert summary.losses == summary.unconnected == summary.refused == 0


def test_a_spike_of_1000_requests_in_one_second_is_answered_in_full(gunicorn, open_files):
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME).wait_ready()
    plan = schedule(3, 2)
    load = LoadGen(server.port, get_request(ROUTE, close=True), schedule=[moment for moment, _ in plan], timeout=30)
    load.start().wait()
    phases = {index: phase for index, (_, phase) in enumerate(plan)}
    by_phase = {name: [a for a in load.attempts() if phases[a.index] == name] for name in ("base", "spike", "after")}
    spike = summarise(by_phase["spike"])
    sent = [a.began for a in by_phase["spike"]]
    report(
        "11. Spike: 1 request/s, then 1,000 requests in one second",
        f"base: {summarise(by_phase['base'])}",
        f"spike: {spike}; sent within {max(sent) - min(sent):.2f} s",
        f"after: {summarise(by_phase['after'])}",
    )
    assert spike.requests == SPIKE_REQUESTS
    assert spike.ok == SPIKE_REQUESTS, spike
    assert load.summary().ok == len(plan)
