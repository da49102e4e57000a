"""Scenario 1: SIGTERM under constant write load. The example API on PostgreSQL (LEDGER_PG),
two workers writing; 48 keep-alive clients post entries with a unique note each. At SIGTERM
every request the server accepted gets its real answer (201 with its own entry), nothing is
lost, the master exits 0, and the database holds exactly the writes answered 2xx."""

from __future__ import annotations

import json
import signal
import time

import ledger
from loadgen import LoadGen, report

CONNECTIONS = 48
BEFORE_TERM = 1500  # answers before the signal: the load is in full swing


def test_sigterm_under_write_load_answers_every_accepted_request(gunicorn, ledger_pg):
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME, env={"LEDGER_PG": ledger_pg}).wait_ready()
    writes = ledger.Writes("term")
    load = LoadGen(server.port, writes, connections=CONNECTIONS, duration=40).start()
    load.wait_for(BEFORE_TERM)
    load.mark("draining")
    signalled = time.monotonic()
    server.signal(signal.SIGTERM)
    status = server.wait()
    load.mark("stopped")
    summary = load.stop()
    in_flight = [a for a in load.attempts() if a.began < signalled < a.finished]

    rows = ledger.postgres_rows(ledger_pg, "term")
    counts = ledger.check_rows(rows, writes, load.writes_ok(), load.writes_lost())
    draining = load.summary("draining")
    report(
        "1. SIGTERM under write load",
        f"all: {summary}",
        f"sent after the signal, until the master exited: {draining}",
        f"in flight at the signal: {len(in_flight)}, answered {sum(a.ok for a in in_flight)}",
        f"database: {counts['rows']:,} rows = {counts['answered_2xx']:,} writes answered 2xx; master exit status {status}",
    )
    assert status == 0
    assert summary.losses == 0, [str(attempt) for attempt in load.losses()[:5]]
    assert summary.unconnected == 0, [str(a) for a in load.attempts() if a.outcome == 'unconnected'][:5]
    assert set(summary.statuses) == {201}
    assert in_flight and all(attempt.ok for attempt in in_flight)
    assert counts["rows"] == counts["answered_2xx"] == summary.ok
    for attempt in load.attempts():  # each answer is the entry it was asked to write
        if attempt.ok:
            assert json.loads(attempt.body)["note"] == attempt.write
