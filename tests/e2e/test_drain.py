"""Drains under a bounded constant load on loopback: SIGTERM, HUP with a changed program, TTOU and
``max_requests`` recycling, each with zero failed requests among those the server accepted, and
the right exit status. The load keeps handlers in flight (a route waits on a slow upstream)."""

from __future__ import annotations

import signal

from e2e_helpers import Load, get

PROGRAM = """
வழி பெறு, "/v" { பதில் 200, "v1"; }
வழி பெறு, "/slow" { r = வலை_பெறு(சூழல்("SLOW_URL", ""), {}); பதில் 200, "v1 slow"; }
"""


def assert_no_failures(load: Load, *, full_stop: bool = False) -> None:
    assert load.failures == []
    assert load.unaccepted == 0  # a full stop fences the listeners first (web/listen_fence.py)
    if not full_stop:
        assert load.refused == 0
    assert load.ok > 0


def test_sigterm_drains_in_flight_requests_and_exits_0(gunicorn, upstream):
    server = gunicorn(PROGRAM, processes=2, env={"SLOW_URL": upstream.url}).wait_ready()
    with Load(server.port, "/slow", connections=6) as load:
        load.wait_for(60)
        server.signal(signal.SIGTERM)
        status = server.wait()
    assert status == 0
    assert_no_failures(load, full_stop=True)


def test_hup_reloads_a_changed_program_with_zero_failed_requests(gunicorn, upstream):
    server = gunicorn(PROGRAM, processes=2, env={"SLOW_URL": upstream.url}).wait_ready()
    old = set(server.workers())
    with Load(server.port, "/slow", connections=4) as slow_load, Load(server.port, "/v", connections=2) as load:
        load.wait_for(100)
        server.program.write_text(PROGRAM.replace("v1", "v2"), encoding="utf-8")
        server.signal(signal.SIGHUP)
        server.wait_for_workers(2, exclude=old)
        before = load.ok
        load.wait_for(before + 50)
    assert_no_failures(load)
    assert_no_failures(slow_load)
    assert load.bodies[b"v1"] > 0 and load.bodies[b"v2"] > 0
    assert get(server.port, "/v")[2] == b"v2"
    assert server.process.poll() is None


def test_hup_with_a_broken_program_keeps_the_running_version(gunicorn):
    server = gunicorn(PROGRAM, processes=2).wait_ready()
    old = set(server.workers())
    with Load(server.port, "/v", connections=2) as load:
        load.wait_for(50)
        server.program.write_text('வழி பெறு, "/v" { பதில் 200, ; }\n', encoding="utf-8")
        server.signal(signal.SIGHUP)
        server.wait_for_workers(2, exclude=old)  # gunicorn still cycles the workers
        load.wait_for(load.ok + 50)
    assert_no_failures(load)
    assert set(load.bodies) == {b"v1"}
    assert "reload of app.qmz failed" in server.stderr


def test_ttou_retires_a_worker_without_losing_a_request(gunicorn, upstream):
    server = gunicorn(PROGRAM, processes=3, env={"SLOW_URL": upstream.url}).wait_ready()
    server.wait_for_workers(3)
    with Load(server.port, "/slow", connections=6) as load:
        load.wait_for(60)
        server.signal(signal.SIGTTOU)
        server.wait_for_workers(2)
        load.wait_for(load.ok + 60)
    assert_no_failures(load)


def test_ttin_adds_a_worker_without_losing_a_request(gunicorn):
    server = gunicorn(PROGRAM, processes=1).wait_ready()
    with Load(server.port, "/v", connections=3) as load:
        load.wait_for(50)
        server.signal(signal.SIGTTIN)
        server.wait_for_workers(2)
        load.wait_for(load.ok + 50)
    assert_no_failures(load)


def test_max_requests_recycles_workers_without_losing_a_request(gunicorn, upstream):
    server = gunicorn(
        PROGRAM, processes=2, env={"SLOW_URL": upstream.url, "ETAMIL_MAX_REQUESTS": "100"}
    ).wait_ready()
    first = set(server.workers())
    with Load(server.port, "/v", connections=3) as load, Load(server.port, "/slow", connections=3) as slow_load:
        server.wait_until_gone(first)  # both recycled (and their successors perhaps too)
        load.wait_for(load.ok + 50)
    assert_no_failures(load)
    assert_no_failures(slow_load)
    assert server.process.poll() is None
