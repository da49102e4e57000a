"""Errors raised while an eTamil program runs.

Every failure a program can meet at run time is an :class:`EtamilError` carrying the exact
bilingual message of the spec (LANGUAGE.md §14.3, HOST.md §5.11 ...). The message carries no line
or column (LANGUAGE.md §14.1): where the error happened travels beside it, in ``location`` (our
addition, reported on a line of its own after the reference's, :func:`location_text`).
"""

from __future__ import annotations

import os


class Location:
    """Where a runtime error happened: the position (1-based line and column) and file (None:
    typed at a prompt or read from standard input) of the innermost eTamil statement it passed
    through, and the eTamil functions called on the way there, outermost first."""

    __slots__ = ("line", "column", "file", "calls")

    def __init__(self, line: int, column: int, file: str | None, calls: list[str]):
        self.line = line
        self.column = column
        self.file = file
        self.calls = calls

    def __repr__(self) -> str:
        return f"Location({self.line}, {self.column}, {self.file!r}, {self.calls!r})"


class EtamilError(Exception):
    """A runtime error of an eTamil program: ``message`` is the spec's bilingual text;
    ``location`` is set when the error leaves a compiled program (None: not known)."""

    location: Location | None = None

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SourceError(Exception):
    """A program whose text cannot be loaded or compiled: lexical, parse and module errors
    (``lang.loader.LoadError``) and nesting beyond what this implementation compiles
    (``runtime.compiler.CompileError``). ``message`` is the bilingual text that follows ``✗ ``;
    it carries the line and column where the spec gives them (LANGUAGE.md §14.2).

    With :class:`EtamilError` these are every failure the front end and the runtime report: any
    other exception out of them is a defect (tests/reliability/test_language_fuzz.py)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DatabaseUnavailable(EtamilError):
    """A database the program needs could not be reached, went away in the middle of a
    statement, or did not answer within a timeout (our addition: the reference reports these as
    ordinary runtime errors). A server answers 503 rather than 500: the request was fine and may
    succeed when retried. ``down`` says whether the database itself failed (``/ready`` then says
    so at once) rather than being busy (no free pooled connection in time)."""

    def __init__(self, message: str, down: bool = True):
        super().__init__(message)
        self.down = down


class EtamilOverflow(EtamilError):
    """Decimal overflow. Upstream aborts the process (exit 101); we stop the program with an
    ordinary runtime error (exit 1), as HOST.md §2.7 recommends for ports."""


class EtamilExit(BaseException):
    """``வெளியேறு(n)``: ends the process with status ``n`` (HOST.md §6.7).

    A BaseException so that no ``except Exception`` in host code swallows it."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class DeadlineExceeded(EtamilError):
    """The run went past the deadline it was given (our addition: the reference has none)."""


def not_implemented(label: str) -> EtamilError:
    """The error for statements that parse but have no runtime (LANGUAGE.md §14.3)."""
    return EtamilError(
        f"{label} — இந்த VM இல் இன்னும் செயல்படுத்தப்படவில்லை  (not implemented in the VM yet)"
    )


def undefined_variable(name: str) -> EtamilError:
    return EtamilError(f"அறிவிக்கப்படாத மாறி '{name}'  (undefined variable '{name}')")


def arity_error(name: str, expected: int, got: int) -> EtamilError:
    return EtamilError(
        f"செயல் '{name}' {expected} அளவுருக்களை எதிர்பார்க்கிறது, {got} வழங்கப்பட்டது  "
        f"(function '{name}' expects {expected} argument(s), got {got})"
    )


def unknown_function(name: str) -> EtamilError:
    return EtamilError(f"அறியப்படாத செயல் '{name}'  (unknown function '{name}')")


#: a call chain longer than this is shown by its two ends
_CHAIN_SHOWN = 8


def location_text(location: Location, shown_file: str | None) -> str:
    """The line after ``✗ Runtime error: …`` (indented like the reference's continuation lines),
    bilingual as the spec's positioned messages: ``shown_file`` is the file as the user should
    read it (None: leave it out)::

        இடம்: ledger.qmz, வரி 12, நெடுவரிசை 5, அழைப்புகள்: pay → fee  (at ledger.qmz, line 12, column 5, calls: pay → fee)
    """
    where = f"{shown_file}, " if shown_file else ""
    chain = call_chain(location.calls)
    tamil = f"இடம்: {where}வரி {location.line}, நெடுவரிசை {location.column}"
    english = f"at {where}line {location.line}, column {location.column}"
    if chain:
        tamil += f", அழைப்புகள்: {chain}"
        english += f", calls: {chain}"
    return f"  {tamil}  ({english})"


def call_chain(calls: list[str]) -> str:
    """``outer → inner``: a run of calls of one function is written once with its count
    (``depth ×257``), and a chain still too long keeps its two ends around ``…``."""
    runs: list[str] = []
    index = 0
    while index < len(calls):
        end = index
        while end + 1 < len(calls) and calls[end + 1] == calls[index]:
            end += 1
        count = end - index + 1
        runs.append(calls[index] if count == 1 else f"{calls[index]} ×{count}")
        index = end + 1
    if len(runs) > _CHAIN_SHOWN:
        half = _CHAIN_SHOWN // 2
        runs = [*runs[:half], "…", *runs[-half:]]
    return " → ".join(runs)


DIVISION_BY_ZERO = "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"
CALL_DEPTH = "செயல் அழைப்பு ஆழம் மிகுதி (256)  (call depth exceeded — infinite recursion?)"
RETURN_OUTSIDE = "செயலுக்கு வெளியே திரும்பு  (return outside of a function)"


# OS errors the way Rust renders std::io::Error (HOST.md §0.3 `{io}`): shared by every layer.
NOT_UTF8 = "stream did not contain valid UTF-8"
NUL_IN_PATH = "file name contained an unexpected NUL byte"


def io_error_text(exc: BaseException) -> str:
    """Render an I/O failure as Rust does: ``No such file or directory (os error 2)``."""
    if isinstance(exc, UnicodeDecodeError):
        return NOT_UTF8
    if isinstance(exc, OSError) and exc.errno is not None:
        description = exc.strerror or os.strerror(exc.errno)
        return f"{description} (os error {exc.errno})"
    if isinstance(exc, ValueError) and "null" in str(exc):
        return NUL_IN_PATH
    return str(exc)
