"""Fixtures for the reliability suite: the real server (``gunicorn -c conf/etamil.py``, from
tests/e2e/e2e_helpers.py), the example API, a PostgreSQL schema of its own, and the load
generator (loadgen.py).

The modules of this directory, tests/e2e's helpers and the repository root (``bench``: the load
test's client and /proc readers) are put on sys.path, so the scenarios import ``loadgen``,
``ledger``, ``e2e_helpers`` and ``bench.*`` by name.

Every scenario is bounded (its load generators stop by themselves) and runs on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for entry in (HERE, REPO / "tests" / "e2e", REPO):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from e2e_helpers import postgres_schema, servers_in  # noqa: E402


@pytest.fixture
def gunicorn(tmp_path):
    """``start(source, processes=2, env={...}, name="app.qmz")``: a server on a free loopback
    port serving ``source`` (written to tmp_path); every server started is stopped afterwards."""
    with servers_in(tmp_path) as start:
        yield start


@pytest.fixture
def ledger_pg():
    """A connection text for LEDGER_PG: the test PostgreSQL with a schema of this test's own."""
    with postgres_schema("etamil_reliability_") as (dsn, _):
        yield dsn

