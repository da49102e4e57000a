"""Scenario 4: kill -9 of one worker under write load. The example API on PostgreSQL, two
workers, closed-loop writers plus a probe that opens a new connection every 10 ms. The master
has a replacement serving within 2 s (its first answer: a request id with a prefix no worker had
before, web/request_ids.py); the only losses are requests in flight on the killed worker (each on
one of its connections, at most one per connection: the bound); no write is half-applied (every
row whole, none twice, every 2xx in the table). A lost request on the probe's fresh connections
has no earlier answer naming its worker; its connection must have been made before the worker
died (one made later waits in the shared listen queue for the others)."""

from __future__ import annotations

import os
import signal
import time

import ledger
from loadgen import Attempt, LoadGen, get_request, report

from bench.loadtest_procs import connection_owners

WRITERS = 24
REPLACEMENT_LIMIT = 2.0  # seconds, the bound


def prefix(attempt: Attempt) -> str:
    """The worker that answered: the per-process prefix of its generated request id."""
    return attempt.headers["x-request-id"].rsplit("-", 1)[0]


def test_kill_9_of_a_worker_loses_only_its_requests_in_flight(gunicorn, ledger_pg):
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME, env={"LEDGER_PG": ledger_pg}).wait_ready()
    writes = ledger.Writes("kill")
    probe_times = [i * 0.01 for i in range(2000)]
    with LoadGen(server.port, writes, connections=WRITERS, duration=40) as posts, \
            LoadGen(server.port, get_request("/", close=True), schedule=probe_times) as probe:
        posts.wait_for(800)
        workers = server.workers()
        owners = connection_owners(server.port, workers)  # client port -> worker, just before
        victim = max(workers, key=lambda pid: sum(1 for owner in owners.values() if owner == pid))
        victim_ports = {port for port, owner in owners.items() if owner == victim}
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        dead_at = wait_dead(victim)
        posts.mark("after")
        server.wait_for_workers(2, exclude={victim})
        posts.wait_for(posts.summary().answered + 500)
        probe.stop()
    everything = posts.attempts() + probe.attempts()
    before = {prefix(a) for a in everything if a.outcome == "answered" and a.finished < killed_at}
    by_port = {a.local_port: prefix(a) for a in everything if a.outcome == "answered" and a.finished < killed_at}
    victim_prefixes = {by_port[port] for port in victim_ports if port in by_port}
    new = sorted((a for a in everything if a.outcome == "answered" and prefix(a) not in before), key=lambda a: a.finished)
    assert new, "no answer from a replacement worker"
    replaced_in = new[0].finished - killed_at
    losses = posts.losses() + probe.losses()
    probe_in_flight = [a for a in probe.attempts() if a.connected and a.connected < dead_at and a.finished > killed_at]
    bound = len(victim_ports) + len(probe_in_flight)
    counts = ledger.check_rows(ledger.postgres_rows(ledger_pg, "kill"), writes, posts.writes_ok(), posts.writes_lost())
    report(
        "4. kill -9 of one worker under write load",
        f"writes: {posts.summary()}",
        f"probe (a new connection every 10 ms): {probe.summary()}",
        f"killed worker {victim}: {len(victim_ports)} of {len(owners)} writer connections, {len(probe_in_flight)} probe requests in flight;"
        f" losses {len(posts.losses())} + {len(probe.losses())} (bound: {len(victim_ports)} + {len(probe_in_flight)})",
        f"replacement answered {replaced_in:.2f} s after the kill (limit {REPLACEMENT_LIMIT:g} s)",
        f"database: {counts['rows']:,} rows; {counts['answered_2xx']:,} answered 2xx, lost writes applied {counts['lost_applied']},"
        f" not applied {counts['lost_not_applied']}",
    )
    assert victim_prefixes and len(victim_prefixes) == 1
    for loss in posts.losses():  # only on the killed worker's connections, one per connection
        assert loss.local_port in victim_ports or by_port.get(loss.local_port) in victim_prefixes, loss
    assert len({loss.local_port for loss in posts.losses()}) == len(posts.losses())
    for loss in probe.losses():  # on a connection made before the worker died: none later
        assert loss.connected < dead_at, loss
    assert len(losses) <= bound
    assert replaced_in < REPLACEMENT_LIMIT
    assert probe.summary().refused == probe.summary().unconnected == 0
    assert set(posts.summary().statuses) == {201}
    assert server.process.poll() is None


def wait_dead(pid: int) -> float:
    """The moment ``pid`` is a zombie or gone (its sockets are closed by then)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="latin-1") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    break
        except OSError:
            break
        time.sleep(0.001)
    return time.monotonic()
