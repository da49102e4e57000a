"""SQLite (HOST.md §5.3-§5.6, §5.8, §5.9): every row of the §5.5 and §5.6 tables."""

import os
from decimal import Decimal

import pytest

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError
from etamil_server.runtime.values import Err, Ok

D = Decimal


def message_of(call, *args) -> str:
    with pytest.raises(EtamilError) as raised:
        call(*args)
    return raised.value.message


@pytest.fixture
def db(new_session):
    session = new_session()
    session.connect("SQLite", ":memory:")
    return session


def one(session, sql, params=()):
    rows = session.query(sql, list(params))
    assert len(rows) == 1
    return rows[0]


# ------------------------------------------------------------------------------ §5.5 values in


def test_number_binds_as_its_shortest_text(db):
    assert one(db, "SELECT typeof(?1) AS t, quote(?1) AS q", [D("12.50")]) == {"t": "text", "q": "'12.5'"}
    assert one(db, "SELECT quote(?) AS q", [D("-0.050")]) == {"q": "'-0.05'"}


def test_text_binds_as_text(db):
    assert one(db, "SELECT typeof(?1) AS t, ?1 AS v", ["வணக்கம்"]) == {"t": "text", "v": "வணக்கம்"}


def test_boolean_binds_as_integer(db):
    assert one(db, "SELECT typeof(?1) AS t, ?1 AS v, ?2 AS w", [True, False]) == {"t": "integer", "v": 1, "w": 0}


def test_nil_binds_as_null(db):
    assert one(db, "SELECT typeof(?1) AS t, ?1 AS v", [None]) == {"t": "null", "v": None}


def test_compound_values_bind_as_their_rendering(db):
    # quirk: lossy, where PostgreSQL and MySQL refuse
    row = one(db, "SELECT ? AS a, ? AS r, ? AS ok, ? AS err",
              [[D(1), "அ", True], {"b": D(2), "a": "x"}, Ok(D(5)), Err("not found")])
    assert row == {"a": "[1, அ, true]", "r": "{a: x, b: 2}", "ok": "சரி(5)", "err": "தவறு(not found)"}


def test_placeholders_fill_in_sqlites_index_order(db):
    row = one(db, "SELECT ?2 AS second, ?1 AS first", ["one", "two"])
    assert row == {"second": "two", "first": "one"}
    row = one(db, "SELECT :a AS a, @b AS b, $c AS c", ["x", "y", "z"])
    assert row == {"a": "x", "b": "y", "c": "z"}


def test_affinity_decides_what_is_stored(db):
    db.execute("CREATE TABLE p (t TEXT, n NUMERIC, r REAL, i INTEGER, u)", [])
    db.execute("INSERT INTO p VALUES (?1, ?1, ?1, ?1, ?1)", [D("12.50")])
    row = one(db, "SELECT typeof(t) t, typeof(n) n, typeof(r) r, typeof(i) i, typeof(u) u FROM p")
    assert row == {"t": "text", "n": "real", "r": "real", "i": "real", "u": "text"}
    # comparisons against a TEXT column are textual
    assert db.query("SELECT t FROM p WHERE t > ?", [D(9)]) == []


# ------------------------------------------------------------------------------ §5.6 values out


def test_null_integer_real(db):
    row = one(db, "SELECT NULL AS n, 42 AS i, -9223372036854775808 AS big, 2.5 AS r, 12.0 AS whole")
    assert row == {"n": None, "i": D(42), "big": D(-(2**63)), "r": D("2.5"), "whole": D(12)}
    assert numbers.display(row["whole"]) == "12"


def test_real_uses_the_shortest_round_trip_text(db):
    row = one(db, "SELECT 0.1 + 0.2 AS sum, 1e16 AS large, 1.5e-10 AS small")
    assert row == {"sum": D("0.30000000000000004"), "large": D(10**16), "small": D("0.00000000015")}


def test_real_too_large_is_nil_and_tiny_is_zero(db):
    row = one(db, "SELECT 1e30 AS large, 1e308 * 10 AS inf, 1e-30 AS tiny")
    assert row == {"large": None, "inf": None, "tiny": D(0)}


def test_booleans_come_back_as_numbers(db):
    assert one(db, "SELECT ? AS t, ? AS f", [True, False]) == {"t": D(1), "f": D(0)}
    assert one(db, "SELECT true AS t") == {"t": D(1)}


@pytest.mark.parametrize(
    "text, value",
    [("007", D(7)), ("+5", D(5)), (".5", D("0.5")), ("5.", D(5)), ("1_000", D(1000)), ("-12.50", D("-12.50")),
     ("1e3", "1e3"), (" 5", " 5"), ("5 ", "5 "), ("௫", "௫"), ("12abc", "12abc"), ("", ""),
     ("2024-01-31", "2024-01-31")],
)
def test_text_that_parses_as_a_number_becomes_one(db, text, value):
    # quirk: leading zeros and separators are lost; no trimming
    got = one(db, "SELECT ? AS v", [text])["v"]
    assert got == value and type(got) is type(value)


def test_text_with_more_than_28_places_is_rounded(db):
    got = one(db, "SELECT ? AS v", ["0." + "3" * 30])["v"]
    assert got == D("0." + "3" * 28)
    assert one(db, "SELECT ? AS v", ["0." + "0" * 200 + "1"])["v"] == 0  # hundreds of places


def test_blob_becomes_text_with_replacement(db):
    assert one(db, "SELECT x'E0AEAE' AS ok, x'ff41' AS bad") == {"ok": "ம", "bad": "\ufffdA"}


def test_invalid_utf8_text_cannot_be_read(db):
    assert message_of(db.query, "SELECT CAST(x'ff' AS TEXT) AS t", []).startswith(
        "நெடுவரிசை படிக்க முடியவில்லை  (cannot read column): "
    )


def test_column_names_aliases_and_duplicates(db):
    assert db.query("SELECT 1 AS x, 2 AS x", []) == [{"x": D(2)}]  # the later one wins
    assert db.query("SELECT 1 AS \"Mixed Case\"", []) == [{"Mixed Case": D(1)}]


def test_the_worked_example(db):
    db.execute("CREATE TABLE pori (peyar TEXT, vilai NUMERIC)", [])
    db.execute("INSERT INTO pori VALUES (?, ?)", ["மை", D("12.50")])
    assert db.query("SELECT peyar, vilai FROM pori WHERE vilai > ?", [D(10)]) == [{"peyar": "மை", "vilai": D("12.5")}]


def test_exact_decimals_round_trip_through_text_columns(db):
    db.execute("CREATE TABLE money (amount TEXT)", [])
    total = numbers.add(D("0.1"), D("0.2"))
    db.execute("INSERT INTO money VALUES (?), (?)", [total, D("99999999999999999999.99")])
    rows = db.query("SELECT amount FROM money ORDER BY rowid", [])
    assert rows == [{"amount": D("0.3")}, {"amount": D("99999999999999999999.99")}]
    assert numbers.display(rows[0]["amount"]) == "0.3"


# ------------------------------------------------------------------------------ §5.4 statements


def test_execute_refuses_statements_that_return_rows(db):
    assert message_of(db.execute, "SELECT 1", []) == (
        "தரவுத்தளப் பிழை  (database error): Execute returned results - did you mean to call query?"
    )
    db.execute("SELECT 1 WHERE 0", [])  # no row on the first step: fine, as in rusqlite


def test_query_runs_statements_without_rows(db):
    assert db.query("CREATE TABLE t (x)", []) == []
    assert db.query("INSERT INTO t VALUES (?)", ["a"]) == []
    assert db.query("SELECT x FROM t", []) == [{"x": "a"}]


def test_error_messages(db):
    db.execute("CREATE TABLE t (x UNIQUE)", [])
    db.execute("INSERT INTO t VALUES (1)", [])
    assert message_of(db.execute, "INSERT INTO t VALUES (1)", []) == (
        "தரவுத்தளப் பிழை  (database error): UNIQUE constraint failed: t.x"
    )
    assert message_of(db.query, "SELECT * FROM missing", []) == (
        "வினா தயாரிக்க முடியவில்லை  (cannot prepare query): no such table: missing"
    )
    assert message_of(db.execute, "SELECT * FROM missing", []).startswith("தரவுத்தளப் பிழை  (database error): ")
    assert message_of(db.query, "SELEC 1", []).startswith("வினா தயாரிக்க முடியவில்லை  (cannot prepare query): ")
    # a failure while stepping is a row read failure
    assert message_of(db.query, "INSERT INTO t VALUES (1) RETURNING x", []) == (
        "வரிசை படிக்க முடியவில்லை  (cannot read row): UNIQUE constraint failed: t.x"
    )
    assert message_of(db.query, "SELECT abs(-9223372036854775808) AS a", []).startswith(
        "வரிசை படிக்க முடியவில்லை  (cannot read row): "
    )
    # parameter count and several statements: the driver's text after our prefix
    assert message_of(db.query, "SELECT ?", []).startswith("தரவுத்தளப் பிழை  (database error): ")
    assert message_of(db.execute, "SELECT 1; SELECT 2", []).startswith("தரவுத்தளப் பிழை  (database error): ")
    # text SQLite cannot take (a lone surrogate) fails the binding, not the row
    assert message_of(db.query, "SELECT ?", ["a\ud800"]).startswith("தரவுத்தளப் பிழை  (database error): ")


# ------------------------------------------------------------------------------ §5.3 opening


def test_cannot_open(new_session, tmp_path):
    session = new_session()
    path = str(tmp_path / "missing-dir" / "x.db")
    assert message_of(session.connect, "SQLite", path) == (
        f"தரவுத்தளம் திறக்க முடியவில்லை  (cannot open database '{path}'): unable to open database file"
    )
    assert session.databases_in_use() == []


def test_uri_file_names(new_session, tmp_path):
    path = tmp_path / "ledger.db"
    writer = new_session()
    writer.connect("SQLite", str(path))
    writer.execute("CREATE TABLE t (x)", [])
    writer.release_all()
    reader = new_session()
    reader.connect("SQLite", f"file:{path}?mode=ro")
    assert reader.query("SELECT count(*) AS n FROM t", []) == [{"n": 0}]
    assert message_of(reader.execute, "INSERT INTO t VALUES (1)", []).startswith(
        "தரவுத்தளப் பிழை  (database error): attempt to write a readonly database"
    )


def test_relative_paths_are_from_the_working_directory(new_session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = new_session()
    session.connect("SQLite", "books.db")
    session.execute("CREATE TABLE t (x)", [])
    assert (tmp_path / "books.db").exists()


# ------------------------------------------------------------------------------ §5.9 private databases


@pytest.mark.parametrize("text", [":memory:", "file::memory:", "file:scratch?mode=memory"])
def test_private_databases_are_new_at_every_connect_and_never_pooled(new_session, pool, text):
    first = new_session()
    first.connect("SQLite", text)
    first.execute("CREATE TABLE t (x)", [])
    first.release_all()
    second = new_session()
    second.connect("SQLite", text)
    assert second.query("SELECT name FROM sqlite_master", []) == []
    assert pool.stats() == []


def test_shared_cache_memory_databases_are_pooled(new_session, pool):
    text = "file:etamil_shared_test?mode=memory&cache=shared"
    first = new_session()
    first.connect("SQLite", text)
    first.execute("CREATE TABLE t (x)", [])
    first.release_all()
    second = new_session()
    second.connect("SQLite", text)  # the same pooled connection: the database is still there
    assert second.query("SELECT name FROM sqlite_master", []) == [{"name": "t"}]
    assert pool.stats()[0]["open"] == 1


def test_a_padded_memory_name_is_private_but_opens_a_file(new_session, pool, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = new_session()
    session.connect("SQLite", " :memory: ")  # quirk: trimmed for the test, not for SQLite
    session.execute("CREATE TABLE t (x)", [])
    session.release_all()
    assert os.path.exists(tmp_path / " :memory: ")
    assert pool.stats() == []


# ------------------------------------------------------------------------------ §5.8 transactions


@pytest.fixture
def ledger(new_session, tmp_path):
    path = str(tmp_path / "ledger.db")
    setup = new_session()
    setup.connect("SQLite", path)
    setup.execute("CREATE TABLE entries (amount TEXT)", [])
    setup.release_all()
    return path


def count(new_session, path) -> Decimal:
    session = new_session()
    session.connect("SQL", path)  # another name: its own connection
    n = session.query("SELECT count(*) AS n FROM entries", [])[0]["n"]
    session.release_all()
    return n


def test_commit_and_rollback(new_session, ledger):
    session = new_session()
    session.connect("SQLite", ledger)
    session.execute("BEGIN", [])
    session.execute("INSERT INTO entries VALUES (?)", [D(1)])
    session.execute("COMMIT", [])
    session.execute("BEGIN", [])
    session.execute("INSERT INTO entries VALUES (?)", [D(2)])
    session.execute("ROLLBACK", [])
    assert count(new_session, ledger) == 1


def test_autocommit_outside_begin(new_session, ledger):
    session = new_session()
    session.connect("SQLite", ledger)
    session.execute("INSERT INTO entries VALUES (?)", [D(1)])
    assert count(new_session, ledger) == 1  # visible to another connection while still leased


def test_a_failed_write_can_be_rolled_back(new_session, ledger):
    session = new_session()
    session.connect("SQLite", ledger)
    session.execute("BEGIN", [])
    session.execute("INSERT INTO entries VALUES (?)", [D(1)])
    assert isinstance(session.try_execute("INSERT INTO nowhere VALUES (1)", []), Err)
    session.execute("ROLLBACK", [])
    assert count(new_session, ledger) == 0


def test_a_lease_released_mid_transaction_is_rolled_back(new_session, ledger, pool):
    session = new_session()
    session.connect("SQLite", ledger)
    session.execute("BEGIN", [])
    session.execute("INSERT INTO entries VALUES (?)", [D(1)])
    session.release_all()
    assert count(new_session, ledger) == 0
    again = new_session()
    again.connect("SQLite", ledger)  # the same connection (LIFO) ...
    again.execute("BEGIN", [])  # ... is outside any transaction: BEGIN would fail inside one
    again.execute("COMMIT", [])
    assert [entry["open"] for entry in pool.stats() if entry["type"] == "SQLite"] == [1]


# ------------------------------------------------------------------------------ journal mode


@pytest.mark.parametrize("journal, mode", [("default", "delete"), ("wal", "wal")])
def test_a_file_database_opens_in_the_configured_journal_mode(tmp_path, journal, mode):
    from etamil_server.config import DatabaseSettings
    from etamil_server.host.db.drivers.sqlite import SqliteDriver

    path = str(tmp_path / f"{journal}.db")
    connection = SqliteDriver().connect(path, DatabaseSettings(sqlite_journal=journal))
    try:
        assert connection.query("PRAGMA journal_mode", []) == [{"journal_mode": mode}]
    finally:
        connection.close()


def test_the_switch_to_wal_waits_for_a_writer_on_a_fresh_file(tmp_path):
    """Two workers' first requests on a fresh file: one is writing (it holds the RESERVED lock)
    while the other's connection switches the journal mode, which SQLite refuses at once with
    "database is locked" instead of waiting. The switch waits for the writer."""
    import sqlite3
    import threading

    from etamil_server.config import DatabaseSettings
    from etamil_server.host.db.drivers.sqlite import SqliteDriver

    path = str(tmp_path / "fresh.db")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    done = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    done.start()
    try:
        connection = SqliteDriver().connect(path, DatabaseSettings(sqlite_journal="wal"))
        try:
            assert connection.query("PRAGMA journal_mode", []) == [{"journal_mode": "wal"}]
            assert connection.query("SELECT x FROM t", []) == [{"x": 1}]
        finally:
            connection.close()
    finally:
        done.join()
        writer.close()


def test_wal_leaves_a_memory_database_alone():
    from etamil_server.config import DatabaseSettings
    from etamil_server.host.db.drivers.sqlite import SqliteDriver

    connection = SqliteDriver().connect(":memory:", DatabaseSettings(sqlite_journal="wal"))
    try:
        assert connection.query("PRAGMA journal_mode", []) == [{"journal_mode": "memory"}]
    finally:
        connection.close()
