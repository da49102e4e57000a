"""From a handler's final globals to bytes on the wire (HOST.md §4.7.2, §4.8, §4.9).

Interface:

* :class:`Response` -- status, the handler's view of the headers (the ``Content-Type`` default and
  the handler's headers in record order; never Content-Length, CORS, Date, Server or Connection),
  body bytes, and ``reason``: set only on the server's own responses (the reference gives those
  proper phrases while handler responses say ``OK`` for most codes).
* :func:`build_response` -- §4.7.2: the four ``response_*`` globals to a :class:`Response`.
* :func:`error_response` / :func:`error_body` -- the server's own JSON answers. Our correction,
  applied in both modes: inserted text is JSON-escaped (``json.dumps`` without ASCII escaping), so
  every error body is valid JSON; for messages without ``"``, ``\\`` or control characters this is
  byte-identical to the reference.
* :func:`serialize` -- ``mode="reference"``: byte-exact §4.8; ``mode="ours"``: real reason phrases,
  Date/Server/Connection, exact Content-Length, HEAD and 204/304 without a body, and
  :class:`HeaderInjection` for a header name or value that would break the framing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from ..base.errors import io_error_text
from ..host.datadir import confined
from ..runtime.values import display

DEFAULT_BODY = "Handler executed successfully"
JSON = "application/json"
OCTET_STREAM = "application/octet-stream"

CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
    ("Access-Control-Allow-Headers", "Content-Type"),
)
_CORS_BYTES = b"".join(f"{name}: {value}\r\n".encode() for name, value in CORS_HEADERS)

# The reference's phrases for handler responses: these four, and "OK" for every other code.
_HANDLER_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str | None = None  # the server's own responses only

    def header(self, name: str) -> str | None:
        """The value of the header spelled exactly ``name`` (the reference's map is exact)."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


class HeaderInjection(Exception):
    """A handler header that cannot be written safely (CR, LF or NUL in it, or a bad name).
    ``serialize`` raises it in "ours" mode; the caller answers 500 and logs it."""


# ------------------------------------------------------------------------------ the server's own


def reason_phrase(status: int) -> str:
    """The standard phrase for ``status``; ``Unknown`` for codes HTTP does not define."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def error_body(message: str) -> str:
    """``{"error": "<message>"}`` with the message JSON-escaped."""
    return '{"error": ' + json.dumps(message, ensure_ascii=False) + "}"


def error_response(status: int, message_json_body: str, headers: list[tuple[str, str]] = ()) -> Response:
    """A response the server makes itself: JSON body, proper reason phrase."""
    return Response(
        status,
        [("Content-Type", JSON), *headers],
        message_json_body.encode("utf-8"),
        reason=reason_phrase(status),
    )


def not_found() -> Response:
    return error_response(404, '{"error": "Not Found"}')


def handler_error(message: str) -> Response:
    """The 500 for a handler's runtime error (§4.9)."""
    return error_response(500, error_body("Handler error: " + message))


# ------------------------------------------------------------------------------ §4.7.2


def read_file_bytes(path: str) -> bytes:
    """The file a handler answers with (``response_file``), inside ETAMIL_DATA_DIR when set."""
    with open(confined(path), "rb") as handle:
        return handle.read()


def response_status(value: Any) -> int:
    """The status a ``response_status`` value gives: a number 0..65535 (fraction dropped), else 200."""
    if type(value) is Decimal:
        status = int(value)
        if 0 <= status <= 65535:
            return status
    return 200


def build_response(
    final_globals: dict[str, Any], *, file_reader: Callable[[str], bytes] = read_file_bytes
) -> Response:
    """The response a finished handler set (HOST.md §4.7.2). An unset variable is an absent key."""
    status = response_status(final_globals.get("response_status"))
    headers: list[tuple[str, str]] = [("Content-Type", JSON)]
    handler_headers = final_globals.get("response_headers")
    if type(handler_headers) is dict:
        for name, value in handler_headers.items():
            if name == "Content-Length":
                continue  # always replaced by the exact length (a differently-cased one stays)
            _set_exact(headers, name, display(value))
    if "response_file" in final_globals:
        path = display(final_globals["response_file"])
        try:
            body = file_reader(path)
        except (OSError, ValueError) as exc:
            return error_response(500, error_body(f"cannot read '{path}': {io_error_text(exc)}"))
        if _get_exact(headers, "Content-Type") == JSON:
            _set_exact(headers, "Content-Type", OCTET_STREAM)
        return Response(status, headers, body)
    if "response_body" in final_globals:
        text = display(final_globals["response_body"])
    else:
        text = DEFAULT_BODY
    return Response(status, headers, text.encode("utf-8"))


def _get_exact(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _set_exact(headers: list[tuple[str, str]], name: str, value: str) -> None:
    """Replace the header spelled exactly ``name`` in place, or append it."""
    for i, (key, _) in enumerate(headers):
        if key == name:
            headers[i] = (name, value)
            return
    headers.append((name, value))


# ------------------------------------------------------------------------------ §4.8 on the wire


def serialize(
    response: Response,
    *,
    mode: str,
    keep_alive: bool,
    head: bool = False,
    date: bytes | None = None,
    server_name: bytes = b"etamil-server",
    http_version: str = "1.1",
) -> bytes:
    """The bytes of ``response``. ``mode`` is "reference" (byte-exact HOST.md §4.8; ``keep_alive``,
    ``head``, ``date`` and ``server_name`` are ignored, the reference always closes) or "ours"."""
    if mode == "reference":
        return _serialize_reference(response)
    return _serialize_ours(response, keep_alive, head, date, server_name, http_version)


def _serialize_reference(response: Response) -> bytes:
    status = response.status
    reason = response.reason or _HANDLER_REASONS.get(status, "OK")
    body = response.body
    parts = [f"HTTP/1.1 {status} {reason}\r\n"]
    length = f"Content-Length: {len(body)}\r\n"
    headers = response.headers
    start = 0
    if headers and headers[0][0] == "Content-Type":
        parts.append(f"Content-Type: {headers[0][1]}\r\n")
        start = 1
    parts.append(length)
    for name, value in headers[start:]:
        parts.append(f"{name}: {value}\r\n")
    return "".join(parts).encode("utf-8") + _CORS_BYTES + b"\r\n" + body


_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})
_BAD_IN_VALUE = ("\r", "\n", "\0")
_BAD_IN_NAME = ("\r", "\n", "\0", ":", " ", "\t")


def body_allowed(method: str, status: int) -> bool:
    """Whether a response carries its body on the wire: never for HEAD, and never with a 1xx,
    204 or 304 status (RFC 9110 §6.4.1). The one place this rule is written."""
    return method != "HEAD" and status >= 200 and status != 204 and status != 304


def http_date() -> bytes:
    """The current time as an HTTP date (callers cache it per second)."""
    return formatdate(usegmt=True).encode("ascii")


def _serialize_ours(
    response: Response,
    keep_alive: bool,
    head: bool,
    date: bytes | None,
    server_name: bytes,
    http_version: str,
) -> bytes:
    status = response.status
    body = response.body
    bodiless = not body_allowed("", status)  # no Content-Length either: they have no body at all
    lines: list[str] = []
    seen: set[str] = set()
    for name, value in response.headers:
        if not name or any(c in name for c in _BAD_IN_NAME) or any(c in value for c in _BAD_IN_VALUE):
            raise HeaderInjection(f"refused response header {name!r}: {value!r}")
        lower = name.lower()
        if lower in _FRAMING:
            continue  # the server owns the framing
        seen.add(lower)
        lines.append(f"{name}: {value}\r\n")
    if not bodiless:
        at = 1 if response.headers and response.headers[0][0].lower() == "content-type" else 0
        lines.insert(at, f"Content-Length: {len(body)}\r\n")
    for name, value in CORS_HEADERS:
        if name.lower() not in seen:  # a handler's own CORS header wins
            lines.append(f"{name}: {value}\r\n")
    if "date" not in seen:
        lines.append("Date: " + (date or http_date()).decode("ascii") + "\r\n")
    if "server" not in seen:
        lines.append("Server: " + server_name.decode("ascii") + "\r\n")
    if not keep_alive:
        lines.append("Connection: close\r\n")
    elif http_version == "1.0":
        lines.append("Connection: keep-alive\r\n")
    head_bytes = f"HTTP/1.1 {status} {reason_phrase(status)}\r\n{''.join(lines)}\r\n".encode()
    if head or bodiless:
        return head_bytes
    return head_bytes + body
