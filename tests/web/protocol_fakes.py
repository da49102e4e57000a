"""Fakes for feeding :class:`HttpProtocol` raw bytes without a socket: a transport that records
what is written, a responder that echoes, and a harness holding both on a private event loop."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from etamil_server.config import HttpSettings
from etamil_server.web.protocol import HttpProtocol
from etamil_server.web.request import Request
from etamil_server.web.response import Response


class FakeTransport:
    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: HttpProtocol):
        self.loop = loop
        self.protocol = protocol
        self.written = bytearray()
        self.closed = False
        self.eof_written = False
        self.reading = True
        self.buffered = 0  # what get_write_buffer_size reports: a peer that reads nothing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.written += data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.call_soon(self.protocol.connection_lost, None)

    abort = close

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default=None):
        return default


class FakeResponder:
    """Answers ``METHOD target body`` as text; paths under /slow answer through a future the test
    resolves (a handler on a thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.handled: list[Request] = []
        self.pending: list[tuple[asyncio.Future, Request]] = []
        self.keep_alive_seen: list[bool] = []

    def handle(self, request: Request):
        self.handled.append(request)
        body = f"{request.method} {request.target} {request.body.decode()}".encode()
        response = Response(200, [], body)
        if request.path.startswith("/slow"):
            future = self.loop.create_future()
            self.pending.append((future, request))
            return future
        return response

    def finish(self, index: int = 0) -> None:
        future, request = self.pending.pop(index)
        future.set_result(Response(200, [], f"done {request.target}".encode()))

    def render(self, request: Request, response: Response, keep_alive: bool, peer=None):
        self.keep_alive_seen.append(keep_alive)
        head = f"HTTP/1.1 {response.status} X\r\nContent-Length: {len(response.body)}\r\n"
        if not keep_alive:
            head += "Connection: close\r\n"
        return head.encode() + b"\r\n" + response.body, keep_alive

    def refusal(self, status: int, message: str) -> bytes:
        body = f'{{"error": "{message}"}}'.encode()
        return f"HTTP/1.1 {status} R\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body

    def internal_error(self):
        return Response(500, [], b"internal")


class Harness:
    def __init__(self, **limits):
        self.loop = asyncio.new_event_loop()
        self.responder = FakeResponder(self.loop)
        self.hub = SimpleNamespace(
            loop=self.loop,
            responder=self.responder,
            draining=False,
            drain_grace=0.05,
            clock=0.0,
            wants_peer=False,
            connection_opened=lambda conn: None,
            connection_closed=lambda conn: None,
        )
        self.protocol = HttpProtocol(self.hub, HttpSettings(**limits))
        self.transport = FakeTransport(self.loop, self.protocol)
        self.protocol.connection_made(self.transport)

    def feed(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.protocol.data_received(chunk)
        self.settle()

    def settle(self, seconds: float = 0.0) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))

    @property
    def ended(self) -> bool:
        """The server is done with the connection: closed, or half-closed (lingering: reading and
        dropping what the client still sends until it closes too)."""
        return self.transport.closed or self.transport.eof_written

    @property
    def out(self) -> bytes:
        return bytes(self.transport.written)

    def close(self) -> None:
        self.loop.close()


def response_bodies(raw: bytes) -> list[bytes]:
    """Split concatenated responses of the fake renderer into their bodies."""
    bodies = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b": ")
            if name.lower() == b"content-length":
                length = int(value)
        bodies.append(rest[:length])
        raw = rest[length:]
    return bodies


GET = b"GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
