"""The database messages (HOST.md §5.4, §5.7, §5.11), byte for byte, plus the pool's own.

``{lib}`` parts are the driver's text. Connection texts shown in messages go through
:func:`mask_password` first: a password in a URL or a ``password=`` pair never reaches a message
(messages end up in HTTP 500 bodies and logs).
"""

from __future__ import annotations

import re

from ...base.errors import DatabaseUnavailable, EtamilError

# ------------------------------------------------------------------------------ §5.4 / §5.7


def not_connected_to(name: str) -> EtamilError:
    return EtamilError(f"'{name}' இணைக்கப்படவில்லை  (not connected to {name})")


def already_connected(name: str, open_text: str) -> EtamilError:
    shown = mask_password(open_text)
    return EtamilError(
        f"'{name}' ஏற்கனவே '{shown}' உடன் இணைக்கப்பட்டுள்ளது  ('{name}' is already connected to "
        f"'{shown}'): தளம்_பிரி first — a query cannot say which of two it means"
    )


NOT_CONNECTED = "தரவுத்தளம் இணைக்கப்படவில்லை  (not connected to a database): use தளம்_இணை first"
SEVERAL_OPEN = "பல தரவுத்தளங்கள் திறந்துள்ளன  (several databases are open); close all but one for now"


def params_not_array(kind: str) -> EtamilError:
    return EtamilError(
        f"அளவுருக்கள் ஒரு அணியாக இருக்க வேண்டும்  (query parameters must be an array, got {kind})"
    )


def cannot_bind(kind: str) -> EtamilError:
    return EtamilError(f"இதை ஒரு அளவுருவாக பிணைக்க முடியாது  (cannot bind {kind} as a query parameter)")


# ------------------------------------------------------------------------------ §5.11 connecting


def unknown_type(name: str) -> EtamilError:
    return EtamilError(f"அறியப்படாத தரவுத்தள வகை '{name}'  (unknown database type '{name}')")


def not_supported(name: str) -> EtamilError:
    return EtamilError(
        f"{name} இன்னும் ஆதரிக்கப்படவில்லை  ({name} is not supported yet); "
        "SQLite, PostgreSQL and MySQL are the backends today"
    )


def sqlite_cannot_open(conn: str, lib: str) -> EtamilError:
    return EtamilError(
        f"தரவுத்தளம் திறக்க முடியவில்லை  (cannot open database '{mask_password(conn)}'): {lib}"
    )


def postgres_cannot_connect(lib: str) -> EtamilError:
    return DatabaseUnavailable(f"போச்குரசீகுல் இணைக்க முடியவில்லை  (cannot connect to PostgreSQL): {lib}")


def mysql_bad_url(conn: str, lib: str) -> EtamilError:
    return EtamilError(f"மைசீகுல் முகவரி செல்லாதது  (not a valid MySQL URL '{mask_password(conn)}'): {lib}")


def mysql_cannot_connect(lib: str) -> EtamilError:
    return DatabaseUnavailable(f"மைசீகுல் இணைக்க முடியவில்லை  (cannot connect to MySQL): {lib}")


# ------------------------------------------------------------------------------ §5.11 statements


def database_error(lib: str) -> EtamilError:
    return EtamilError(f"தரவுத்தளப் பிழை  (database error): {lib}")


def database_lost(lib: str, down: bool = True) -> EtamilError:
    """The statement failed because the connection broke or the server gave up on it (shut
    down, timed out): the §5.11 database error's text, as an unavailability (503)."""
    return DatabaseUnavailable(f"தரவுத்தளப் பிழை  (database error): {lib}", down=down)


def cannot_prepare(lib: str) -> EtamilError:
    return EtamilError(f"வினா தயாரிக்க முடியவில்லை  (cannot prepare query): {lib}")


def cannot_read_row(lib: str) -> EtamilError:
    return EtamilError(f"வரிசை படிக்க முடியவில்லை  (cannot read row): {lib}")


def cannot_read_column(lib: str, what: str | None = None) -> EtamilError:
    """SQLite: ``what`` is None; PostgreSQL: ``a boolean``, ``a numeric``, ``a float``, ``a text`` ..."""
    column = f"{what} column" if what else "column"
    return EtamilError(f"நெடுவரிசை படிக்க முடியவில்லை  (cannot read {column}): {lib}")


EXECUTE_RETURNED_RESULTS = "Execute returned results - did you mean to call query?"


# ------------------------------------------------------------------------------ the pool (ours)


def pool_exhausted(type_name: str, conn: str, seconds: float) -> EtamilError:
    """No connection became free in time. In the spec's style; the reference never waits."""
    return DatabaseUnavailable(
        f"தரவுத்தள இணைப்புகள் தீர்ந்தன  (no free connection to {type_name} "
        f"'{mask_password(conn)}' within {seconds:g} s)",
        down=False,
    )


# ------------------------------------------------------------------------------ masking

# scheme://user:PASSWORD@host...  (the password runs to the last '@' before the path)
_URL_PASSWORD = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@]*:)([^/?#]*)(@)")
# libpq key=value form: password=secret or password='quoted secret'
_PAIR_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask_password(text: str) -> str:
    """The connection text with any password replaced by ``****``."""
    if "@" in text:
        text = _URL_PASSWORD.sub(r"\1****\3", text)
    if "=" in text:
        text = _PAIR_PASSWORD.sub(r"\1****", text)
    return text
