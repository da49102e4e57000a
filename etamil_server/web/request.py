"""An HTTP request as eTamil sees it, and the request variables a handler reads (HOST.md §4.5-4.6).

Interface (used by the protocol, the sync server and the app):

* :class:`Request` -- what arrived: method and target exactly as sent, the raw path and query, the
  header lines as sent (names and values decoded from bytes as UTF-8 with replacement, untrimmed),
  the body bytes and the HTTP version (``"1.1"`` / ``"1.0"``). ``request.header(name)`` looks a
  header up case-insensitively (last value wins, trimmed).
* :func:`parse_query` -- the query-string rules of §4.5.
* :func:`request_variables` -- the globals of §4.6 injected into a handler run, with multipart
  parsing (§7.6, :mod:`.multipart`); the uploaded bytes go to ``ctx.uploads`` when a RunContext is
  given, where the builtin ``பதிவேற்றம்_சேமி`` (:mod:`.builtins`) finds them.
* :func:`parse_reference_request` -- the reference implementation's parser of a raw request (what
  ``--server`` uses, §4.5 "Parsing"); raises :class:`BadRequestLine`.
* :func:`request_variable_names` -- the names :func:`request_variables` sets, for the compiler's
  ``inputs``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..runtime.values import WHITE_SPACE
from .multipart import parse_multipart

_WORD_SEPARATOR = re.compile(f"[{re.escape(WHITE_SPACE)}]+")


def trim(text: str) -> str:
    """Trim Unicode White_Space from both ends, as Rust's str::trim does (a bare str.strip would
    also take U+001C-U+001F)."""
    return text.strip(WHITE_SPACE)


@dataclass
class Request:
    method: str
    target: str
    path: str
    query: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    http_version: str = "1.1"
    # set by the server's responder (``web/responder.py``) as it takes the request: the request
    # id (echoed as ``X-Request-Id``, in the access line and in handler-error lines), when it was
    # taken (``time.monotonic()``, for the access log and the latency histogram; 0.0 when neither
    # is on) and the route label the metrics count it under (never the raw path)
    request_id: str = ""
    received: float = 0.0
    route: str = ""

    @classmethod
    def from_target(
        cls,
        method: str,
        target: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        http_version: str = "1.1",
    ) -> Request:
        """Build a request, splitting ``target`` at its first ``?`` into path and query."""
        path, _, query = target.partition("?")
        return cls(method, target, path, query, list(headers or []), body, http_version)

    def header(self, name: str) -> str | None:
        """The trimmed value of header ``name`` (any case); the last one when repeated."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if trim(key).lower() == wanted:
                found = trim(value)
        return found


class BadRequestLine(Exception):
    """The request line is unusable: ``message`` is ``Invalid request line`` or ``Missing request
    line`` (the server answers 400 with it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------ query strings

_HEX = "0123456789abcdefABCDEF"


def percent_decode(text: str) -> str:
    """``+`` to space, ``%XX`` to that byte, any other ``%`` kept; the bytes are then decoded as
    UTF-8 with invalid sequences replaced (HOST.md §4.5)."""
    if "%" not in text and "+" not in text:
        return text
    raw = text.replace("+", " ").encode("utf-8")
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        byte = raw[i]
        if byte == 0x25 and i + 2 < n and chr(raw[i + 1]) in _HEX and chr(raw[i + 2]) in _HEX:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(byte)
            i += 1
    return out.decode("utf-8", errors="replace")


def parse_query(query: str) -> dict[str, str]:
    """The query record: pieces split on ``&``; a piece without ``=`` is dropped; key and value
    are percent-decoded; a repeated key keeps the last value."""
    params: dict[str, str] = {}
    if not query:
        return params
    for piece in query.split("&"):
        key, equals, value = piece.partition("=")
        if not equals:
            continue
        params[percent_decode(key)] = percent_decode(value)
    return params


# ------------------------------------------------------------------------------ handler variables

BASE_VARIABLES = (
    "request_method",
    "request_path",
    "request_body",
    "query_params",
    "headers",
    "path_params",
    "request_fields",
    "request_files",
)


def request_variable_names(param_names: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every global :func:`request_variables` may set for a route with these path parameters."""
    return BASE_VARIABLES + tuple(dict.fromkeys("param_" + name for name in param_names))


def header_record(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased, trimmed names -> trimmed values; a repeated name keeps the last value."""
    record: dict[str, str] = {}
    for name, value in headers:
        record[trim(name).lower()] = trim(value)
    return record


def request_variables(
    request: Request, path_params: dict[str, str], ctx: Any = None, names: Any = None
) -> dict[str, Any]:
    """The globals of HOST.md §4.6 for one handler run.

    ``names``, when given, is the set of request variables the program can read (the compiled
    program knows it): only those are built, so a route that reads nothing costs nothing here.

    With ``ctx`` (a RunContext) the bytes of uploaded files are stored in ``ctx.uploads`` as
    ``(record, bytes)`` pairs, index for index with ``request_files``; when the program does not
    read the multipart variables they are parsed only if ``பதிவேற்றம்_சேமி`` asks (see
    :func:`uploads_of`)."""
    if names is not None and not names:  # the route reads no request variable (common)
        if ctx is not None:
            ctx.uploads = None
            ctx.upload_request = request
        return {}
    if names is None:
        names = _EVERY_VARIABLE
    # one membership test per variable, no call: this runs for every request of a route that
    # reads any request variable
    variables: dict[str, Any] = {}
    multipart = "request_fields" in names or "request_files" in names
    headers = header_record(request.headers) if multipart or "headers" in names else None
    if "request_method" in names:
        variables["request_method"] = request.method
    if "request_path" in names:
        variables["request_path"] = request.path
    if "request_body" in names:
        variables["request_body"] = request.body.decode("utf-8", errors="replace")
    if "query_params" in names:
        variables["query_params"] = parse_query(request.query)
    if headers is not None and "headers" in names:
        variables["headers"] = headers
    if "path_params" in names:
        variables["path_params"] = dict(path_params)
    if multipart:
        fields, files = parse_multipart(headers.get("content-type"), request.body)
        if ctx is not None:
            ctx.uploads = files
        variables["request_fields"] = fields
        variables["request_files"] = [record for record, _ in files]
    elif ctx is not None:
        ctx.uploads = None
        ctx.upload_request = request
    if path_params:
        for name, value in path_params.items():
            variable = "param_" + name
            if variable in names:
                variables[variable] = value
    return variables


class _Everything:
    """``names=None``: every request variable, whatever path parameters the route has."""

    __slots__ = ()

    def __contains__(self, name: object) -> bool:
        return True


_EVERY_VARIABLE = _Everything()


def uploads_of(ctx: Any) -> list:
    """The uploaded files of the run's request, parsed now if nothing parsed them yet."""
    uploads = getattr(ctx, "uploads", None)
    if uploads is None:
        request = getattr(ctx, "upload_request", None)
        uploads = []
        if request is not None:
            _, uploads = parse_multipart(header_record(request.headers).get("content-type"), request.body)
        ctx.uploads = uploads
    return uploads


# ------------------------------------------------------------------------------ the reference parser


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body: split at the first CRLFCRLF, else the first LFLF, else all head."""
    end = raw.find(b"\r\n\r\n")
    if end >= 0:
        return raw[:end], raw[end + 4 :]
    end = raw.find(b"\n\n")
    if end >= 0:
        return raw[:end], raw[end + 2 :]
    return raw, b""


def parse_reference_request(raw: bytes) -> Request:
    """Parse a raw request the way the reference does (HOST.md §4.5 "Parsing").

    The version word is ignored upstream; we keep ``"1.0"`` when it says so, else ``"1.1"``."""
    head_bytes, body = split_head(raw)
    head = head_bytes.decode("utf-8", errors="replace")
    if not head:
        raise BadRequestLine("Missing request line")
    lines = [line[:-1] if line.endswith("\r") else line for line in head.split("\n")]
    words = [word for word in _WORD_SEPARATOR.split(lines[0]) if word]
    if len(words) < 3:
        raise BadRequestLine("Invalid request line")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name, value))
    version = "1.0" if words[2] == "HTTP/1.0" else "1.1"
    return Request.from_target(words[0], words[1], headers, body, version)
