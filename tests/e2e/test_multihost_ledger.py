"""The example API (examples/ledger_api.qmz) under gunicorn on both of its databases: SQLite by
default (the README's ``make serve``), PostgreSQL when LEDGER_PG names one — the shape the
multi-host test runs. The same requests give the same answers, exact decimals included."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from e2e_helpers import REPO, exchange, get
from e2e_helpers import postgres_schema as e2e_postgres_schema

EXAMPLE = (REPO / "examples" / "ledger_api.qmz").read_text(encoding="utf-8")


def post(port: int, target: str, body: dict):
    data = json.dumps(body).encode()
    head = f"POST {target} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return exchange(port, head.encode() + data)


@pytest.fixture
def postgres_schema():
    with e2e_postgres_schema("etamil_ledger_") as (dsn, _):
        yield dsn


def exercise(port: int) -> list:
    answers = [get(port, "/")[2]]
    for amount in ("1250.50", "0.1", "0.2", "-100"):
        status, _, body, _ = post(port, "/accounts/kamala/entries", {"amount": amount, "note": f"n{amount}"})
        answers.append((status, json.loads(body, parse_float=Decimal)))
    answers.append(post(port, "/accounts/kamala/entries", {"note": "no amount"})[0])
    balance = json.loads(get(port, "/accounts/kamala/balance")[2], parse_float=Decimal)
    entries = json.loads(get(port, "/accounts/kamala/entries")[2], parse_float=Decimal)
    answers.append(balance)
    answers.append([(entry["amount"], entry["note"]) for entry in entries])
    return answers


def test_sqlite_by_default_and_postgres_by_ledger_pg_answer_alike(gunicorn, postgres_schema):
    sqlite = gunicorn(EXAMPLE, processes=1, name="ledger_api.qmz").wait_ready()
    on_sqlite = exercise(sqlite.port)
    sqlite.stop()
    assert (sqlite.tmp_path / "ledger.db").exists()
    postgres = gunicorn(EXAMPLE, processes=1, name="ledger_api.qmz", env={"LEDGER_PG": postgres_schema}).wait_ready()
    on_postgres = exercise(postgres.port)
    assert on_sqlite == on_postgres
    assert on_postgres[-2]["balance"] == Decimal("1150.8")  # 1250.50 + 0.1 + 0.2 - 100, exactly
    assert on_postgres[-2]["display"].startswith("₹")
    assert on_postgres[1][0] == "HTTP/1.1 201 Created"
    assert on_postgres[5] == "HTTP/1.1 400 Bad Request"
