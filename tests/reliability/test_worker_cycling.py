"""Scenario 3: TTIN, TTOU and ``max_requests`` recycling (with jitter) under load: zero lost.
The example API (SQLite, the default) under reads and unique writes; workers come and go while
the load runs, and every write answered 2xx is in the database."""

from __future__ import annotations

import signal

import ledger
from loadgen import LoadGen, get_request, report

RECYCLE_AFTER = 400
JITTER = 200


def nothing_lost(*loads: LoadGen) -> None:
    for load in loads:
        summary = load.summary()
        assert (summary.losses, summary.refused, summary.unconnected) == (0, 0, 0), [str(a) for a in load.losses()[:5]]
        assert summary.answered == summary.ok > 0, summary.statuses


def check_database(server, writes: ledger.Writes, posts: LoadGen) -> dict[str, int]:
    rows = ledger.sqlite_rows(server.tmp_path / "ledger.db", writes.account)
    counts = ledger.check_rows(rows, writes, posts.writes_ok(), posts.writes_lost())
    assert counts["rows"] == counts["answered_2xx"]
    return counts


def test_ttin_then_ttou_under_load_lose_nothing(gunicorn):
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME).wait_ready()
    writes = ledger.Writes("ttx")
    with LoadGen(server.port, get_request("/gst?amount=1000&rate=18"), connections=12, duration=50) as reads, \
            LoadGen(server.port, writes, connections=4, duration=50) as posts:
        reads.wait_for(500)
        server.signal(signal.SIGTTIN)
        added = server.wait_for_workers(3)
        reads.wait_for(reads.summary().answered + 500)
        server.signal(signal.SIGTTOU)
        kept = server.wait_for_workers(2)
        server.signal(signal.SIGTTIN)
        server.wait_for_workers(3)
        server.signal(signal.SIGTTOU)
        server.wait_for_workers(2)
        reads.wait_for(reads.summary().answered + 500)
    counts = check_database(server, writes, posts)
    report(
        "3. TTIN and TTOU under load (2 -> 3 -> 2 -> 3 -> 2 workers)",
        f"reads: {reads.summary()}",
        f"writes: {posts.summary()}",
        f"workers: {sorted(added)} after TTIN, {sorted(kept)} after TTOU; database {counts['rows']:,} rows = writes answered 2xx",
    )
    nothing_lost(reads, posts)


def test_max_requests_with_jitter_recycles_workers_under_load_losing_nothing(gunicorn):
    env = {"ETAMIL_MAX_REQUESTS": str(RECYCLE_AFTER), "ETAMIL_MAX_REQUESTS_JITTER": str(JITTER)}
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME, env=env).wait_ready()
    first = set(server.workers())
    writes = ledger.Writes("recycle")
    seen: set[int] = set(first)
    with LoadGen(server.port, get_request("/"), connections=12, duration=50) as reads, \
            LoadGen(server.port, writes, connections=4, duration=50) as posts:
        # until three generations have come (each worker recycled at least twice)
        for _ in range(3):
            generation = set(server.workers())
            server.wait_until_gone(generation)
            seen |= set(server.workers())
        reads.wait_for(reads.summary().answered + 200)
    counts = check_database(server, writes, posts)
    report(
        f"3. max_requests {RECYCLE_AFTER} + jitter {JITTER} under load",
        f"reads: {reads.summary()}",
        f"writes: {posts.summary()}",
        f"{len(seen)} worker processes served (2 at a time); database {counts['rows']:,} rows = writes answered 2xx",
    )
    nothing_lost(reads, posts)
    assert len(seen) >= 6
    assert server.process.poll() is None
