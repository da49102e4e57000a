"""The example API (examples/ledger_api.qmz) as the reliability scenarios drive it: its source,
unique writes (one note per write), and what its database holds afterwards."""

from __future__ import annotations

import collections
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

from loadgen import Planned, post_request

REPO = Path(__file__).resolve().parents[2]
SOURCE = (REPO / "examples" / "ledger_api.qmz").read_text(encoding="utf-8")
NAME = "ledger_api.qmz"


class Writes:
    """``POST /accounts/<account>/entries`` with a note unique to each attempt (``<tag>-<index>``)
    and an amount derived from the index, so a row in the database names the write it came from
    and shows whether it arrived whole."""

    def __init__(self, account: str, tag: str = "w"):
        self.account = account
        self.tag = tag

    @staticmethod
    def amount(index: int) -> Decimal:
        return Decimal(index % 1000) + Decimal(index % 100) / 100

    def __call__(self, index: int) -> Planned:
        note = f"{self.tag}-{index}"
        body = json.dumps({"amount": str(self.amount(index)), "note": note}).encode()
        return Planned(post_request(f"/accounts/{self.account}/entries", body), write=note)

    def expected_amount(self, note: str) -> Decimal:
        return self.amount(int(note.rsplit("-", 1)[1]))


def postgres_rows(dsn: str, account: str) -> list[tuple[str, Decimal]]:
    """(note, amount) of every entry of ``account`` in the PostgreSQL behind ``dsn``."""
    import psycopg2

    with psycopg2.connect(dsn, connect_timeout=5) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT note, amount FROM entries WHERE account = %s", (account,))
        rows = cursor.fetchall()
    connection.close()
    return rows


def sqlite_rows(path: Path, account: str) -> list[tuple[str, Decimal]]:
    """(note, amount) of every entry of ``account`` in the SQLite file (amounts are TEXT there)."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT note, amount FROM entries WHERE account = ?", (account,)).fetchall()
    return [(note, Decimal(amount)) for note, amount in rows]


def check_rows(rows: list[tuple[str, Decimal]], writes: Writes, ok: set[str], lost: set[str]) -> dict[str, int]:
    """Compare a database with what the load saw: every write answered 2xx is there exactly once,
    whole (its amount); a lost write (no complete answer) may be there once or not at all; nothing
    else is there. Returns the counts; raises AssertionError naming what is wrong."""
    times = collections.Counter(note for note, _ in rows)
    duplicates = sorted(note for note, count in times.items() if count > 1)
    assert not duplicates, f"writes applied twice: {duplicates[:10]}"
    present = set(times)
    missing = ok - present
    assert not missing, f"{len(missing)} writes answered 2xx are not in the database: {sorted(missing)[:10]}"
    strangers = present - ok - lost
    assert not strangers, f"{len(strangers)} rows that no 2xx answer or lost request explains: {sorted(strangers)[:10]}"
    broken = [(note, amount) for note, amount in rows if amount != writes.expected_amount(note)]
    assert not broken, f"rows not written whole: {broken[:10]}"
    return {"rows": len(rows), "answered_2xx": len(ok), "lost_applied": len(present & lost), "lost_not_applied": len(lost - present)}
