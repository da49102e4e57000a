"""The scale-out shape on one machine (docs/deploy.md): two hosts in network namespaces, each
``gunicorn -c conf/etamil.py`` serving the example API against one PostgreSQL, behind nginx with
conf/nginx.conf. Under constant write load through nginx:

* a rolling deploy — a changed program and HUP on host A, then on host B;
* a rolling restart — TERM and start again, host A, then host B;

with zero failed requests seen by the clients, and every write answered 2xx present in
PostgreSQL exactly once (no write that was not answered is duplicated either). Meanwhile the
program's timer runs once per cluster: one tick per interval however many hosts and workers run,
and leadership moves to the other host when the leader's host stops.

Skips with a one-line reason where namespaces cannot be made (not root, no iproute2/nginx/
PostgreSQL); in CI (ETAMIL_TEST_REQUIRE_SERVICES=1) that is a failure.
"""

from __future__ import annotations

import os
import time

import pytest
from e2e_helpers import REPO
from multihost import HOST_PORT, Cluster, WriteLoad, get, missing, nginx_fail_timeout

EXAMPLE = (REPO / "examples" / "ledger_api.qmz").read_text(encoding="utf-8")
TIMER = """
// every second, once for the whole cluster: which host ran it, in the database's clock
இடைவெளி 1 {
    தளம்_செய் "INSERT INTO ticks (host, at) VALUES ($1, clock_timestamp())", [சூழல்("HOST_NAME", "?")];
}
"""
VERSION_1 = EXAMPLE + TIMER
VERSION_2 = VERSION_1.replace('status: "ok"', 'status: "ok", version: 2')


@pytest.fixture(scope="module")
def cluster():
    reason = missing()
    if reason is not None:
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the multi-host test cannot run: {reason}")
        pytest.skip(f"network namespaces cannot be made here: {reason}")
    made = Cluster(("a", "b"))
    try:
        made.sql("CREATE TABLE ticks (host text NOT NULL, at timestamptz NOT NULL)")
        for host in made.hosts.values():
            host.deploy(VERSION_1)
            host.start()
        for host in made.hosts.values():
            host.wait_ready()
        yield made
    finally:
        made.close()


def ticks(cluster: Cluster) -> list[tuple[str, float]]:
    return [(host, float(at)) for host, at in cluster.sql("SELECT host, extract(epoch FROM at) FROM ticks ORDER BY at")]


def db_now(cluster: Cluster) -> float:
    return float(cluster.sql("SELECT extract(epoch FROM clock_timestamp())")[0][0])


def test_rolling_deploy_and_restart_lose_nothing_and_timers_run_once_per_cluster(cluster):
    a, b = cluster.hosts["a"], cluster.hosts["b"]
    stopped: dict[str, tuple[float, float]] = {}  # host -> (stopped, started again), database clock
    with WriteLoad(cluster.nginx_port, clients=6) as load:
        load.wait_for(200)

        # rolling deploy: the changed program on A's disk, HUP, until A's new workers serve; then B
        for host in (a, b):
            host.deploy(VERSION_2)
            host.reload()
            load.wait_for(load.ok + 100)
        for host in (a, b):
            assert b'"version": 2' in get(host.address, HOST_PORT, "/")[2] or b'"version":2' in get(
                host.address, HOST_PORT, "/")[2]

        # rolling restart: TERM (the staged drain), start again, until it serves, and as long as
        # nginx leaves a host alone after it refused a connection; then B
        for host in (a, b):
            before = db_now(cluster)
            assert host.stop() == 0, host.output
            time.sleep(1.5)  # a while with the host gone: the other one serves, and leads
            down_until = db_now(cluster)
            host.start().wait_ready()
            stopped[host.name] = (before, down_until)
            time.sleep(nginx_fail_timeout() + 0.5)
        load.wait_for(load.ok + 100)

    seconds = time.monotonic() - load.started
    print(f"\nmultihost: {len(load.answered)} writes and {load.reads} reads answered in {seconds:.1f} s "
          f"through 2 deploys and 2 restarts, {len(load.failures)} failed")
    assert load.failures == [], f"{load.failures[:10]}\nnginx: {cluster.nginx_errors}"
    assert len(load.answered) > 500 and load.reads > 100

    # every write answered 2xx is in PostgreSQL exactly once; no write is there twice
    counts = dict(cluster.sql("SELECT note, count(*) FROM entries GROUP BY note"))
    missing_writes = [note for note in load.answered if counts.get(note) != 1]
    assert missing_writes == [], missing_writes[:10]
    assert max(counts.values()) == 1
    assert set(counts) <= set(load.sent)

    # the timer: one tick per interval for the whole cluster, never two within an interval ...
    recorded = ticks(cluster)
    assert len(recorded) >= 5
    gaps = [later - earlier for (_, earlier), (_, later) in zip(recorded, recorded[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps  # a 1 s timer: the next tick is due 1 s after one finished
    span = recorded[-1][1] - recorded[0][1]
    assert len(recorded) <= span / 1.0 + 1
    # ... and while a host was stopped, the other one ran it
    for name, (down_from, down_until) in stopped.items():
        during = [host for host, at in recorded if down_from + 1.0 < at < down_until]
        assert name not in during, (name, recorded)
    assert {host for host, _ in recorded} == {"a", "b"}  # leadership moved
    print(f"multihost: {len(recorded)} ticks in {span:.1f} s, by {sorted({host for host, _ in recorded})}")
