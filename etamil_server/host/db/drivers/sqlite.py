"""SQLite through the standard library (HOST.md §5.3-§5.6): autocommit mode, URI file names,
numbers bound as their text, numeric-looking text read back as numbers."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import AbstractContextManager, nullcontext
from decimal import Decimal
from typing import Any

from ....base import numbers
from ....config import DatabaseSettings
from ....runtime.values import WHITE_SPACE, display
from .. import messages
from ..convert import number_from_float
from .base import GRAVEYARD, Row
from .sqlite_gate import WriteGate, changes_rows, gate_for

_SQLITE_ERROR = 1  # the primary result code of "SQL error or missing database"
_BUSY_TIMEOUT = 5.0  # sqlite3.connect's default busy timeout, which we keep
_UNGATED = nullcontext()
_LOCKED_PAUSE = 0.005  # seconds between tries of a statement SQLite will not wait for itself


def _bind(value: Any) -> Any:
    """An eTamil value as the SQLite parameter the reference binds (HOST.md §5.5)."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is Decimal:
        return numbers.display(value)  # TEXT holding the shortest decimal text
    if kind is bool:
        return 1 if value else 0
    return display(value)  # arrays, records, results: TEXT of their rendering (quirk)


def _value(value: Any) -> Any:
    """A column value as an eTamil value (HOST.md §5.6)."""
    kind = type(value)
    if kind is str:
        number = numbers.parse_text(value)  # TEXT that parses as a number is a number (quirk)
        return value if number is None else number
    if kind is int:
        return Decimal(value)
    if kind is float:
        return number_from_float(value)
    if kind is bytes:
        return value.decode("utf-8", "replace")
    return value  # None


def _lib(error: Exception) -> str:
    return str(error)


class SqliteConnection:
    __slots__ = ("_raw", "_gate")

    def __init__(self, raw: sqlite3.Connection, gate: WriteGate | None = None):
        self._raw = raw
        self._gate = gate  # sqlite_gate.py: set for files in write-ahead-log mode

    def _writer_turn(self, sql: str) -> AbstractContextManager:
        """The write gate for a statement run outside an explicit transaction (the gate's
        contract) that changes rows; the others, and all inside a transaction, pass ungated."""
        gate = self._gate
        if gate is None or self._raw.in_transaction or not changes_rows(sql):
            return _UNGATED
        return gate.held(_BUSY_TIMEOUT)

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: list) -> int:
        args = [_bind(value) for value in params]
        cursor = self._raw.cursor()
        try:
            with self._writer_turn(sql):
                cursor.execute(sql, args)
            # Like rusqlite: a statement whose first step yields a row is refused (its changes,
            # if any, are made — as upstream).
            if cursor.description is not None and cursor.fetchone() is not None:
                raise messages.database_error(messages.EXECUTE_RETURNED_RESULTS)
            count = cursor.rowcount
            if count < 0:
                # Not an INSERT/UPDATE/DELETE: the reference reports sqlite3_changes() anyway,
                # which is the count of the last such statement.
                count = self._raw.execute("SELECT changes()").fetchone()[0]
        except (sqlite3.Error, ValueError) as error:
            raise messages.database_error(_lib(error)) from None
        finally:
            cursor.close()
        return count

    def query(self, sql: str, params: list) -> list[Row]:
        args = [_bind(value) for value in params]
        cursor = self._raw.cursor()
        try:
            try:
                with self._writer_turn(sql):
                    cursor.execute(sql, args)
            except sqlite3.ProgrammingError as error:
                if "one statement at a time" in str(error):
                    raise messages.cannot_prepare(_lib(error)) from None
                raise messages.database_error(_lib(error)) from None  # parameter count
            except sqlite3.Error as error:
                if self._fails_to_prepare(sql, args, error):
                    raise messages.cannot_prepare(_lib(error)) from None
                raise messages.cannot_read_row(_lib(error)) from None
            except ValueError as error:  # text Python cannot hand to SQLite (a lone surrogate)
                raise messages.database_error(_lib(error)) from None
            description = cursor.description
            if description is None:  # a statement without result columns: it ran, no rows
                return []
            names = [column[0] for column in description]
            try:
                rows = cursor.fetchall()
            except sqlite3.OperationalError as error:
                if str(error).startswith("Could not decode"):
                    raise messages.cannot_read_column(_lib(error)) from None
                raise messages.cannot_read_row(_lib(error)) from None
            except (sqlite3.Error, ValueError) as error:
                raise messages.cannot_read_row(_lib(error)) from None
        finally:
            cursor.close()
        return [{name: _value(value) for name, value in zip(names, row, strict=True)} for row in rows]

    def _fails_to_prepare(self, sql: str, args: list, error: Exception) -> bool:
        """Python's sqlite3 prepares and takes the first step in one call; the reference
        reports the two failures differently. Prepare failures are plain SQL errors; tell them
        from a first step failing with the same code by preparing again (only on this error
        path), under EXPLAIN so that nothing runs."""
        code = getattr(error, "sqlite_errorcode", None)
        if code is None or code & 0xFF != _SQLITE_ERROR:
            return False
        try:
            self._raw.execute("EXPLAIN " + sql, args).close()
        except (sqlite3.Error, ValueError):
            return True
        return False

    # ------------------------------------------------------------------ pool hooks
    def rollback(self) -> bool:
        raw = self._raw
        try:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            return not raw.in_transaction
        except (sqlite3.Error, ValueError):
            try:
                return not raw.in_transaction
            except sqlite3.Error:  # closed
                return False

    def looks_alive(self) -> bool:
        return True

    def ping(self) -> bool:
        try:
            self._raw.execute("SELECT 1").close()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        try:
            self._raw.close()
        except sqlite3.Error:
            pass

    def abandon(self) -> None:
        GRAVEYARD.append(self._raw)  # never closed in the child: SQLite's locks are per process


class SqliteDriver:
    name = "SQLite"

    def is_private(self, text: str) -> bool:
        """HOST.md §5.9: a database only its connection can see (trimmed only for this test)."""
        trimmed = text.strip(WHITE_SPACE)
        if trimmed in (":memory:", "file::memory:"):
            return True
        return "mode=memory" in trimmed and "cache=shared" not in trimmed

    def connect(self, text: str, settings: DatabaseSettings) -> SqliteConnection:
        try:
            if text == ":memory:":
                raw = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            else:
                raw = sqlite3.connect(text, uri=True, isolation_level=None, check_same_thread=False)
                if settings.sqlite_journal == "wal" and _use_wal(raw) and not text.startswith("file:"):
                    return SqliteConnection(raw, gate_for(os.path.abspath(text)))
        except (sqlite3.Error, ValueError) as error:
            raise messages.sqlite_cannot_open(text, _lib(error)) from None
        return SqliteConnection(raw)


def _use_wal(raw: sqlite3.Connection) -> bool:
    """Write-ahead log for a file database (a server's default, ``ETAMIL_SQLITE_JOURNAL``). The
    mode is stored in the file, so this is a no-op after the first connection; a database that
    cannot switch (in memory, read-only) keeps its journal. ``synchronous`` stays FULL: a commit
    that was answered survives a power loss. True when the file is in WAL mode now."""
    cursor = _waiting_out_a_writer(raw, "PRAGMA journal_mode=WAL")
    try:
        row = cursor.fetchone()
    finally:
        cursor.close()
    return row is not None and str(row[0]).lower() == "wal"


def _waiting_out_a_writer(raw: sqlite3.Connection, sql: str) -> sqlite3.Cursor:
    """``raw.execute(sql)``, retried while another connection is in the middle of a write.

    The switch of a file's journal mode fails at once with "database is locked" while another
    connection holds its write (RESERVED) lock: SQLite does not call the busy handler there. On
    a fresh file that is a server's first requests: two workers open the file together, one
    creates the table, the other's switch fails, and its request got a 500 (seen in the
    reliability suite's HUP scenario). The wait is bounded by the busy timeout connections keep."""
    deadline = time.monotonic() + _BUSY_TIMEOUT
    while True:
        try:
            return raw.execute(sql)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(_LOCKED_PAUSE)
