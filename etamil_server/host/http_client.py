"""The outbound HTTP client behind ``வலை_பெறு`` / ``வலை_பதி`` / ``வலை_அனுப்பு`` (HOST.md §6.3).

Built on ``http.client`` rather than ``requests``/``urllib``: the spec pins redirect rules (which
statuses are followed for which methods, which headers are dropped, failing at the fifth redirect
response), default headers, a whole-request deadline and a body limit, and both libraries have
redirect and header policies of their own that would have to be switched off piece by piece.
Here every step is explicit. Each call opens its own connection and closes it (no pooling), reads
no proxy variables, and bounds everything by a 10 s connect timeout and a 30 s overall deadline.

The ``{lib}`` part of failure messages is ours (the reference's came from its Rust client); it
reads ``{url}: {what went wrong}``.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..base.errors import io_error_text
from . import tls_settings

#: Our own product token: we do not impersonate the reference's client (``ureq/2.12.1``).
USER_AGENT = "etamil-server/0.1"
CONNECT_TIMEOUT = 10.0
TOTAL_TIMEOUT = 30.0
MAX_BODY = 10 * 1024 * 1024
#: The request fails when the n-th redirect response arrives.
MAX_REDIRECT_RESPONSES = 5
_CHUNK = 64 * 1024

REQUEST_FAILED = "வலைக் கோரிக்கை தோல்வி  (the request never completed): "
BODY_FAILED = "பதிலைப் படிக்க முடியவில்லை  (cannot read the response body): "

#: 307/308 keep the method, and are followed only for methods that carry no body by nature.
_KEEP_METHOD_ON_307 = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Never forwarded to where a redirect points.
_DROPPED_ON_REDIRECT = frozenset({"authorization", "cookie", "content-length", "transfer-encoding"})


class HttpFailure(Exception):
    """The request failed; ``message`` is the complete bilingual text for ``தவறு(...)``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]  # lower-cased names; the first value of a repeated header


@dataclass
class _Target:
    scheme: str
    host: str
    port: int
    request_target: str  # path and query, percent-encoded
    host_header: str


def _request_failed(url: str, what: str) -> HttpFailure:
    return HttpFailure(f"{REQUEST_FAILED}{url}: {what}")


def _body_failed(what: str) -> HttpFailure:
    return HttpFailure(BODY_FAILED + what)


def _percent_encode(text: str) -> str:
    """Encode what may not appear raw in a request target (controls, space, quotes, angle
    brackets, backtick, non-ASCII as UTF-8), leaving existing ``%XX`` escapes alone."""
    out = []
    for char in text:
        if "!" <= char <= "~" and char not in '"<>`':
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _parse_url(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _request_failed(url, f"Bad URL: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise _request_failed(url, "Bad URL: relative URL without a base")
    if scheme not in ("http", "https"):
        raise _request_failed(url, f"Unknown Scheme: {scheme}")
    host = parts.hostname
    if not host:
        raise _request_failed(url, "Bad URL: empty host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _request_failed(url, "Bad URL: invalid international domain name") from None
    default_port = 443 if scheme == "https" else 80
    shown_host = f"[{host}]" if ":" in host else host
    host_header = shown_host if port in (None, default_port) else f"{shown_host}:{port}"
    target = _percent_encode(parts.path or "/")
    if parts.query:
        target += "?" + _percent_encode(parts.query)
    return _Target(scheme, host, port or default_port, target, host_header)


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _connect(target: _Target, url: str, deadline: float) -> http.client.HTTPConnection:
    timeout = min(CONNECT_TIMEOUT, _remaining(deadline))
    if timeout <= 0:
        raise _request_failed(url, "Network Error: timed out")
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=tls_settings.client_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        connection.connect()
    except socket.gaierror as exc:
        raise _request_failed(url, f"Dns Failed: {exc.strerror or exc}") from None
    except TimeoutError:
        raise _request_failed(url, "Connection Failed: connect timed out") from None
    except ssl.SSLError as exc:
        raise _request_failed(url, f"Connection Failed: TLS: {exc}") from None
    except OSError as exc:
        raise _request_failed(url, f"Connection Failed: {io_error_text(exc)}") from None
    return connection


def _is_token(text: str) -> bool:
    """An RFC 9110 token: what a method or a header name may be."""
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") for c in text)


def _valid_header(name: str, value: bytes) -> bool:
    return _is_token(name) and all(byte == 9 or 32 <= byte != 127 for byte in value)


def _request_head(
    method: str, target: _Target, url: str, body: bytes | None, headers: list[tuple[str, str]]
) -> list[tuple[str, bytes]]:
    """The header lines to send (defaults unless given), checked before anything is sent: a
    value holding CR or LF could otherwise smuggle in headers of its own."""
    if not _is_token(method):
        raise _request_failed(url, f"Bad Method: {method}")
    given = {name.lower() for name, _ in headers}
    lines: list[tuple[str, bytes]] = []
    if "host" not in given:
        lines.append(("Host", target.host_header.encode("ascii")))
    for name, default in (("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "gzip")):
        if name.lower() not in given:
            lines.append((name, default.encode("ascii")))
    # Header values go out as UTF-8 bytes (http.client would insist on Latin-1).
    lines.extend((name, value.encode("utf-8")) for name, value in headers)
    if body is not None and "content-length" not in given:
        lines.append(("Content-Length", str(len(body)).encode("ascii")))
    for name, value in lines:
        if not _valid_header(name, value):
            raise _request_failed(url, f"Bad Header: {name}")
    return lines


def _send(
    connection: http.client.HTTPConnection,
    method: str,
    target: _Target,
    url: str,
    body: bytes | None,
    lines: list[tuple[str, bytes]],
    deadline: float,
) -> http.client.HTTPResponse:
    try:
        connection.sock.settimeout(max(_remaining(deadline), 0.001))
        connection.putrequest(method, target.request_target, skip_host=True, skip_accept_encoding=True)
        for name, value in lines:
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse()
    except TimeoutError:
        raise _request_failed(url, "Network Error: timed out") from None
    except (ValueError, http.client.InvalidURL) as exc:
        raise _request_failed(url, f"Bad Request: {exc}") from None
    except http.client.HTTPException as exc:
        raise _request_failed(url, f"Bad Status: {exc!r}") from None
    except ssl.SSLError as exc:  # with TLS 1.3 a refused client certificate is only seen here
        raise _request_failed(url, f"Connection Failed: TLS: {exc}") from None
    except OSError as exc:
        raise _request_failed(url, f"Network Error: {io_error_text(exc)}") from None


def _redirect_method(status: int, method: str) -> str | None:
    """The method to follow a redirect with, or ``None`` when the 3xx is the answer."""
    if status in (301, 302, 303):
        return method if method in ("GET", "HEAD") else "GET"
    if status in (307, 308) and method in _KEEP_METHOD_ON_307:
        return method
    return None


class _BodyCollector:
    """Collects the body up to :data:`MAX_BODY` bytes, un-gzipping on the way when the
    response says ``Content-Encoding: gzip`` (the limit counts decompressed bytes)."""

    def __init__(self, gzipped: bool):
        self.parts: list[bytes] = []
        self.size = 0
        self.inflater = zlib.decompressobj(wbits=31) if gzipped else None

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > MAX_BODY:
            raise _body_failed("response body is larger than 10 MiB")
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self.inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data and not self.inflater.eof:
            try:
                # Bounded output per step: a small gzip bomb cannot blow up memory.
                self._keep(self.inflater.decompress(data, MAX_BODY + 1 - self.size))
            except zlib.error as exc:
                raise _body_failed(f"invalid gzip data: {exc}") from None
            data = self.inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self.inflater is not None and not self.inflater.eof:
            raise _body_failed("unexpected end of gzip data")
        return b"".join(self.parts)


def _read_body(response: http.client.HTTPResponse, sock: socket.socket, method: str, deadline: float) -> bytes:
    encoding = (response.getheader("content-encoding") or "").strip().lower()
    gzipped = encoding == "gzip" and method != "HEAD" and response.status not in (204, 304)
    collector = _BodyCollector(gzipped)
    saw_data = False
    while True:
        remaining = _remaining(deadline)
        if remaining <= 0:
            raise _body_failed("timed out reading response")
        if response.isclosed():  # http.client closes it once the whole body is in
            break
        try:
            # The response reads through this socket even after http.client has "handed the
            # connection over" to it; each read may take only what is left of the deadline.
            sock.settimeout(remaining)
            chunk = response.read(_CHUNK)
        except TimeoutError:
            raise _body_failed("timed out reading response") from None
        except http.client.HTTPException as exc:
            raise _body_failed(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise _body_failed(io_error_text(exc)) from None
        if not chunk:
            break
        saw_data = True
        collector.feed(chunk)
    if not saw_data:
        return b""
    return collector.finish()


def _header_record(response: http.client.HTTPResponse) -> dict[str, str]:
    record: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        if key not in record:
            # http.client decodes header bytes as Latin-1; recover the bytes, read them as UTF-8.
            record[key] = value.encode("latin-1", "replace").decode("utf-8", "replace").strip(" \t")
    return record


def fetch(method: str, url: str, body: bytes | None, headers: list[tuple[str, str]]) -> Response:
    """Perform one request, following redirects. Raises :class:`HttpFailure`."""
    tls_settings.load_once()  # the mutual-TLS settings are read (and reported) at the first request
    deadline = time.monotonic() + TOTAL_TIMEOUT
    redirects = 0
    while True:
        target = _parse_url(url)
        lines = _request_head(method, target, url, body, headers)
        connection = _connect(target, url, deadline)
        sock = connection.sock
        response = None
        try:
            response = _send(connection, method, target, url, body, lines, deadline)
            if 300 <= response.status < 399:
                if redirects + 1 >= MAX_REDIRECT_RESPONSES:
                    raise _request_failed(url, "Too Many Redirects")
                location = response.getheader("location")
                new_method = _redirect_method(response.status, method)
                if location is not None and new_method is not None:
                    location = location.encode("latin-1", "replace").decode("utf-8", "replace")
                    url = urljoin(url, location.strip())
                    method, body = new_method, None
                    headers = [(n, v) for n, v in headers if n.lower() not in _DROPPED_ON_REDIRECT]
                    redirects += 1
                    continue
            data = _read_body(response, sock, method, deadline)
            return Response(response.status, data.decode("utf-8", "replace"), _header_record(response))
        finally:
            if response is not None:
                response.close()
            connection.close()
