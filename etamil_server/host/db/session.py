"""One run's databases (HOST.md §5.4, §5.7, §4.11): what ``தளம்_இணை`` and friends do.

A session belongs to one run — a command-line run, a request, a timer tick, a REPL session — and
holds at most one leased connection per type name. It is used from one thread at a time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...base.errors import EtamilError
from ...runtime import limits
from ...runtime.values import Err, Ok
from . import messages
from .convert import check_params
from .drivers import Connection, driver_for
from .pool import ConnectionPool, Lease, get_pool


class DbSession:
    def __init__(self, pool: ConnectionPool | None = None):
        self._pool = pool  # None: the process's pool, looked up at the first connect
        self._leases: dict[str, Lease] = {}  # type name -> lease, in connect order

    # ------------------------------------------------------------------ connections
    def connect(self, type_name: str, connection_text: str) -> None:
        """``தளம்_இணை``: lease a connection registered under ``type_name`` (§5.7 rules)."""
        lease = self._leases.get(type_name)
        if lease is not None:
            if lease.text == connection_text:
                return  # the same connection again: nothing to do
            raise messages.already_connected(type_name, lease.text)
        driver = driver_for(type_name)
        pool = self._pool if self._pool is not None else get_pool()
        self._leases[type_name] = pool.checkout(type_name, connection_text, driver)

    def disconnect(self, type_name: str) -> None:
        """``தளம்_பிரி``: give the connection back (rolled back)."""
        lease = self._leases.pop(type_name, None)
        if lease is None:
            raise messages.not_connected_to(type_name)
        lease.release()

    def release_all(self) -> None:
        """End of the run: give every lease back, rolled back."""
        leases, self._leases = self._leases, {}
        for lease in leases.values():
            lease.release()

    def databases_in_use(self) -> list[str]:
        """The type names with an open connection, in connect order."""
        return list(self._leases)

    def _connection(self) -> Connection:
        leases = self._leases
        if len(leases) == 1:
            for lease in leases.values():
                return lease.connection
        if not leases:
            raise EtamilError(messages.NOT_CONNECTED)
        raise EtamilError(messages.SEVERAL_OPEN)

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: Any) -> None:
        """``தளம்_செய்``: run one statement; the affected-row count is discarded."""
        connection = self._connection()
        connection.execute(sql, check_params(params))

    def query(self, sql: str, params: Any) -> list[dict[str, Any]]:
        """``தளம்_வினா``: the rows as an array of records."""
        connection = self._connection()
        return _within_limits(connection.query(sql, check_params(params)))

    def try_execute(self, sql: str, params: Any) -> Ok | Err:
        """``தளம்_செய்_முயற்சி``: சரி(rows affected) or தவறு(message); never stops the program."""
        try:
            connection = self._connection()
            return Ok(Decimal(connection.execute(sql, check_params(params))))
        except EtamilError as error:
            return Err(error.message)

    def try_query(self, sql: str, params: Any) -> Ok | Err:
        """``தளம்_வினா_முயற்சி``: சரி(rows) or தவறு(message)."""
        try:
            connection = self._connection()
            return Ok(_within_limits(connection.query(sql, check_params(params))))
        except EtamilError as error:
            return Err(error.message)


def _within_limits(rows: list) -> list:
    """The rows of a query are an array: the item limit holds for them (``runtime/limits.py``).
    The driver has them all by now; the check keeps the run from going on to build on them."""
    limits.check_items(len(rows))
    return rows
