"""A small asyncio HTTP/1.1 load client for what wrk cannot tell apart: wrk counts a refused
connect as a write error and cannot say whether an unanswered request was ever accepted. Here
every request ends in exactly one outcome:

    ok          a complete answer with a 2xx status
    status      a complete answer with another status
    refused     the connection was refused (nothing listening any more)
    connect     another connect failure, or no connection within the timeout
    unaccepted  the first request on a new connection got no complete answer: the connection may
                never have left the kernel's listen queue (the server never accepted it)
    dropped     a request on a connection the server had already answered on (so it had accepted
                it) got no complete answer: the connection closed or reset first
    timeout     sent, and no complete answer within the timeout

Loopback only by construction: the callers pass the host of a server this tool measures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

OUTCOMES = ("ok", "status", "refused", "connect", "unaccepted", "dropped", "timeout")


class NoAnswer(Exception):
    """The connection ended before a complete answer."""


@dataclass
class Answer:
    status: int
    closes: bool  # the server said Connection: close (or answered HTTP/1.0)
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased, values as sent
    body: bytes = b""


def request_bytes(method: str, path: str, host: str, port: int, *, close: bool) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{connection}\r\n".encode("ascii")


async def read_answer(reader: asyncio.StreamReader, deadline: float) -> Answer:
    """One complete response (head and Content-Length body) from ``reader``, by ``deadline``;
    raises TimeoutError or NoAnswer."""
    def left() -> float:
        return max(0.001, deadline - time.monotonic())

    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), left())
        lines = head.decode("latin-1").split("\r\n")
        version, status_text = lines[0].split(" ", 2)[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), left())
        else:
            body = await asyncio.wait_for(reader.read(), left())  # the body runs until the close
            headers["connection"] = "close"
        closes = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
        return Answer(int(status_text), closes, headers, body)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as error:
        raise NoAnswer(str(error)) from None


async def connect(host: str, port: int, timeout: float):
    """(reader, writer) or the outcome that ended the attempt."""
    try:
        return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except ConnectionRefusedError:
        return "refused"
    except (TimeoutError, OSError):
        return "connect"


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass


async def one_request(host: str, port: int, raw: bytes, timeout: float) -> tuple[str, int | None]:
    """``raw`` on a connection of its own: (outcome, status)."""
    deadline = time.monotonic() + timeout
    connected = await connect(host, port, timeout)
    if isinstance(connected, str):
        return connected, None
    reader, writer = connected
    try:
        writer.write(raw)
        await writer.drain()
        answer = await read_answer(reader, deadline)
        return ("ok" if 200 <= answer.status < 300 else "status"), answer.status
    except TimeoutError:
        return "timeout", None
    except (NoAnswer, OSError):
        return "unaccepted", None
    finally:
        await close_quietly(writer)


async def keepalive_client(host: str, port: int, raw: bytes, running, timeout: float,
                           record, pause_after_refusal: float = 0.05) -> None:
    """A closed-loop client while ``running()`` is true: one connection, the next request as soon
    as the last answer is in, a new connection when the server closes it.
    ``record(outcome, sent, finished)`` gets every request's end (time.monotonic() values)."""
    while running():
        began = time.monotonic()
        connected = await connect(host, port, timeout)
        if isinstance(connected, str):
            record(connected, began, time.monotonic())
            await asyncio.sleep(pause_after_refusal)  # a refused port answers at once: do not spin
            continue
        reader, writer = connected
        answered = 0
        try:
            while running():
                sent = time.monotonic()
                try:
                    writer.write(raw)
                    await writer.drain()
                    answer = await read_answer(reader, sent + timeout)
                except TimeoutError:
                    record("timeout", sent, time.monotonic())
                    break
                except (NoAnswer, OSError):
                    record("dropped" if answered else "unaccepted", sent, time.monotonic())
                    break
                answered += 1
                record("ok" if 200 <= answer.status < 300 else "status", sent, time.monotonic())
                if answer.closes:
                    break
        finally:
            await close_quietly(writer)


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # a dependency of the server; the client keeps up with more connects per second

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()
