"""The per-process database connection pool (HOST.md §5.9, §4.11).

One pool per process, shared by the command line, the REPL, the servers and timer ticks. Keyed
by (canonical type name, connection text exactly as given).

The reference's contract, kept:

* a checkout takes the most recently returned idle connection (LIFO), else opens one;
* a lease is exclusive: one run or request owns the connection until it gives it back;
* giving back runs ``ROLLBACK`` (errors ignored), then keeps the connection if fewer than
  ``ETAMIL_DB_IDLE`` are idle for its key, else closes it;
* private SQLite databases (``:memory:`` ...) are opened per connect, closed at release, never
  pooled.

What production needs, added (settings in :class:`~etamil_server.config.DatabaseSettings`):

* at most ``ETAMIL_DB_POOL_MAX`` open connections per key; a checkout waits up to
  ``ETAMIL_DB_POOL_TIMEOUT`` seconds for one to come back, then fails with a clear message; the
  waiters are served in the order they came, and a newcomer queues behind them;
* broken connections are dropped: on release (the rollback failed, or the server hung up), and on
  checkout when the socket shows the server went away or the connection sat idle for
  ``ETAMIL_DB_CHECK_IDLE`` seconds (then a cheap round trip decides); one broken connection makes
  its idle siblings suspect, so a database restart costs no failed statements;
* connections older than ``ETAMIL_DB_MAX_LIFETIME`` seconds are closed instead of reused;
* fork safety: a pool used in a forked child forgets what it inherited without touching it (no
  close, no rollback: those would end the parent's sessions) and starts afresh;
* thread safety: the server leases from many threads. Connecting, pinging and closing happen
  outside the lock, so one slow database never blocks the others;
* numbers for the server's metrics (:meth:`ConnectionPool.usage`): per database type, how many
  connections are open, in use and awaited now, and since the start how long each checkout waited
  for a free connection (counts per bucket of :data:`WAIT_BUCKETS`) and how many gave up. The pool
  only keeps the numbers; the server (``web/metrics.py``) reads them once a second.
"""

from __future__ import annotations

import os
import threading
import weakref
from bisect import bisect_left
from time import monotonic
from typing import Any

from ...base.errors import EtamilError
from ...config import ConfigError, DatabaseSettings, load_database_settings
from . import messages
from .drivers import Connection, Driver, driver_for

# upper bounds (seconds) of the checkout-wait buckets; one more bucket counts the longer waits
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _WaitTally:
    """Checkouts of one database type since the pool started: waits per bucket, their sum, and
    the checkouts that gave up (pool exhausted)."""

    __slots__ = ("buckets", "seconds", "timeouts")

    def __init__(self) -> None:
        self.buckets = [0] * (len(WAIT_BUCKETS) + 1)
        self.seconds = 0.0
        self.timeouts = 0


class _Entry:
    """A pooled connection and its bookkeeping."""

    __slots__ = ("connection", "key", "created", "last_used", "suspect", "pid")

    def __init__(self, connection: Connection, key: tuple[str, str]):
        self.connection = connection
        self.key = key
        self.created = self.last_used = monotonic()
        self.suspect = False  # check before the next use (a sibling was found broken)
        self.pid = os.getpid()


class _KeyState:
    """The connections of one key: ``members`` are all open ones (idle or leased), ``idle`` the
    returned ones in return order, ``reserved`` counts connects in progress."""

    __slots__ = ("idle", "members", "reserved", "waiting", "condition")

    def __init__(self, lock: threading.Lock):
        self.idle: list[_Entry] = []
        self.members: set[_Entry] = set()
        self.reserved = 0
        self.waiting = 0
        self.condition = threading.Condition(lock)

    @property
    def total(self) -> int:
        return len(self.members) + self.reserved


class Lease:
    """One connection lent to one run (a CLI run, a request, a timer tick, a REPL session)."""

    __slots__ = ("connection", "type_name", "text", "_entry", "_pool", "released")

    def __init__(self, connection: Connection, type_name: str, text: str, entry: _Entry | None,
                 pool: ConnectionPool):
        self.connection = connection
        self.type_name = type_name
        self.text = text
        self._entry = entry  # None: a private database, never pooled
        self._pool = pool
        self.released = False

    def release(self) -> None:
        self._pool.release(self)


class ConnectionPool:
    def __init__(self, settings: DatabaseSettings | None = None):
        self.settings = settings if settings is not None else load_database_settings()
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], _KeyState] = {}
        self._pid = os.getpid()
        self._waits: dict[str, _WaitTally] = {}
        self._waits_lock = threading.Lock()
        _POOLS.add(self)

    # ------------------------------------------------------------------ checkout
    def checkout(self, type_name: str, text: str, driver: Driver) -> Lease:
        """Lease a connection for (type name, connection text); raises EtamilError."""
        if driver.is_private(text):
            return Lease(driver.connect(text, self.settings), type_name, text, None, self)
        self._adopt_process()
        key = (type_name, text)
        settings = self.settings
        deadline: float | None = None
        waited_since: float | None = None  # when the pool was first found full for this checkout
        while True:
            retired: list[_Entry] = []
            entry: _Entry | None = None
            full = False
            with self._lock:
                state = self._keys.get(key)
                if state is None:
                    state = self._keys[key] = _KeyState(self._lock)
                now = monotonic()
                # Fairness: while others wait, a new checkout queues behind them (a Condition
                # wakes its waiters in the order they came) instead of taking the connection
                # just returned for the first of them. Without this a busy pool lets newcomers
                # win again and again: at 1,000 connections some requests waited past the pool
                # timeout while the median wait was half a second.
                queue_first = state.waiting > 0 and deadline is None
                while state.idle and not queue_first:
                    candidate = state.idle.pop()  # the most recently returned: LIFO
                    if self._expired(candidate, now):
                        state.members.discard(candidate)
                        retired.append(candidate)
                        continue
                    entry = candidate
                    break
                if entry is None:
                    full = queue_first or (bool(settings.pool_max) and state.total >= settings.pool_max)
                    if not full:
                        state.reserved += 1
                    elif not retired:  # (expired ones are closed first, outside the lock)
                        if deadline is None:
                            deadline = now + settings.pool_timeout
                            waited_since = now
                        remaining = deadline - now
                        if remaining <= 0:
                            self._count_wait(type_name, waited_since, timed_out=True)
                            raise messages.pool_exhausted(type_name, text, settings.pool_timeout)
                        state.waiting += 1
                        try:
                            state.condition.wait(remaining)
                        finally:
                            state.waiting -= 1
                        continue
                if retired:
                    state.condition.notify_all()  # capacity came free
            for old in retired:
                old.connection.close()
            if entry is not None:
                if self._needs_check(entry, now) and not entry.connection.ping():
                    self._drop(entry)
                    continue
                entry.suspect = False
                self._count_wait(type_name, waited_since)
                return Lease(entry.connection, type_name, text, entry, self)
            if full:
                continue  # look again now that the expired ones are closed
            lease = self._open(state, key, driver, type_name, text)
            self._count_wait(type_name, waited_since)
            return lease

    def _count_wait(self, type_name: str, waited_since: float | None, timed_out: bool = False) -> None:
        waited = monotonic() - waited_since if waited_since is not None else 0.0
        with self._waits_lock:
            tally = self._waits.get(type_name)
            if tally is None:
                tally = self._waits[type_name] = _WaitTally()
            if timed_out:
                tally.timeouts += 1
            else:
                tally.buckets[bisect_left(WAIT_BUCKETS, waited)] += 1
            tally.seconds += waited

    def _open(self, state: _KeyState, key: tuple[str, str], driver: Driver, type_name: str,
              text: str) -> Lease:
        """Open a connection in a slot already reserved in ``state``."""
        try:
            connection = driver.connect(text, self.settings)
        except BaseException:
            with self._lock:
                state.reserved -= 1
                state.condition.notify()
            raise
        entry = _Entry(connection, key)
        with self._lock:
            state.reserved -= 1
            if self._keys.get(key) is state:  # else close_all() ran meanwhile: closed at release
                state.members.add(entry)
        return Lease(connection, type_name, text, entry, self)

    def _expired(self, entry: _Entry, now: float) -> bool:
        lifetime = self.settings.max_lifetime
        return bool(lifetime) and now - entry.created >= lifetime

    def _needs_check(self, entry: _Entry, now: float) -> bool:
        return (
            entry.suspect
            or now - entry.last_used >= self.settings.check_idle
            or not entry.connection.looks_alive()
        )

    def _drop(self, entry: _Entry) -> None:
        """Forget and close a leased-to-nobody broken connection; its siblings become suspect."""
        with self._lock:
            state = self._keys.get(entry.key)
            if state is not None and entry in state.members:
                state.members.discard(entry)
                for other in state.idle:
                    other.suspect = True
                state.condition.notify()
        entry.connection.close()

    # ------------------------------------------------------------------ release
    def release(self, lease: Lease) -> None:
        """Give a lease back: rolled back, then kept idle or closed. Idempotent."""
        if lease.released:
            return
        lease.released = True
        entry = lease._entry
        connection = lease.connection
        if entry is None:  # private database: closed without the ROLLBACK (§5.9)
            connection.close()
            return
        if entry.pid != os.getpid():  # inherited from the parent process: not ours to touch
            self._adopt_process()
            connection.abandon()
            return
        usable = connection.rollback() and connection.looks_alive()
        keep = False
        with self._lock:
            state = self._keys.get(entry.key)
            if state is not None and entry in state.members:
                now = monotonic()
                if usable and not self._expired(entry, now) and len(state.idle) < self.settings.idle:
                    entry.last_used = now
                    state.idle.append(entry)
                    keep = True
                else:
                    state.members.discard(entry)
                    if not usable:
                        for other in state.idle:
                            other.suspect = True
                state.condition.notify()
        if not keep:
            connection.close()

    # ------------------------------------------------------------------ whole pool
    def close_all(self) -> None:
        """Close every idle connection (worker shutdown). Leased ones close when released."""
        self._adopt_process()
        with self._lock:
            states = list(self._keys.values())
            self._keys = {}
            idle = [entry for state in states for entry in state.idle]
            for state in states:
                state.condition.notify_all()
        for entry in idle:
            entry.connection.close()

    def stats(self) -> list[dict[str, Any]]:
        """Per key: open (idle + in use + connecting), idle, in use, waiting. Passwords masked."""
        self._adopt_process()
        with self._lock:
            return [
                {
                    "type": type_name,
                    "connection": messages.mask_password(text),
                    "open": state.total,
                    "idle": len(state.idle),
                    "in_use": len(state.members) - len(state.idle),
                    "waiting": state.waiting,
                }
                for (type_name, text), state in self._keys.items()
            ]

    def usage(self) -> dict[str, dict[str, Any]]:
        """Per database type (``PostgreSQL``, ``SQLite``...): ``open``, ``idle``, ``in_use``,
        ``waiting`` now and the ``max`` allowed per database; since the pool started,
        ``wait_buckets`` (checkouts per bucket of :data:`WAIT_BUCKETS`, the longer waits last),
        ``wait_seconds`` (their sum, timed-out waits included) and ``timeouts``. Private SQLite
        databases are not pooled and not counted."""
        self._adopt_process()
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for (type_name, _), state in self._keys.items():
                usage = found.get(type_name)
                if usage is None:
                    usage = found[type_name] = _empty_usage(self.settings.pool_max)
                usage["open"] += state.total
                usage["idle"] += len(state.idle)
                usage["in_use"] += len(state.members) - len(state.idle)
                usage["waiting"] += state.waiting
        with self._waits_lock:
            for type_name, tally in self._waits.items():
                usage = found.get(type_name)
                if usage is None:
                    usage = found[type_name] = _empty_usage(self.settings.pool_max)
                usage["wait_buckets"] = list(tally.buckets)
                usage["wait_seconds"] = tally.seconds
                usage["timeouts"] = tally.timeouts
        return found

    def keys(self) -> list[tuple[str, str]]:
        """The (type name, connection text) of every database this pool has connected to."""
        self._adopt_process()
        with self._lock:
            return list(self._keys)

    def unavailable_reason(self) -> str | None:
        """None when every database this pool has served answers a fresh connection; else a short
        reason. Blocking (it connects): never call it on an event loop. A pooled connection is not
        used for this, since under load every one may be leased, and waiting for one would report
        a busy database as a dead one; private SQLite databases are skipped."""
        for type_name, text in self.keys():
            driver = driver_for(type_name)
            if driver.is_private(text):
                continue
            try:
                driver.connect(text, self.settings).close()
            except EtamilError as exc:
                return f"database unavailable: {exc.message}"
        return None

    # ------------------------------------------------------------------ fork safety
    def _adopt_process(self) -> None:
        if self._pid != os.getpid():
            self._forget_inherited()

    def _forget_inherited(self) -> None:
        """In a forked child: drop everything inherited without closing or rolling back."""
        inherited = [entry for state in self._keys.values() for entry in state.members]
        self._lock = threading.Lock()  # the parent's may have been held by another thread
        self._keys = {}
        self._waits_lock = threading.Lock()
        self._waits = {}  # the parent's checkouts are not this process's
        self._pid = os.getpid()
        for entry in inherited:
            entry.connection.abandon()


def _empty_usage(pool_max: int) -> dict[str, Any]:
    return {
        "open": 0, "idle": 0, "in_use": 0, "waiting": 0, "max": pool_max,
        "wait_buckets": [0] * (len(WAIT_BUCKETS) + 1), "wait_seconds": 0.0, "timeouts": 0,
    }


# ------------------------------------------------------------------------------ the process's pool

_POOLS: weakref.WeakSet[ConnectionPool] = weakref.WeakSet()
_process_pool: ConnectionPool | None = None
_process_pool_lock = threading.Lock()


def get_pool() -> ConnectionPool:
    """The process's pool, created on first use from the environment."""
    global _process_pool
    pool = _process_pool
    if pool is None:
        with _process_pool_lock:
            if _process_pool is None:
                try:
                    settings = load_database_settings()
                except ConfigError as error:
                    raise EtamilError(str(error)) from None
                _process_pool = ConnectionPool(settings)
            pool = _process_pool
    return pool


def existing_pool() -> ConnectionPool | None:
    """The process's pool if something has used it (never creates one)."""
    return _process_pool


def set_pool(pool: ConnectionPool | None) -> ConnectionPool | None:
    """Replace the process's pool (tests, benchmarks); returns the previous one."""
    global _process_pool
    with _process_pool_lock:
        previous, _process_pool = _process_pool, pool
    return previous


def _after_fork_in_child() -> None:
    global _process_pool_lock
    _process_pool_lock = threading.Lock()
    for pool in list(_POOLS):
        pool._forget_inherited()


os.register_at_fork(after_in_child=_after_fork_in_child)
