"""What the server asks of the database layer, in one thin adapter.

The server needs three things from ``host/db``: forget connections inherited across a fork (the
worker calls :func:`after_fork` first thing), close every pool at the end of a drain
(:func:`close_databases`), and a cheap answer to "is the database this program uses reachable?"
for ``/ready`` (:func:`database_unavailable`, run on the executor, never on the loop). The pool
module provides them as ``after_fork()``, ``close_all()`` and ``unavailable_reason()``; while one
is missing the adapter does nothing (and ``/ready`` does not look at the database).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


def _pool_module() -> Any:
    try:
        return importlib.import_module("etamil_server.host.db.pool")
    except ImportError:
        return None


def _process_pool() -> Any:
    """The process's pool if this process has made one (never create one just to close it)."""
    module = _pool_module()
    return getattr(module, "_process_pool", None) if module is not None else None


def _warn(what: str, exc: BaseException) -> None:
    print(f"etamil-server: database {what} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def after_fork() -> None:
    """In a new worker: drop pooled connections the parent may have had (never reuse them).
    The pool does this itself (``os.register_at_fork``); this only makes sure it is loaded."""
    _pool_module()


def close_databases() -> None:
    """Roll back and close every pooled connection of this process."""
    pool = _process_pool()
    if pool is None:
        return
    try:
        pool.close_all()
    except Exception as exc:  # the database layer must not take the server down with it
        _warn("close", exc)


def database_unavailable(app: Any) -> str | None:
    """None when the databases the program has used answer; else a short reason for ``/ready``.

    Runs on the executor. It opens a fresh connection to each database the pool has seen (a
    pooled one might be leased by every request under load, and waiting for it would report a
    busy database as a dead one) and closes it at once; private SQLite databases are skipped."""
    if not getattr(app, "uses_database", False):
        return None
    module = _pool_module()
    reason_of = getattr(module, "unavailable_reason", None) if module is not None else None
    if reason_of is not None:
        return reason_of()
    pool = _process_pool()
    if pool is None:
        return None  # nothing connected yet: nothing known to be down
    from ..base.errors import EtamilError
    from ..host.db.drivers import driver_for

    for type_name, text in list(getattr(pool, "_keys", {})):
        try:
            driver = driver_for(type_name)
            if driver.is_private(text):
                continue
            driver.connect(text, pool.settings).close()
        except EtamilError as exc:
            return f"database unavailable: {exc.message}"
        except Exception as exc:
            _warn("probe", exc)
            return "database unavailable"
    return None
