"""MySQL and MariaDB through PyMySQL (HOST.md §5.3-§5.6).

PyMySQL has no server-side prepared statements, so the ``?`` placeholders are filled on the client
with properly escaped literals, exactly the bytes the reference binds: numbers as their decimal
text (a quoted string the server coerces), booleans as 1/0, text as text. Values come back as
bytes and are converted by column type here, so nothing passes through a float that was not a
float in the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pymysql
from pymysql.constants import FIELD_TYPE, SERVER_STATUS

from ....base import numbers
from ....config import DatabaseSettings
from .. import messages
from ..convert import number_from_float, number_from_int, refuse_compound
from ..sqltext import mysql_split_placeholders
from .base import GRAVEYARD, Row, socket_is_quiet

_IN_TRANSACTION = SERVER_STATUS.SERVER_STATUS_IN_TRANS
_NO_BACKSLASH_ESCAPES = SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
_MYSQL_ERRORS = (pymysql.err.Error, OSError, ValueError, UnicodeError)

# Encoders only (used to escape); no decoders: every value arrives as bytes.
_CONVERSIONS = {key: value for key, value in pymysql.converters.conversions.items() if not isinstance(key, int)}


def _lib(error: Exception) -> str:
    args = getattr(error, "args", ())
    if len(args) == 2 and isinstance(args[0], int):
        return f"ERROR {args[0]}: {' '.join(str(args[1]).split())}"
    return " ".join(str(error).split())


# ------------------------------------------------------------------------------ rows coming out


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _integer(data: bytes) -> Decimal | None:
    return number_from_int(int(data))


def _decimal(data: bytes) -> Decimal | None:
    return numbers.parse_text(data.decode("ascii"))


def _double(data: bytes) -> Decimal | None:
    return number_from_float(float(data))


def _datetime(data: bytes) -> str:
    """``YYYY-MM-DD`` when the time part is zero, else ``YYYY-MM-DDTHH:MM:SS`` (no fraction)."""
    text = data.decode("ascii")
    date, _, time = text.partition(" ")
    if not time or not time.strip("0:."):
        return date
    return f"{date}T{time.partition('.')[0]}"


def _time(data: bytes) -> str:
    """``[-]HH:MM:SS`` with days folded into hours (the text protocol already does)."""
    return data.decode("ascii").partition(".")[0]


_READERS = {
    FIELD_TYPE.TINY: _integer, FIELD_TYPE.SHORT: _integer, FIELD_TYPE.LONG: _integer,
    FIELD_TYPE.LONGLONG: _integer, FIELD_TYPE.INT24: _integer, FIELD_TYPE.YEAR: _integer,
    FIELD_TYPE.DECIMAL: _decimal, FIELD_TYPE.NEWDECIMAL: _decimal,
    FIELD_TYPE.FLOAT: _double, FIELD_TYPE.DOUBLE: _double,
    FIELD_TYPE.DATE: _datetime, FIELD_TYPE.NEWDATE: _datetime, FIELD_TYPE.DATETIME: _datetime,
    FIELD_TYPE.TIMESTAMP: _datetime, FIELD_TYPE.TIME: _time,
}


class MysqlConnection:
    def __init__(self, raw: Any):
        self._raw = raw

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: list) -> int:
        cursor = self._run(sql, params)
        count = cursor.rowcount
        cursor.close()
        return max(count, 0)

    def query(self, sql: str, params: list) -> list[Row]:
        cursor = self._run(sql, params)
        try:
            description = cursor.description
            if description is None:
                return []
            names = [column[0] for column in description]
            readers = [_READERS.get(column[1], _text) for column in description]
            rows = cursor.fetchall()
            return [
                {
                    name: None if data is None else reader(data)
                    for name, reader, data in zip(names, readers, row, strict=True)
                }
                for row in rows
            ]
        except (ValueError, UnicodeError) as error:
            raise messages.database_error(_lib(error)) from None
        finally:
            cursor.close()

    def _run(self, sql: str, params: list) -> Any:
        refuse_compound(params)
        raw = self._raw
        backslashes = not raw.server_status & _NO_BACKSLASH_ESCAPES
        pieces = mysql_split_placeholders(sql, backslashes)
        if len(pieces) - 1 != len(params):
            raise messages.database_error(
                f"Statement takes {len(pieces) - 1} parameters but {len(params)} was supplied"
            )
        text = pieces[0]
        if params:
            text += "".join(self._literal(value) + piece for value, piece in zip(params, pieces[1:], strict=True))
        cursor = raw.cursor()
        try:
            cursor.execute(text)  # no arguments: PyMySQL does no %-formatting of its own
        except _MYSQL_ERRORS as error:
            cursor.close()
            raise messages.database_error(_lib(error)) from None
        return cursor

    def _literal(self, value: Any) -> str:
        """An eTamil value as an SQL literal (HOST.md §5.5, MySQL column)."""
        kind = type(value)
        if value is None:
            return "NULL"
        if kind is bool:
            return "1" if value else "0"
        if kind is Decimal:
            return self._raw.escape(numbers.display(value))  # the decimal text, as a string
        return self._raw.escape(value)

    # ------------------------------------------------------------------ pool hooks
    def rollback(self) -> bool:
        raw = self._raw
        try:
            if raw.open and raw.server_status & _IN_TRANSACTION:
                raw.rollback()
        except _MYSQL_ERRORS:
            pass
        return bool(raw.open) and not raw.server_status & _IN_TRANSACTION

    def looks_alive(self) -> bool:
        sock = self._raw._sock  # PyMySQL has no public accessor for its socket
        return sock is not None and socket_is_quiet(sock.fileno())

    def ping(self) -> bool:
        try:
            self._raw.ping(reconnect=False)
            return True
        except _MYSQL_ERRORS:
            return False

    def close(self) -> None:
        try:
            self._raw.close()
        except _MYSQL_ERRORS:
            self._raw._force_close()

    def abandon(self) -> None:
        GRAVEYARD.append(self._raw)


class _BadUrl(ValueError):
    pass


def parse_url(text: str) -> dict[str, Any]:
    """``mysql://user:password@host:port/db`` as PyMySQL arguments (HOST.md §5.3)."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise _BadUrl(str(error)) from None
    if parts.scheme != "mysql":
        raise _BadUrl(f"the URL scheme must be mysql, not '{parts.scheme}'")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    socket = options.pop("socket", None)
    if options:
        raise _BadUrl(f"unknown URL parameter '{next(iter(options))}'")
    if not parts.hostname and not socket:
        raise _BadUrl("the URL has no host")
    database = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
    if "/" in database:
        raise _BadUrl(f"not a database name: '{database}'")
    return {
        "host": parts.hostname or "localhost",
        "port": port or 3306,
        "user": unquote(parts.username) if parts.username is not None else "",
        "password": unquote(parts.password) if parts.password is not None else "",
        "database": database or None,
        "unix_socket": socket,
    }


class MysqlDriver:
    name = "MySQL"

    def is_private(self, text: str) -> bool:
        return False

    def connect(self, text: str, settings: DatabaseSettings) -> MysqlConnection:
        try:
            arguments = parse_url(text)
        except _BadUrl as error:
            raise messages.mysql_bad_url(text, str(error)) from None
        timeout = settings.connect_timeout or None
        try:
            raw = pymysql.connect(
                **arguments,
                charset="utf8mb4",
                autocommit=True,  # outside an explicit BEGIN every statement commits
                connect_timeout=timeout or 31536000,  # PyMySQL's maximum stands for "none"
                # PyMySQL's connect_timeout covers the TCP connect only; the handshake runs under
                # the read/write timeouts, so they carry the connect timeout until connected.
                read_timeout=timeout,
                write_timeout=timeout,
                use_unicode=False,
                conv=_CONVERSIONS,
            )
        except _MYSQL_ERRORS as error:
            raise messages.mysql_cannot_connect(_lib(error)) from None
        raw._read_timeout = raw._write_timeout = None  # statements may take as long as they take
        return MysqlConnection(raw)
