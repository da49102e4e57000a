"""One writer at a time per SQLite file, across the threads and processes of a server.

Why: SQLite lets one connection write at a time and makes the others wait in its busy handler,
which does not queue — it sleeps and retries, with sleeps growing to 100 ms. Under a server's
write load (2 workers × 16 handler threads on one file) a writer can lose that race for seconds
while newer writers win it: measured on 2 processes × 8 threads of autocommit INSERTs, the
slowest insert took 4.2 s and throughput swung between 300 and 4,800 a second from run to run;
the load test's write route at 1,000 connections failed requests with "no free connection
within 5 s" because the connections were held by writers asleep in the busy handler. With this
gate, the same probe gave 2,000-2,500 inserts a second in every run and a slowest insert of
0.3-0.5 s.

How: a writer takes a ``threading.Lock`` (one waiter per process reaches the next step), then an
exclusive ``flock`` on a lock file beside the database (``<file>-etamil-lock``; the kernel
wakes the next process the moment it is released, no polling), runs its statement, and lets go.
SQLite's own locking stays in force underneath: programs other than ours, and our statements run
without the gate, still meet the busy handler, with its messages.

Contract:
* Only statements that change rows (:func:`changes_rows`) run outside an explicit transaction
  go through the gate. A connection inside
  ``BEGIN … COMMIT`` already holds, or will take, SQLite's own write lock; taking the gate per
  statement there could deadlock (it waits for the gate, the gate's holder waits for its lock),
  so those statements bypass the gate and SQLite arbitrates as before.
* The wait for the gate's thread lock is bounded by the connection's busy timeout; past it the
  statement runs without the gate, so the outcome (success, or SQLite's "database is locked")
  is what it was without the gate — never a hang.
* One gate per (process, file). A forked child makes its own on first use (``os.getpid()`` is
  part of the key): a lock inherited over fork must never be released by the child, and the
  child's threads need their own lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Statements that change rows, the ones a server runs by the thousand. Only these take the gate:
# a program's prelude runs ``CREATE TABLE IF NOT EXISTS`` before every request, which changes
# nothing once the table is there, and gating it cost every request of the example API a lock
# round trip across the workers (its read route fell from about 4,700 to 3,200 requests a second).
_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def changes_rows(sql: str) -> bool:
    """True for a statement that starts with a row-changing keyword (a cheap test, not a parse:
    ``WITH … INSERT``, DDL and the like go ungated, and SQLite's busy handler arbitrates them as
    before)."""
    head = sql.lstrip()[:7].upper()
    return head.startswith(_WRITE_WORDS)


class WriteGate:
    __slots__ = ("_thread_lock", "_fd")

    def __init__(self, lock_path: str):
        self._thread_lock = threading.Lock()
        self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    @contextmanager
    def held(self, patience: float) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=patience):
            yield  # see the contract: run as if there were no gate
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


_GATES: dict[tuple[int, str], WriteGate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(database_path: str) -> WriteGate | None:
    """The gate of a database file in this process, or None when no lock file can be made
    beside it (a read-only directory: then SQLite alone arbitrates)."""
    key = (os.getpid(), database_path)
    gate = _GATES.get(key)
    if gate is None:
        with _GATES_LOCK:
            gate = _GATES.get(key)
            if gate is None:
                try:
                    gate = WriteGate(database_path + "-etamil-lock")
                except OSError:
                    return None
                _GATES[key] = gate
    return gate
