"""Files and CSV (HOST.md §6.1): the file statements and ``கோப்பு_சேமி``.

There are no file handles: every operation names its file, relative to the working directory, or
inside ETAMIL_DATA_DIR when it is set (host/datadir.py).
Failures are runtime errors carrying the spec's bilingual message followed by the operating
system's error rendered the way the reference (Rust) renders ``std::io::Error``.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from ..base.errors import EtamilError, io_error_text
from ..runtime import limits
from ..runtime.values import WHITE_SPACE
from .datadir import confined

#: Rust's text for a read whose bytes are not UTF-8 (an io error with no os-error suffix).
#: Rust's text for a path holding a NUL byte (Python raises ValueError instead of OSError).


def _open_failed(path: str, exc: BaseException) -> EtamilError:
    return EtamilError(
        f"கோப்பு '{path}' திறக்க முடியவில்லை  (cannot open '{path}' for writing): {io_error_text(exc)}"
    )


def write_failed_message(path: str, exc: BaseException) -> str:
    return f"கோப்பு '{path}' எழுத முடியவில்லை  (cannot write '{path}'): {io_error_text(exc)}"


def _read_failed(path: str, exc: BaseException) -> EtamilError:
    return EtamilError(
        f"கோப்பு '{path}' படிக்க முடியவில்லை  (cannot read '{path}'): {io_error_text(exc)}"
    )


def file_open(path: str, mode: str) -> None:
    """``கோப்பு_திற``: only the mode ``write`` does anything (create or empty the file)."""
    if mode.lower() != "write":
        return
    try:
        with open(confined(path), "wb"):
            pass
    except (OSError, ValueError) as exc:
        raise _open_failed(path, exc) from None


def file_append_line(path: str, text: str) -> None:
    """``கோப்பு_எழுது`` / ``தரவுரை_எழுது``: append ``text`` and a newline, creating the file."""
    try:
        with open(confined(path), "ab") as file:
            file.write(text.encode("utf-8") + b"\n")
    except (OSError, ValueError) as exc:
        raise EtamilError(write_failed_message(path, exc)) from None


def _read_text(path: str) -> str:
    # A character takes at least half as many bytes in memory as in UTF-8 (Latin-1 letters: two
    # bytes in the file, one here), so a file longer than twice the text limit cannot fit: it is
    # not read past that (a huge file, or /dev/zero, never fills the memory first).
    most = limits.max_text_bytes * 2
    try:
        with open(confined(path), "rb") as file:
            data = file.read(most + 1) if most < sys.maxsize else file.read()
    except (OSError, ValueError) as exc:
        raise _read_failed(path, exc) from None
    if len(data) > most:
        raise limits.LimitExceeded(limits.text_message(len(data)))  # at least this many
    try:
        text = data.decode("utf-8")
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        raise _read_failed(path, exc) from None
    return limits.check_text(text)


def file_read(path: str) -> str:
    """``கோப்பு_படி``: the whole file as text, every trailing ``\\n`` removed (``\\r`` stays)."""
    return _read_text(path).rstrip("\n")


def csv_count(path: str) -> Decimal:
    """``தரவுரை_படி``: the count of non-blank lines minus the header, never below zero.

    Lines are split on ``\\n`` only (``str.splitlines`` would also split on form feeds, U+2028
    and others, which the reference keeps inside a line)."""
    lines = _read_text(path).split("\n")
    non_blank = sum(1 for line in lines if line.strip(WHITE_SPACE))
    return Decimal(max(non_blank - 1, 0))


def file_save(path: str, content: str) -> int:
    """``கோப்பு_சேமி``: write ``content`` as the complete file; the number of bytes written.

    Raises ``OSError``/``ValueError``; the builtin turns them into a failure result."""
    data = content.encode("utf-8")
    with open(confined(path), "wb") as file:
        file.write(data)
    return len(data)
