"""The asyncio load client tells each way a request can end apart, against small servers made
here on loopback (each behaves one way)."""

from __future__ import annotations

import asyncio
import socket
import time

from bench.loadtest_client import keepalive_client, one_request, request_bytes
from bench.loadtest_spike import analyse, drive, schedule

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def serve(behaviour: str):
    """A server answering per ``behaviour``: ok (keep-alive), 404, silent (closes unanswered),
    once (answers the first request on a connection, closes on the second), never (no answer)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if behaviour == "silent" or (behaviour == "once" and served == 1):
                    break
                if behaviour == "never":
                    await asyncio.sleep(5)
                    break
                writer.write(OK if behaviour in ("ok", "once") else
                             b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outcome_of(behaviour: str, timeout: float = 2.0):
    async def main():
        server, port = await serve(behaviour)
        async with server:
            return await one_request("127.0.0.1", port, request_bytes("GET", "/", "127.0.0.1", port, close=True),
                                     timeout)

    return asyncio.run(main())


def test_a_complete_2xx_answer_is_ok():
    assert outcome_of("ok") == ("ok", 200)


def test_another_status_is_an_answer_but_not_ok():
    assert outcome_of("404") == ("status", 404)


def test_a_connection_closed_without_an_answer_is_unaccepted_on_a_new_connection():
    assert outcome_of("silent") == ("unaccepted", None)


def test_no_answer_within_the_timeout_is_a_timeout():
    assert outcome_of("never", timeout=0.3) == ("timeout", None)


def test_a_refused_connect_is_told_apart_from_a_missing_answer():
    port = closed_port()
    outcome = asyncio.run(one_request("127.0.0.1", port, b"GET / HTTP/1.1\r\n\r\n", 2.0))
    assert outcome == ("refused", None)


def test_keepalive_client_calls_a_missing_answer_on_an_answered_connection_dropped():
    async def main():
        server, port = await serve("once")
        seen: list[str] = []
        stop_at = time.monotonic() + 0.3
        async with server:
            await keepalive_client("127.0.0.1", port, request_bytes("GET", "/", "127.0.0.1", port, close=False),
                                   lambda: time.monotonic() < stop_at, 2.0,
                                   lambda outcome, sent, finished: seen.append(outcome))
        return seen

    seen = asyncio.run(main())
    assert seen[:2] == ["ok", "dropped"]
    assert "unaccepted" not in seen  # the first request on each new connection was answered


def test_drive_sends_the_plan_open_loop_and_records_every_request():
    async def main():
        server, port = await serve("ok")
        async with server:
            return await drive("127.0.0.1", port, schedule(2, 1, spike_requests=50, window=0.2), timeout=2.0)

    records = asyncio.run(main())
    assert len(records) == 2 + 50 + 1
    assert all(r["outcome"] == "ok" and r["latency_ms"] is not None for r in records)
    spike = [r for r in records if r["phase"] == "spike"]
    assert max(r["sent"] for r in spike) - min(r["sent"] for r in spike) < 1.0  # the burst stayed a burst
    summary = analyse(records, spike_requests=50)
    assert summary["spike"]["all_ok"] and summary["recovery_seconds"] is not None
