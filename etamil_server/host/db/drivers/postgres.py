"""PostgreSQL through psycopg2 (HOST.md §5.3-§5.6).

The reference binds each value according to the parameter type the *server* inferred. psycopg2
interpolates literals on the client and never asks, so a statement with parameters is prepared
server-side once per connection (``PREPARE``), its inferred parameter types are read from
``pg_prepared_statements`` in the same round trip, and each run is ``EXECUTE name(literals)``
with every value adapted to its type first. Statements without parameters are sent as they are.

NUMERIC values travel as exact decimal text both ways, never through a float.

Behind a pooler in *transaction* mode (pgbouncer ``pool_mode = transaction``,
``ETAMIL_DB_TRANSACTION_POOLING=1``) consecutive statements may reach different server sessions, so
nothing may be left in one: the parameter types are learned by a ``PREPARE`` that is deallocated
again inside one transaction (the pooler keeps a transaction on one server connection), cached per
connection like the prepared statements, and each run is the program's SQL with every ``$n``
replaced by ``((%s)::type)``, the value quoted by psycopg2 itself (libpq's escaping; the program's
text and our own never carry a value). The cast gives the value the very type the server inferred,
so the §5.5 rules and the results are the same in both modes.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import OrderedDict
from decimal import Decimal
from typing import Any

import psycopg2
import psycopg2.extensions as ext

from ....base import numbers
from ....config import DatabaseSettings
from ....runtime.values import WHITE_SPACE
from .. import messages
from ..convert import number_from_float, number_from_int, refuse_compound
from ..sqltext import pg_is_single_statement, pg_split_parameters
from .base import GRAVEYARD, Row, neutralise_fd, socket_is_quiet

# type OIDs (pg_type.dat)
BOOL, NAME, INT8, INT2, INT4, TEXT, UNKNOWN = 16, 19, 20, 21, 23, 25, 705
FLOAT4, FLOAT8, BPCHAR, VARCHAR, NUMERIC = 700, 701, 1042, 1043, 1700

_INTEGERS = {INT2: (-(2**15), 2**15 - 1, "a smallint"), INT4: (-(2**31), 2**31 - 1, "an integer"),
             INT8: (-(2**63), 2**63 - 1, "a bigint")}
_TEXT_PARAMS = frozenset((TEXT, VARCHAR, BPCHAR))
_WHOLE = re.compile(r"[+-]?[0-9]+")
_TYPE_NAMES = {FLOAT4: "real", 17: "bytea", 114: "json", 3802: "jsonb", 1082: "date", 1083: "time",
               1114: "timestamp", 1184: "timestamptz", 1186: "interval", 2950: "uuid", 26: "oid",
               18: "char", 1266: "timetz", 869: "inet", 650: "cidr", 790: "money", 1560: "bit",
               1562: "varbit", 142: "xml", 1007: "int4[]", 1009: "text[]", 1231: "numeric[]"}

#: NUMERIC arrives as its text; we convert it ourselves (exactly)
_NUMERIC_AS_TEXT = ext.new_type((NUMERIC,), "ETAMIL_NUMERIC_TEXT", lambda text, cursor: text)

_STATEMENT_CACHE = 256
_MULTIPLE_COMMANDS = "db error: ERROR: cannot insert multiple commands into a prepared statement"


def _lib(error: Exception) -> str:
    """The driver's text on one line (the message may end up in an HTTP body)."""
    diag = getattr(error, "diag", None)
    primary = diag.message_primary if diag is not None else None
    if primary:
        text = f"db error: {diag.severity or 'ERROR'}: {primary}"
        if diag.message_detail:
            text += f" DETAIL: {diag.message_detail}"
    else:
        text = str(error)
    return " ".join(text.split())


# ------------------------------------------------------------------------------ values going in


class _SerializeError(Exception):
    pass


def _in_range(number: int, oid: int) -> int:
    low, high, what = _INTEGERS[oid]
    if not low <= number <= high:
        raise _SerializeError(f"{number} does not fit in {what}")
    return number


def _adapt(value: Any, oid: int) -> Any:
    """An eTamil value for a parameter of type ``oid`` (HOST.md §5.5, PostgreSQL column)."""
    kind = type(value)
    if value is None:
        return None
    if kind is Decimal:
        if oid in _INTEGERS:
            return _in_range(int(value), oid)  # fraction dropped, then range-checked
        if oid == NUMERIC:
            return value
        if oid == FLOAT8 or oid == FLOAT4:
            return float(value)
        if oid in _TEXT_PARAMS:
            return numbers.display(value)
        if oid == BOOL:
            return value != 0
        return value  # other types: undetermined upstream; the server decides
    if kind is str:
        if oid == NUMERIC:
            number = numbers.parse_text(value.strip(WHITE_SPACE))
            if number is None:
                raise _SerializeError(f"'{value}' is not a number")
            return number
        if oid in _INTEGERS:
            text = value.strip(WHITE_SPACE)
            if not _WHOLE.fullmatch(text) or not -(2**63) <= int(text) < 2**63:
                raise _SerializeError(f"'{value}' is not a whole number")
            return _in_range(int(text), oid)
        return value
    if kind is bool:
        if oid in _TEXT_PARAMS:
            return "true" if value else "false"
        return value
    raise AssertionError("compound values are refused before adaptation")


def _adapted(params: list, types: list[int]) -> list:
    """Every parameter adapted to its inferred type; a value that does not convert is the driver
    error the program sees (§5.5), naming the parameter."""
    if len(types) != len(params):
        raise messages.database_error(f"expected {len(types)} parameters but got {len(params)}")
    args = []
    for index, (value, oid) in enumerate(zip(params, types, strict=True)):
        try:
            args.append(_adapt(value, oid))
        except _SerializeError as error:
            # the conversion messages reach the program wrapped like the driver's (§5.5)
            raise messages.database_error(f"error serializing parameter {index}: {error}") from None
    return args


# ------------------------------------------------------------------------------ rows coming out


def _read_numeric(text: str, index: int) -> Decimal:
    number = numbers.parse_text(text)
    if number is None:  # NaN, ±Infinity, or too large for the decimal model
        raise messages.cannot_read_column(
            f"error deserializing column {index}: {text} does not fit a number", "a numeric"
        )
    return number


def _read_int(value: int, index: int) -> Decimal:
    return number_from_int(value)  # 64 bits always fit


def _read_float(value: float, index: int) -> Decimal | None:
    return number_from_float(value)


_IDENTITY = None
#: per result type: how a (non-null) value becomes an eTamil value; None = as psycopg2 gives it
_READERS: dict[int, Any] = {
    BOOL: _IDENTITY, INT2: _read_int, INT4: _read_int, INT8: _read_int, NUMERIC: _read_numeric,
    FLOAT8: _read_float, TEXT: _IDENTITY, VARCHAR: _IDENTITY, BPCHAR: _IDENTITY, NAME: _IDENTITY,
    UNKNOWN: _IDENTITY,
}


def _refused_column(oid: int, index: int) -> Exception:
    type_text = _TYPE_NAMES.get(oid, f"with oid {oid}")
    if oid == FLOAT4:  # quirk: `real` columns fail the query
        lib = f"error deserializing column {index}: cannot read the PostgreSQL type real as a double"
        return messages.cannot_read_column(lib, "a float")
    lib = f"error deserializing column {index}: cannot read the PostgreSQL type {type_text} as text"
    return messages.cannot_read_column(lib, "a text")


class PostgresConnection:
    def __init__(self, raw: Any, transaction_pooling: bool = False):
        self._raw = raw
        self._cursor = raw.cursor()
        self.transaction_pooling = transaction_pooling
        #: SQL -> (prepared statement name, parameter type OIDs); with transaction pooling the
        #: name is only the one the types were learned under (deallocated since), and
        #: ``_type_names`` holds the types' SQL names for the casts
        self._statements: OrderedDict[str, tuple[str, list[int]]] = OrderedDict()
        self._type_names: dict[str, list[str]] = {}
        self._prefix = "etamil_" + secrets.token_hex(4) + "_"  # unique even behind a pooler
        self._counter = 0

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: list) -> int:
        cursor = self._run(sql, params)
        return max(cursor.rowcount, 0)

    def query(self, sql: str, params: list) -> list[Row]:
        cursor = self._run(sql, params)
        description = cursor.description
        if description is None:
            return []
        readers = []
        for index, column in enumerate(description):
            oid = column.type_code
            if oid not in _READERS:
                if cursor.rowcount == 0:  # the reference only fails when it reads a value
                    return []
                raise _refused_column(oid, index)
            readers.append(_READERS[oid])
        names = [column.name for column in description]
        try:
            rows = cursor.fetchall()
        except (psycopg2.Error, ValueError) as error:
            raise _failure(error) from None
        if not any(readers):
            return [dict(zip(names, row, strict=True)) for row in rows]
        columns = list(enumerate(zip(names, readers, strict=True)))
        return [
            {
                name: value if reader is None or value is None else reader(value, index)
                for (index, (name, reader)), value in zip(columns, row, strict=True)
            }
            for row in rows
        ]

    def _run(self, sql: str, params: list) -> Any:
        """Run one statement; the cursor holding its result."""
        refuse_compound(params)
        if not pg_is_single_statement(sql):
            raise messages.database_error(_MULTIPLE_COMMANDS)
        cursor = self._cursor
        try:
            if not params:
                cursor.execute(sql)  # no arguments: psycopg2 sends the text untouched
                if sql.lstrip()[:10].upper().startswith(("DISCARD", "DEALLOCATE")):
                    self._statements.clear()  # the program dropped our prepared statements
                return cursor
            if self.transaction_pooling:
                self._execute_client_bound(sql, params)
                return cursor
            try:
                self._execute_prepared(sql, params)
            except psycopg2.Error as error:
                if not self._stale_statement(sql, error):
                    raise
                self._execute_prepared(sql, params)  # prepared afresh, once
        except (psycopg2.Error, ValueError) as error:
            raise _failure(error) from None
        return cursor

    def _execute_prepared(self, sql: str, params: list) -> None:
        name, types = self._prepare(sql)
        args = _adapted(params, types)
        self._cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(args))})", args)

    # ------------------------------------------------------------------ transaction pooling
    def _execute_client_bound(self, sql: str, params: list) -> None:
        """Run ``sql`` with its parameters bound on the client (see the module's docstring)."""
        types, names = self._learn_types(sql)
        args = _adapted(params, types)
        pieces, numbers = pg_split_parameters(sql)
        parts = [pieces[0].replace("%", "%%")]
        values = []
        for number, piece in zip(numbers, pieces[1:], strict=True):
            # the server numbered the parameters; PREPARE has already refused $0 and gaps
            type_name = names[number - 1]
            parts.append("%s" if type_name == "unknown" else f"((%s)::{type_name})")
            values.append(args[number - 1])
            parts.append(piece.replace("%", "%%"))
        self._cursor.execute("".join(parts), values)

    def _learn_types(self, sql: str) -> tuple[list[int], list[str]]:
        """The parameter types the server infers for ``sql`` (OIDs and SQL names), cached. The
        ``PREPARE`` is deallocated before the transaction it runs in ends, so the pooler hands
        the server connection on clean."""
        statements = self._statements
        entry = statements.get(sql)
        if entry is not None:
            statements.move_to_end(sql)
            return entry[1], self._type_names[sql]
        self._counter += 1
        name = f"{self._prefix}{self._counter}"
        own_transaction = self._idle()
        cursor = self._cursor
        try:
            cursor.execute(
                ("BEGIN;" if own_transaction else "")
                + f"PREPARE {name} AS {sql}\n;SELECT parameter_types::oid[], parameter_types::text[] "
                f"FROM pg_prepared_statements WHERE name = '{name}'"
            )
            types, names = cursor.fetchone()
            cursor.execute(f"DEALLOCATE {name}" + (";COMMIT" if own_transaction else ""))
        finally:
            if own_transaction and not self._idle() and not self._raw.closed:
                try:
                    cursor.execute("ROLLBACK")  # the PREPARE failed: end our transaction
                except psycopg2.Error:
                    pass
        types, names = list(types), list(names)
        statements[sql] = (name, types)
        self._type_names[sql] = names
        if len(statements) > _STATEMENT_CACHE:
            old, _entry = statements.popitem(last=False)
            self._type_names.pop(old, None)
        return types, names

    def _prepare(self, sql: str) -> tuple[str, list[int]]:
        """The prepared statement for ``sql`` and its inferred parameter types (cached)."""
        statements = self._statements
        entry = statements.get(sql)
        if entry is not None:
            statements.move_to_end(sql)
            return entry
        self._counter += 1
        name = f"{self._prefix}{self._counter}"
        # One round trip: the newline ends a trailing -- comment of the program's SQL.
        self._cursor.execute(
            f"PREPARE {name} AS {sql}\n;SELECT parameter_types::oid[] FROM pg_prepared_statements "
            f"WHERE name = '{name}'"
        )
        types = list(self._cursor.fetchone()[0])
        entry = statements[sql] = (name, types)
        if len(statements) > _STATEMENT_CACHE and self._idle():
            _, (old, _types) = statements.popitem(last=False)
            self._deallocate(old)
        return entry

    def _stale_statement(self, sql: str, error: psycopg2.Error) -> bool:
        """A cached statement the server no longer has (26000) or whose result type changed
        with the schema (0A000): forget it and say whether running it again is safe (only
        outside a transaction — inside one the failure has already aborted it)."""
        stale = error.pgcode == "26000" or (
            error.pgcode == "0A000" and "cached plan" in (error.pgerror or "")
        )
        if not stale or sql not in self._statements:
            return False
        name, _types = self._statements.pop(sql)
        if not self._idle():
            return False
        if error.pgcode != "26000":
            self._deallocate(name)
        return True

    def _deallocate(self, name: str) -> None:
        try:
            self._cursor.execute(f"DEALLOCATE {name}")
        except psycopg2.Error:
            pass

    def _idle(self) -> bool:
        return self._raw.info.transaction_status == ext.TRANSACTION_STATUS_IDLE

    # ------------------------------------------------------------------ pool hooks
    def rollback(self) -> bool:
        raw = self._raw
        if raw.closed:
            return False
        try:
            # The server's transaction state is known locally (ReadyForQuery): ROLLBACK only
            # when something is open — observably the same as always sending it.
            if not self._idle():
                self._cursor.execute("ROLLBACK")
        except psycopg2.Error:
            pass
        return not raw.closed and self._idle()

    def looks_alive(self) -> bool:
        raw = self._raw
        return not raw.closed and socket_is_quiet(raw.fileno())

    def ping(self) -> bool:
        try:
            self._cursor.execute("SELECT 1")
            return self._idle()
        except psycopg2.Error:
            return False

    def close(self) -> None:
        try:
            self._raw.close()
        except psycopg2.Error:
            pass

    def abandon(self) -> None:
        raw = self._raw
        if not raw.closed:
            try:
                # psycopg2's finalizer already skips PQfinish in another process; detaching the
                # descriptor also stops the child from keeping the parent's socket alive
                neutralise_fd(raw.fileno())
            except psycopg2.Error:
                pass
        GRAVEYARD.append(raw)


#: Keepalive probes (seconds): after this much silence, then this often, this many times.
_KEEPALIVE = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2", "keepalives_count": "3"}


def _timeouts(given: dict[str, str], settings: DatabaseSettings) -> dict[str, str]:
    """libpq parameters that bound how long a statement can keep a thread (what the program's
    connection text sets itself wins). ``statement_timeout`` travels in ``options`` at connect
    time: a ``SET`` would be session state, which a transaction-mode pooler hands to other
    clients (and pgbouncer refuses ``options``), so it is left out there."""
    extra: dict[str, str] = {}
    if settings.tcp_user_timeout and "tcp_user_timeout" not in given:
        extra["tcp_user_timeout"] = str(max(1, round(settings.tcp_user_timeout * 1000)))
        if "keepalives" not in given and "keepalives_idle" not in given:
            extra.update(_KEEPALIVE)
    if settings.statement_timeout and not settings.transaction_pooling and "options" not in given:
        extra["options"] = f"-c statement_timeout={max(1, round(settings.statement_timeout * 1000))}"
    return extra


#: SQLSTATEs of a server that ended the session or the statement by itself: shutting down
#: (57P01-57P03), or cancelling past ``statement_timeout`` (57014; the database is there, slow).
_GONE = frozenset(("57P01", "57P02", "57P03"))
_TIMED_OUT = "57014"


def _failure(error: Exception) -> Exception:
    """The eTamil error for a failed statement: a lost connection or a server shutting down is
    the database being unavailable (503); a statement timeout too, though the database is up;
    anything else is the §5.11 database error (500)."""
    code = getattr(error, "pgcode", None)
    lost = isinstance(error, psycopg2.OperationalError | psycopg2.InterfaceError) and not code
    if lost or (code or "").startswith("08") or code in _GONE:
        return messages.database_lost(_lib(error))
    if code == _TIMED_OUT:
        return messages.database_lost(_lib(error), down=False)
    return messages.database_error(_lib(error))


class PostgresDriver:
    name = "PostgreSQL"

    def is_private(self, text: str) -> bool:
        return False

    def connect(self, text: str, settings: DatabaseSettings) -> PostgresConnection:
        extra: dict[str, str] = {}
        try:
            given = ext.parse_dsn(text)  # key=value or postgres:// URL; validates both
            if settings.connect_timeout and "connect_timeout" not in given:
                # libpq counts whole seconds, at least 2
                extra["connect_timeout"] = str(max(2, math.ceil(settings.connect_timeout)))
            if "application_name" not in given:
                extra["application_name"] = "etamil-server"
            extra.update(_timeouts(given, settings))
            raw = psycopg2.connect(text, **extra)
        except (psycopg2.Error, ValueError) as error:
            raise messages.postgres_cannot_connect(_lib(error)) from None
        try:
            raw.autocommit = True  # outside an explicit BEGIN every statement commits
            ext.register_type(_NUMERIC_AS_TEXT, raw)
        except psycopg2.Error as error:
            raw.close()
            raise messages.postgres_cannot_connect(_lib(error)) from None
        return PostgresConnection(raw, settings.transaction_pooling)
