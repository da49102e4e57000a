"""Scenario 9: memory. The example API under a mix of every route (status, GST, balance and
entries of an account with a few entries, writes, a 400 and a 404) from 16 keep-alive clients:
after a warm-up, the resident memory of each worker grows less than 5 MB.

The long form (``ETAMIL_RELIABILITY_LONG=1``) sends the issue's 200,000 requests; the default (CI)
sends ``CI_REQUESTS``, enough to show the growth per request, which is printed with the total: a
leak of 25 bytes a request would be 5 MB in the long form.

On PostgreSQL the rows live in the database server, so a worker's memory is the server's own:
the mix writes. On SQLite each pooled connection keeps its own page cache (2 MB by default) of
the table, which the ledger's queries scan whole, so under writes the caches grow with the table,
up to their bound: megabytes that are not a leak (docs/reliability.md has the figures). There the
table stays as the warm-up left it: the writes' turn reads the status route instead.
"""

from __future__ import annotations

import json
import os

import ledger
import pytest
from loadgen import LoadGen, Planned, get_request, post_request, report

from bench.loadtest_procs import MIB, rss_bytes

LONG = os.environ.get("ETAMIL_RELIABILITY_LONG") == "1"
WARM_UP = 10_000
CI_REQUESTS = 40_000
LONG_REQUESTS = 200_000
GROWTH_LIMIT = 5 * MIB


def mix(index: int, writes: bool = True) -> Planned | bytes:
    """Every route of the example API, in turn; one request in ten writes (or, without
    ``writes``, reads the status route instead)."""
    turn = index % 10
    if turn == 0 and not writes:
        return get_request("/")
    if turn == 0:
        body = json.dumps({"amount": f"{index % 997}.{index % 100:02d}", "note": f"m-{index}"}).encode()
        return Planned(post_request("/accounts/mem-sink/entries", body), write=f"m-{index}")
    return (
        get_request("/"),
        get_request(f"/gst?amount={index % 100_000}&rate={(5, 12, 18, 28)[index % 4]}"),
        get_request("/accounts/mem-read/balance"),
        get_request("/accounts/mem-read/entries"),
        get_request(f"/accounts/c{index % 50}/balance"),
        post_request("/accounts/mem-read/entries", b"{not json"),
        get_request(f"/no/such/{index}"),
        get_request("/gst?amount=abc"),
        get_request("/"),
    )[turn - 1]


def memory(pids: list[int]) -> dict[int, int]:
    return {pid: rss_bytes(pid) or 0 for pid in pids}


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_resident_memory_per_worker_stays_flat(gunicorn, request, database):
    total = LONG_REQUESTS if LONG else CI_REQUESTS
    writes = database == "postgresql"
    env = {"LEDGER_PG": request.getfixturevalue("ledger_pg")} if database == "postgresql" else {}
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME, env=env).wait_ready()
    for index in range(5):  # the read account's few entries (the first one creates the table)
        body = json.dumps({"amount": f"{index}.5", "note": f"seed-{index}"}).encode()
        LoadGen(server.port, post_request("/accounts/mem-read/entries", body), connections=1, count=1).start().wait()
    workers = server.workers()
    warm = LoadGen(server.port, lambda index: mix(index, writes), connections=16, count=WARM_UP).start().wait()
    before = memory(workers)
    load = LoadGen(server.port, lambda index: mix(index + WARM_UP, writes), connections=16, count=total // 2).start()
    first_half = load.wait(timeout=900)
    middle = memory(workers)
    load = LoadGen(server.port, lambda index: mix(index + WARM_UP + total // 2, writes), connections=16, count=total - total // 2).start()
    second_half = load.wait(timeout=900)
    after = memory(workers)
    growth = {pid: after[pid] - before[pid] for pid in workers}
    lines = [f"warm-up: {warm}", f"first half: {first_half}", f"second half: {second_half}"]
    for pid in workers:
        lines.append(
            f"worker {pid}: {before[pid] / MIB:.1f} MiB after warm-up, {middle[pid] / MIB:.1f} MiB halfway,"
            f" {after[pid] / MIB:.1f} MiB after {total:,} requests: {growth[pid] / MIB:+.2f} MiB,"
            f" {growth[pid] / (total / len(workers)):+.1f} bytes per request it served (about {total // len(workers):,})"
        )
    form = "long" if LONG else "CI"
    report(f"9. Memory, {total:,} requests on {database}{'' if writes else ', no writes'} ({form} form)", *lines)
    assert server.workers() == workers  # the same processes throughout: nothing recycled them
    for summary in (first_half, second_half):
        assert summary.losses == summary.refused == summary.unconnected == 0
        assert set(summary.statuses) <= {200, 201, 400, 404}
    assert all(value < GROWTH_LIMIT for value in growth.values()), growth
