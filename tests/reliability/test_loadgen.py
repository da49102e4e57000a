"""The load generator tells every way an attempt can end apart, against small servers made here
on loopback (each behaves one way), and stops by itself."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from loadgen import ANSWERED, LOSS, REFUSED, LoadGen, Planned, get_request, summarise

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class TinyServer:
    """An asyncio server on its own thread. ``behaviour``: ok (keep-alive), created (201 and the
    request's first line as the body), once (answers the first request on a connection, closes on
    the second without answering), half (sends half a response, then closes), never (reads, never
    answers), close (answers with Connection: close)."""

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                body = await reader.readexactly(int(length[0].split(b":")[1])) if length else b""
                if self.behaviour == "never":
                    await asyncio.sleep(10)
                    break
                if self.behaviour == "half":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
                    await writer.drain()
                    break
                if self.behaviour == "once" and served == 1:
                    break
                if self.behaviour == "created":
                    writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                elif self.behaviour == "close":
                    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
                    break
                else:
                    writer.write(OK)
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        async def shut():
            self.server.close()
            handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shut(), self.loop)
        self.thread.join(5)


@pytest.fixture
def tiny():
    made: list[TinyServer] = []

    def start(behaviour: str) -> TinyServer:
        server = TinyServer(behaviour)
        made.append(server)
        return server

    yield start
    for server in made:
        server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_count_is_sent_and_answered_on_keep_alive_connections(tiny):
    server = tiny("ok")
    summary = LoadGen(server.port, get_request("/"), connections=3, count=300).start().wait()
    assert (summary.requests, summary.answered, summary.ok, summary.losses) == (300, 300, 300, 0)
    assert summary.statuses == {200: 300}
    assert server.connections == 3  # kept alive: one connection per client
    assert summary.p50_ms is not None and summary.p99_ms >= summary.p50_ms


def test_a_duration_stops_it_by_itself():
    began = time.monotonic()
    load = LoadGen(closed_port(), get_request("/"), connections=2, duration=0.5).start()
    summary = load.wait()
    assert time.monotonic() - began < 10
    assert summary.refused == summary.requests > 0
    assert summary.losses == summary.answered == 0


def test_it_needs_a_way_to_stop():
    with pytest.raises(ValueError, match="stops by itself"):
        LoadGen(1, get_request("/"))


def test_a_refused_connect_is_not_a_loss():
    load = LoadGen(closed_port(), get_request("/"), connections=1, count=3).start()
    load.wait()
    assert [attempt.outcome for attempt in load.attempts()] == [REFUSED] * 3
    assert [attempt.connected for attempt in load.attempts()] == [None] * 3


def test_a_request_on_a_connection_closed_without_an_answer_is_a_loss(tiny):
    server = tiny("once")
    load = LoadGen(server.port, get_request("/"), connections=1, count=4).start()
    load.wait()
    outcomes = [(attempt.outcome, attempt.reused) for attempt in load.attempts()]
    # each connection answers one request and drops the next: the client reconnects after a loss
    assert outcomes == [(ANSWERED, 0), (LOSS, 1), (ANSWERED, 0), (LOSS, 1)]
    assert all(attempt.local_port for attempt in load.losses())
    first, second = load.attempts()[:2]  # one connection: made once, before either was sent
    assert first.connected == second.connected <= first.began < second.began


def test_half_a_response_is_a_loss(tiny):
    load = LoadGen(tiny("half").port, get_request("/"), connections=1, count=1).start()
    summary = load.wait()
    assert summary.losses == 1 and summary.answered == 0
    assert "IncompleteReadError" in load.losses()[0].error or "NoAnswer" in load.losses()[0].error


def test_no_answer_within_the_timeout_is_a_loss(tiny):
    load = LoadGen(tiny("never").port, get_request("/"), connections=1, count=1, timeout=0.3).start()
    summary = load.wait()
    assert summary.losses == 1
    assert load.losses()[0].error == "no answer within 0.3 s"


def test_connection_close_opens_a_new_connection_with_nothing_lost(tiny):
    server = tiny("close")
    summary = LoadGen(server.port, get_request("/"), connections=2, count=20).start().wait()
    assert summary.answered == 20 and summary.losses == 0
    assert server.connections == 20


def test_writes_answered_2xx_are_told_apart_from_unsent_ones(tiny):
    server = tiny("created")

    def write(index: int) -> Planned:
        body = f"note-{index}".encode()
        return Planned(b"POST /w HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body), f"note-{index}")

    load = LoadGen(server.port, write, connections=4, count=40).start()
    load.wait()
    assert load.writes_ok() == {f"note-{index}" for index in range(40)}
    assert load.writes_lost() == set() and load.writes_unsent() == set()
    assert {attempt.body for attempt in load.attempts()} == {f"note-{index}".encode() for index in range(40)}
    refused = LoadGen(closed_port(), write, connections=1, count=2).start()
    refused.wait()
    assert refused.writes_unsent() == {"note-0", "note-1"} and refused.writes_ok() == set()


def test_a_schedule_sends_each_request_at_its_moment_on_its_own_connection(tiny):
    server = tiny("ok")
    load = LoadGen(server.port, get_request("/", close=True), schedule=[0.0, 0.3, 0.3, 0.6]).start()
    summary = load.wait()
    assert summary.answered == 4 and server.connections == 4
    began = sorted(attempt.began - load.started for attempt in load.attempts())
    assert began[0] < began[1] and began[1] >= 0.3 and began[3] >= 0.6  # never early


def test_phases_and_added_clients(tiny):
    server = tiny("ok")
    load = LoadGen(server.port, get_request("/"), connections=1, duration=30).start()
    load.mark("one")
    load.wait_for(50)
    load.mark("three")
    load.add_connections(2)
    deadline = time.monotonic() + 10
    while len({a.client for a in load.attempts("three")}) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    summary = load.stop()
    assert {a.client for a in load.attempts("one")} == {0}
    assert {a.client for a in load.attempts("three")} == {0, 1, 2}
    assert summary.losses == 0 and summarise(load.attempts("three")).answered > 0


def test_a_failure_of_the_generator_itself_is_reported_not_lost(tiny):
    def broken(index: int) -> bytes:
        raise KeyError("no such request")

    load = LoadGen(tiny("ok").port, broken, connections=2, count=5).start()
    with pytest.raises(AssertionError, match="the load generator failed: KeyError"):
        load.wait()
