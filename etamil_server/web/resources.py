"""What the server asks of the database layer, in one thin adapter.

The server needs four things from ``host/db``: that a worker never uses a connection inherited
across the fork, that every pool is closed at the end of a drain (:func:`close_databases`), a
cheap answer to "is the database this program uses reachable?" for ``/ready``
(:func:`database_unavailable`, run on the executor, never on the loop), and the pool's numbers for
``/metrics`` (:func:`database_usage`, a few counters read under the pool's lock). The pool module forgets
inherited connections by itself, in a fork hook it registers when imported — and this module
imports it, so the hook is in place in the master before any fork. ``existing_pool()`` gives the
process's pool without creating one; the pool's ``close_all()`` and ``unavailable_reason()`` do
the rest.

A request that finds the database gone tells this module (:func:`note_database_failure`), so that
``/ready`` says 503 at once rather than at the next probe: a restart of one second fails hundreds
of requests and would otherwise never show on it (:func:`database_failure_since`).
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from ..host.db import pool as db_pool
from .logs import ERROR_LOG

#: the upper bounds of the pool's checkout-wait buckets (the metrics histogram uses the same)
DATABASE_WAIT_BUCKETS = db_pool.WAIT_BUCKETS


def close_databases() -> None:
    """Roll back and close every pooled connection of this process."""
    pool = db_pool.existing_pool()
    if pool is None:
        return
    try:
        pool.close_all()
    except Exception as exc:  # the database layer must not take the server down with it
        ERROR_LOG.warning("etamil-server: database close failed: %s: %s", type(exc).__name__, exc)


def database_unavailable(uses_database: bool) -> str | None:
    """None when the databases the program has used answer; else a short reason for ``/ready``.
    Runs on the executor (it opens a fresh connection to each database the pool has seen)."""
    if not uses_database:
        return None
    pool = db_pool.existing_pool()
    if pool is None:
        return None  # nothing connected yet: nothing known to be down
    try:
        return pool.unavailable_reason()
    except Exception as exc:
        ERROR_LOG.warning("etamil-server: database probe failed: %s: %s", type(exc).__name__, exc)
        return "database unavailable"


def database_usage() -> dict[str, dict[str, Any]]:
    """The process pool's numbers per database type (``ConnectionPool.usage``); empty when
    nothing has connected."""
    pool = db_pool.existing_pool()
    if pool is None:
        return {}
    return pool.usage()


#: The last database failure a request of this process met: (monotonic time, reason). Written by
#: handler threads, read by the loop; one tuple assignment, so no lock.
_last_failure: tuple[float, str] | None = None


def note_database_failure(reason: str) -> None:
    """A request found the database unreachable (its 503 is on the way)."""
    global _last_failure
    _last_failure = (monotonic(), reason)


def database_failure_since(healthy_at: float) -> str | None:
    """The reason of a failure met after ``healthy_at`` (the start of the last probe that found
    every database well, on the ``time.monotonic`` clock), else None."""
    failure = _last_failure
    if failure is not None and failure[0] >= healthy_at:
        return f"database unavailable: {failure[1]}"
    return None
