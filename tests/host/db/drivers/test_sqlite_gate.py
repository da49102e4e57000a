"""The SQLite write gate (host/db/drivers/sqlite_gate.py): one writer per file at a time across
processes, statements inside a transaction and reads pass ungated, a gate per process."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading

from etamil_server.config import DatabaseSettings
from etamil_server.host.db.drivers import driver_for
from etamil_server.host.db.drivers.sqlite_gate import WriteGate, changes_rows, gate_for

SQLITE = driver_for("SQLite")
WAL = DatabaseSettings(sqlite_journal="wal")


def test_row_changing_statements_are_told_apart_by_their_first_word():
    assert changes_rows("INSERT INTO t VALUES (1)")
    assert changes_rows("  update t set a = 1")
    assert changes_rows("DELETE FROM t")
    assert changes_rows("replace into t values (1)")
    assert not changes_rows("SELECT 1")
    assert not changes_rows("CREATE TABLE IF NOT EXISTS t (a)")
    assert not changes_rows("BEGIN")


def test_a_wal_file_gets_a_gate_and_a_default_journal_file_none(tmp_path):
    wal = SQLITE.connect(str(tmp_path / "w.db"), WAL)
    plain = SQLITE.connect(str(tmp_path / "p.db"), DatabaseSettings())
    memory = SQLITE.connect(":memory:", WAL)
    assert wal._gate is gate_for(os.path.abspath(str(tmp_path / "w.db")))
    assert plain._gate is None and memory._gate is None
    assert (tmp_path / "w.db-etamil-lock").exists()
    for connection in (wal, plain, memory):
        connection.close()


def _hold_gate_then_report(path: str, holding, release) -> None:
    gate = gate_for(path)
    with gate.held(5.0):
        holding.set()
        release.wait(10)


def test_the_gate_excludes_a_writer_of_another_process(tmp_path):
    path = str(tmp_path / "x.db")
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()
    other = context.Process(target=_hold_gate_then_report, args=(path, holding, release))
    other.start()
    try:
        assert holding.wait(10)
        connection = SQLITE.connect(path, WAL)
        connection.execute("CREATE TABLE t (a)", [])  # DDL is not gated
        done = threading.Event()
        writer = threading.Thread(
            target=lambda: (connection.execute("INSERT INTO t VALUES (1)", []), done.set()))
        writer.start()
        assert not done.wait(0.3)  # blocked by the other process's gate
        release.set()
        assert done.wait(10)
        writer.join(10)
        connection.close()
    finally:
        release.set()
        other.join(10)
    assert gate_for(path) is not None


def test_statements_inside_a_transaction_and_reads_pass_a_held_gate(tmp_path):
    path = str(tmp_path / "t.db")
    connection = SQLITE.connect(path, WAL)
    connection.execute("CREATE TABLE t (a)", [])
    connection.execute("BEGIN", [])
    gate = gate_for(os.path.abspath(path))
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gate.held(5.0):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        # neither waits for the gate: inside BEGIN, and a read
        assert connection.execute("INSERT INTO t VALUES (1)", []) == 1
        connection.execute("COMMIT", [])
        assert connection.query("SELECT count(*) AS n FROM t", [])[0]["n"] == 1
    finally:
        release.set()
        holder.join(10)
        connection.close()


def test_past_its_patience_a_statement_runs_without_the_gate(tmp_path):
    gate = WriteGate(str(tmp_path / "p-etamil-lock"))
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with gate.held(5.0):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    ran = []
    with gate.held(0.05):
        ran.append(True)
    release.set()
    holder.join(10)
    assert ran == [True]


def test_sqlite_itself_still_arbitrates_with_programs_that_have_no_gate(tmp_path):
    path = str(tmp_path / "s.db")
    connection = SQLITE.connect(path, WAL)
    connection.execute("CREATE TABLE t (a)", [])
    outsider = sqlite3.connect(path, isolation_level=None)
    outsider.execute("INSERT INTO t VALUES (7)")
    outsider.close()
    assert connection.query("SELECT a FROM t", [])[0]["a"] == 7
    connection.close()
