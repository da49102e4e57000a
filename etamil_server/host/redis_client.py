"""A minimal Redis client for ``ரெடிஸ்_இணை`` / ``ரெடிஸ்_கட்டளை`` / ``ரெடிஸ்_பிரி`` (HOST.md §7.1).

RESP2 over one TCP connection: commands go out as arrays of bulk strings, replies come back as
eTamil values. Every failure is a ``தவறு`` text (the builtins hand them to the program); none
escapes as a Python exception.
"""

from __future__ import annotations

import re
import socket
from decimal import Decimal
from typing import Any

from ..base.errors import io_error_text
from ..runtime.values import Err, Ok

READ_WRITE_TIMEOUT = 10.0
NOT_CONNECTED = "ரெடிஸ் இணைக்கப்படவில்லை  (not connected to Redis): use ரெடிஸ்_இணை first"
CLOSED = "ரெடிஸ் இணைப்பு மூடப்பட்டது  (the connection closed)"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_I64 = range(-(2**63), 2**63)


class _Failure(Exception):
    """A reply that cannot be read; ``message`` is the text for ``தவறு``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _address_error(address: str, why: str) -> Err:
    return Err(f"ரெடிஸ் '{address}' இணைக்க முடியவில்லை  (cannot connect to Redis at '{address}'): {why}")


def _split_address(address: str) -> tuple[str, int] | str:
    """``host:port`` (``[v6]:port`` too) or the reason it is not one (Rust's wording)."""
    host, colon, port_text = address.rpartition(":")
    if not colon:
        return "invalid socket address"
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        return "invalid port value"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)


class RedisConnection:
    def __init__(self, sock: socket.socket, address: str):
        self.address = address
        self._sock = sock
        self._reader = sock.makefile("rb")

    @classmethod
    def open(cls, address: str) -> tuple[RedisConnection | None, Ok | Err]:
        """Connect (with the system's default connect timeout, as the reference does)."""
        parts = _split_address(address)
        if isinstance(parts, str):
            return None, _address_error(address, parts)
        try:
            sock = socket.create_connection(parts)
        except socket.gaierror as exc:
            return None, _address_error(address, f"failed to lookup address information: {exc.strerror}")
        except OSError as exc:
            return None, _address_error(address, io_error_text(exc))
        sock.settimeout(READ_WRITE_TIMEOUT)
        return cls(sock, address), Ok(address)

    def close(self) -> None:
        for closable in (self._reader, self._sock):
            try:
                closable.close()
            except OSError:
                pass

    def command(self, name: str, arguments: list[str]) -> Ok | Err:
        words = [name, *arguments]
        frame = [f"*{len(words)}\r\n".encode()]
        for word in words:
            data = word.encode("utf-8")
            frame += [f"${len(data)}\r\n".encode(), data, b"\r\n"]
        try:
            self._sock.sendall(b"".join(frame))
        except OSError as exc:
            return Err(f"ரெடிஸ் கட்டளையை அனுப்ப முடியவில்லை  (cannot send the command): {io_error_text(exc)}")
        try:
            reply = self._reply(top_level=True)
        except _Failure as failure:
            return Err(failure.message)
        return reply if isinstance(reply, Err) else Ok(reply)

    # --------------------------------------------------------------------------- replies
    def _line(self) -> str:
        try:
            raw = self._reader.readline()
        except OSError as exc:
            raise _Failure(f"ரெடிஸ் பதிலைப் படிக்க முடியவில்லை  (cannot read the reply): {io_error_text(exc)}") from None
        if not raw:
            raise _Failure(CLOSED)
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise _Failure(f"ரெடிஸ் பதிலைப் படிக்க முடியவில்லை  (cannot read the reply): {io_error_text(exc)}") from None

    @staticmethod
    def _integer(text: str, message: str) -> int:
        if not _INTEGER.fullmatch(text) or int(text) not in _I64:
            raise _Failure(message)
        return int(text)

    def _bulk(self, length: int) -> str:
        try:
            data = self._reader.read(length + 2)
        except OSError as exc:
            raise _Failure(f"ரெடிஸ் மதிப்பைப் படிக்க முடியவில்லை  (cannot read the value): {io_error_text(exc)}") from None
        if len(data) < length + 2:
            raise _Failure("ரெடிஸ் மதிப்பைப் படிக்க முடியவில்லை  (cannot read the value): failed to fill whole buffer")
        return data[:length].decode("utf-8", "replace")

    def _reply(self, top_level: bool) -> Any:
        line = self._line()
        marker, rest = line[:1], line[1:]
        if marker == "+":
            return rest
        if marker == "-":
            # A failure at the top; inside an array it is just text.
            return Err(rest) if top_level else rest
        if marker == ":":
            return Decimal(self._integer(rest, f"'{rest}' ஒரு எண் அல்ல  ('{rest}' is not an integer)"))
        if marker == "$":
            length = self._integer(rest, f"'{rest}' ஒரு நீளம் அல்ல  ('{rest}' is not a length)")
            return None if length < 0 else self._bulk(length)
        if marker == "*":
            count = self._integer(rest, f"'{rest}' ஒரு எண்ணிக்கை அல்ல  ('{rest}' is not a count)")
            return None if count < 0 else [self._reply(top_level=False) for _ in range(count)]
        raise _Failure(f"தெரியாத ரெடிஸ் குறி '{marker}'  (unknown RESP marker '{marker}')")
