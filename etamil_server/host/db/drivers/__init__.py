"""Which driver serves which database type name (HOST.md §5.1, §5.11).

The type name is the canonical name of a database-type keyword or, for any other token, its
spelling; the plain identifiers ``SQLite``, ``SQL``, ``PostgreSQL`` and ``MySQL`` therefore work
too (quirk). Drivers are imported on first use: a program that never touches PostgreSQL never
loads psycopg2.
"""

from __future__ import annotations

from .. import messages
from .base import Connection, Driver

__all__ = ["Connection", "Driver", "driver_for"]

_NOT_SUPPORTED = frozenset(("MongoDB", "Redis", "JSONdb", "NoSQL"))
_drivers: dict[str, Driver] = {}


def _load(type_name: str) -> Driver | None:
    if type_name in ("SQLite", "SQL"):  # two names, one driver, separate connections (§5.7)
        from .sqlite import SqliteDriver

        return SqliteDriver()
    if type_name == "PostgreSQL":
        from .postgres import PostgresDriver

        return PostgresDriver()
    if type_name == "MySQL":
        from .mysql import MysqlDriver

        return MysqlDriver()
    return None


def driver_for(type_name: str) -> Driver:
    """The driver for a type name, or the unknown-type / not-supported runtime error."""
    driver = _drivers.get(type_name)
    if driver is not None:
        return driver
    if type_name in _NOT_SUPPORTED:
        raise messages.not_supported(type_name)
    driver = _load(type_name)
    if driver is None:
        raise messages.unknown_type(type_name)
    _drivers[type_name] = driver
    return driver
