"""The request being read on a connection (per-request state, apart from the connection's own in
``web/protocol.py``), the checks RFC 9112 asks of its head, and how a request line starts.

The request line: llhttp knows only its own list of upper-case methods, while the reference
upper-cases any method word (HOST.md §4.4: ``get`` reaches GET routes; ``FROB`` or ``purge`` are
routable). :func:`method_word` finds the word at the start of a request line, so that the protocol
can show the parser ``GET`` instead and keep the word for the :class:`Request`.
"""

from __future__ import annotations

import re

from .request import Request

#: the methods llhttp is shown as they are; any other method word is shown to it as GET
KNOWN_METHODS = {name.encode(): name for name in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")}
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
NO_BODY: list[bytes] = []  # shared, never appended to: most requests have no body

# RFC 9110 §7.2 / RFC 3986: uri-host [ ":" port ], where uri-host is an IP literal or a reg-name
_HOST = re.compile(rb"(?:\[[0-9A-Za-z:.\-]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")

MORE = -1  # method_word: the word may go on in the next read
NOT_A_METHOD = -2  # method_word: the line does not start with a method word and a space


def method_word(data: bytes) -> int:
    """The length of the method word that starts ``data`` when a space follows it; :data:`MORE`
    when ``data`` holds only (the start of) a word; :data:`NOT_A_METHOD` otherwise."""
    end = _TOKEN.match(data).end()  # type: ignore[union-attr]  # matches the empty string too
    if end == len(data):
        return MORE
    if end == 0 or data[end] != 0x20:
        return NOT_A_METHOD
    return end


class Incoming:
    """What the parser has reported of one request so far."""

    __slots__ = (
        "method",
        "url",
        "headers",
        "header_size",
        "hosts",
        "host",
        "body",
        "body_size",
        "content_length",
        "expect",
        "version",
        "started",
    )

    def __init__(self, method: str | None, started: float):
        self.method = method  # the word as sent when the parser was shown GET instead; else None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_size = 0
        self.hosts = 0  # Host header lines seen
        self.host = b""
        self.body = NO_BODY
        self.body_size = 0
        self.content_length = -1  # -1: no Content-Length (chunked, or no body)
        self.expect: bytes | None = None
        self.version = ""
        self.started = started  # hub clock at the first byte of the request line

    def request(self, parser_method: bytes) -> Request:
        """The :class:`Request` once the message is complete."""
        body = self.body
        target = self.url.decode("utf-8", "replace")
        path, _, query = target.partition("?")
        return Request(
            self.method or KNOWN_METHODS.get(parser_method) or parser_method.decode("ascii"),
            target,
            path,
            query,
            [(n.decode("utf-8", "replace"), v.decode("utf-8", "replace")) for n, v in self.headers],
            b"" if body is NO_BODY else body[0] if len(body) == 1 else b"".join(body),
            self.version,
        )


def head_problem(incoming: Incoming) -> tuple[int, str] | None:
    """(status, message) when the head breaks RFC 9112 in a way the parser lets through; None
    when it is fine. A version other than 1.x is 505 (``HTTP/2.0`` spoken as text), a request
    line without one (HTTP/0.9) 400; a missing Host in HTTP/1.1, a repeated one or an invalid
    value 400 (§3.2)."""
    version = incoming.version
    if version != "1.1" and version != "1.0":
        if version.startswith("0."):
            return 400, "Bad Request: the request line has no HTTP version"
        return 505, "HTTP Version Not Supported"
    hosts = incoming.hosts
    if hosts == 1:
        if _HOST.fullmatch(incoming.host.strip(b" \t")) is None:
            return 400, "Bad Request: invalid Host header"
        return None
    if hosts > 1:
        return 400, "Bad Request: more than one Host header"
    if version == "1.1":
        return 400, "Bad Request: no Host header"
    return None
