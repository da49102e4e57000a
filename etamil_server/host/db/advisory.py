"""Cluster-wide timer leadership: a PostgreSQL advisory lock, and the timers' schedule beside it.

Every host of a cluster serves the same program against the same PostgreSQL; its timers must run
once per cluster. The leader is the process holding ``pg_try_advisory_lock(key)`` on a connection
of its own (never a pooled one: a lease goes back to the pool after each request, and a session
lock would go with it). The lock lives as long as that server session: when the leader's host
stops, crashes or loses the network, PostgreSQL ends the session and the lock is free for another
host. TCP keepalives make a dead peer show within seconds on either side.

``key`` is derived from the program's name (:func:`program_key`), so two different programs on
one database do not exclude each other, and every version of one program (a rolling deploy runs
two at once) shares the lock.

Behind a pooler in transaction mode (``ETAMIL_DB_TRANSACTION_POOLING``) a session lock would stay
on whichever server connection the statement happened to use; there the leader holds
``pg_try_advisory_xact_lock(key)`` inside a transaction it keeps open, which pins one server
connection to it for as long as it leads (the transaction only takes the lock: READ COMMITTED
holds no snapshot between statements, so it does not hold back vacuum).

The schedule (each timer's next due time) is kept in the table ``etamil_timer_schedule`` of the
same database, written by the leader only, in the database's own clock (hosts' clocks may
disagree), so a new leader on any host continues it. A leader that cannot create or write the
table still leads, with the schedule in its memory (logged once).

Everything here blocks: web/timers.py calls it from one thread of its own, never from the loop.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions as ext

from ...config import DatabaseSettings

SCHEDULE_TABLE = "etamil_timer_schedule"
_CREATE_SCHEDULE = (
    f"CREATE TABLE IF NOT EXISTS {SCHEDULE_TABLE} (lock_key bigint NOT NULL, timer text NOT NULL, "
    "next_due timestamptz NOT NULL, PRIMARY KEY (lock_key, timer))"
)


def program_key(program_name: str) -> int:
    """The advisory lock key of a program: 64 bits of a hash of its name, as a signed bigint."""
    digest = hashlib.sha256(b"etamil-timers\0" + program_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeadershipError(Exception):
    """The database could not be reached or answered with an error (the message says which)."""


class AdvisoryLeadership:
    """The advisory lock ``key`` on the PostgreSQL ``text`` (a libpq string or URL)."""

    def __init__(self, text: str, key: int, settings: DatabaseSettings, program_name: str = ""):
        self.text = text
        self.key = key
        self.settings = settings
        self.transaction_mode = settings.transaction_pooling
        self.application_name = f"etamil-server timers {program_name}".strip()[:63]
        self._lock_connection: Any = None
        self._schedule_connection: Any = None
        self.held = False
        self.schedule_problem: str | None = None  # why the schedule table is not used

    # ------------------------------------------------------------------ the lock

    def try_acquire(self) -> bool:
        """Take the lock if it is free (never waits); True while this process holds it."""
        if self.held:
            return True
        try:
            connection = self._lock()
            with connection.cursor() as cursor:
                if self.transaction_mode:
                    cursor.execute("BEGIN; SELECT pg_try_advisory_xact_lock(%s)", (self.key,))
                else:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                got = bool(cursor.fetchone()[0])
                if not got and self.transaction_mode:
                    cursor.execute("ROLLBACK")  # give the pinned server connection back
        except psycopg2.Error as error:
            self._drop_lock_connection()
            raise LeadershipError(_one_line(error)) from None
        self.held = got
        return got

    def still_held(self) -> bool:
        """Whether the lock is still ours: the session that holds it answers, and (session mode)
        PostgreSQL lists the lock as granted to it. A broken connection loses leadership."""
        if not self.held or self._lock_connection is None:
            self.held = False
            return False
        try:
            with self._lock_connection.cursor() as cursor:
                if self.transaction_mode:
                    cursor.execute("SELECT 1")
                    held = self._lock_connection.info.transaction_status == ext.TRANSACTION_STATUS_INTRANS
                else:
                    cursor.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND pid = pg_backend_pid() AND objsubid = 1 "
                        "AND classid::bigint = (%s::bigint >> 32) & 4294967295 "
                        "AND objid::bigint = %s::bigint & 4294967295",
                        (self.key, self.key),
                    )
                    held = cursor.fetchone()[0] > 0
        except psycopg2.Error:
            held = False
        if not held:
            self.held = False
            self._drop_lock_connection()
        return held

    def release(self) -> None:
        """Give the lock up (and the connections: a follower needs none but the lock's)."""
        if self.held and self._lock_connection is not None:
            try:
                with self._lock_connection.cursor() as cursor:
                    if self.transaction_mode:
                        cursor.execute("ROLLBACK")
                    else:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except psycopg2.Error:
                self._drop_lock_connection()  # closing the session releases it as well
        self.held = False
        self._close_schedule_connection()

    def close(self) -> None:
        self.release()
        self._drop_lock_connection()

    # ------------------------------------------------------------------ the schedule

    def load_schedule(self) -> dict[str, float]:
        """Seconds until each timer of this program is due (negative: overdue), as stored by the
        last leader; empty when nothing is stored or the table cannot be used."""
        rows = self._schedule(
            f"SELECT timer, extract(epoch FROM next_due - clock_timestamp())::float8 FROM {SCHEDULE_TABLE} "
            "WHERE lock_key = %s",
            (self.key,),
            rows=True,
        )
        return {str(timer): float(seconds) for timer, seconds in rows or []}

    def save_due(self, timer: str, seconds: float) -> None:
        """Timer ``timer`` is next due ``seconds`` from now (the database's now)."""
        self._schedule(
            f"INSERT INTO {SCHEDULE_TABLE} (lock_key, timer, next_due) "
            "VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s)) "
            "ON CONFLICT (lock_key, timer) DO UPDATE SET next_due = EXCLUDED.next_due",
            (self.key, timer, seconds),
        )

    def _schedule(self, sql: str, args: tuple, rows: bool = False) -> list | None:
        if self.schedule_problem is not None:
            return None
        for attempt in range(2):
            try:
                connection = self._schedule_conn()
                with connection.cursor() as cursor:
                    try:
                        cursor.execute(sql, args)
                    except psycopg2.errors.UndefinedTable:
                        cursor.execute(_CREATE_SCHEDULE)
                        cursor.execute(sql, args)
                    return cursor.fetchall() if rows else None
            except psycopg2.errors.InsufficientPrivilege as error:
                self.schedule_problem = _one_line(error)
                return None
            except psycopg2.Error as error:
                self._close_schedule_connection()
                if attempt:  # a broken connection gets one fresh try; then the error stands
                    raise LeadershipError(_one_line(error)) from None
        return None

    # ------------------------------------------------------------------ connections

    def _connect(self) -> Any:
        extra = {
            "application_name": self.application_name,
            # a dead server or network shows within seconds (the lock is lost, not believed held)
            "keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2", "keepalives_count": "3",
        }
        if self.settings.connect_timeout:
            extra["connect_timeout"] = str(max(2, math.ceil(self.settings.connect_timeout)))
        given = ext.parse_dsn(self.text)
        connection = psycopg2.connect(self.text, **{k: v for k, v in extra.items() if k not in given})
        connection.autocommit = True
        return connection

    def _lock(self) -> Any:
        if self._lock_connection is None or self._lock_connection.closed:
            self._lock_connection = self._connect()
        return self._lock_connection

    def _schedule_conn(self) -> Any:
        if not self.transaction_mode:
            # the lock's session is autocommit: the schedule shares it, but never reconnects it
            # (a fresh session would not hold the lock)
            connection = self._lock_connection
            if connection is None or connection.closed:
                raise psycopg2.OperationalError("the connection holding the timer lock is gone")
            return connection
        if self._schedule_connection is None or self._schedule_connection.closed:
            self._schedule_connection = self._connect()
        return self._schedule_connection

    def _drop_lock_connection(self) -> None:
        connection, self._lock_connection = self._lock_connection, None
        self.held = False
        if connection is not None:
            try:
                connection.close()
            except psycopg2.Error:
                pass

    def _close_schedule_connection(self) -> None:
        connection, self._schedule_connection = self._schedule_connection, None
        if connection is not None:
            try:
                connection.close()
            except psycopg2.Error:
                pass


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
