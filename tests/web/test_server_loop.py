"""The per-process server loop on a real loopback socket (the loop runs on a thread): eTamil routes
end to end, inline and threaded handlers, the handler deadline, the concurrency cap, readiness,
header injection, keep-alive, and the staged drain."""

from __future__ import annotations

import http.server
import json
import socket
import sys
import threading
import time
import uuid
from dataclasses import replace

import pytest

from etamil_server.config import (
    DrainSettings,
    ExecutionSettings,
    HttpSettings,
    LogSettings,
    MetricsSettings,
    Settings,
)
from etamil_server.web.loading import load_app
from etamil_server.web.serve import bind_sockets, new_loop
from etamil_server.web.server import Server

WAIT = 20  # generous socket timeouts for a slow machine; never asserted as timings

PROGRAM = """
செயல் இரட்டி(x) { திரும்பு x * 2; }

வழி பெறு, "/" { பதில் 200, "Hello, World!", {"Content-Type": "text/plain"}; }
வழி பெறு, "/items/:id" { பதில் 200, "item " & param_id & " twice " & இரட்டி(21) & " q=" & query_params["q"]; }
வழி பதி, "/echo" { பதில் 201, request_body, {"X-Seen": headers["x-token"]}; }
வழி பெறு, "/spin" { x = 0; (1 == 1) சுற்று { x = x + 1; } }
வழி பெறு, "/inject" { பதில் 200, "x", {"X-Bad": "a\\r\\nSet-Cookie: evil=1"}; }
வழி பெறு, "/error" { x = இல்லாத_மாறி; }
வழி பெறு, "/slow" { r = வலை_பெறு(சூழல்("SLOW_URL", ""), {}); பதில் 200, "slow done"; }
"""


class SlowUpstream:
    """A local HTTP endpoint that answers only when released: a handler calling it blocks."""

    def __init__(self):
        self.release = threading.Event()
        self.arrived = threading.Semaphore(0)
        release, arrived = self.release, self.arrived

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                arrived.release()
                release.wait(WAIT)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Running:
    """A Server on its own thread and loop, on a free loopback port."""

    def __init__(self, tmp_path, source=PROGRAM, settings: Settings | None = None, owns_listeners: bool = False):
        path = tmp_path / "app.qmz"
        path.write_text(source, encoding="utf-8")
        loaded = load_app(str(path))
        sockets = bind_sockets("127.0.0.1", 0)
        self.sockets = sockets
        self.port = sockets[0].getsockname()[1]
        self.loop = new_loop()
        self.server = Server(
            loaded.app,
            settings or Settings(),
            loop=self.loop,
            server_id=f"test-{uuid.uuid4().hex}",
            owns_listeners=owns_listeners,
        )
        self.status = None
        started = threading.Event()

        def run():
            self.loop.call_soon(started.set)
            self.status = self.loop.run_until_complete(self.server.run(sockets))

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(WAIT)

    def call(self, function):
        self.loop.call_soon_threadsafe(function)

    def stop(self):
        if self.thread.is_alive():
            self.call(self.server.stop_now)
            self.thread.join(WAIT)
        if not self.loop.is_closed():
            self.loop.close()


@pytest.fixture
def slow(monkeypatch):
    upstream = SlowUpstream()
    monkeypatch.setenv("SLOW_URL", upstream.url)
    yield upstream
    upstream.close()


@pytest.fixture
def running(tmp_path, slow):
    server = Running(tmp_path)
    yield server
    server.stop()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    return sock


def read_response(sock: socket.socket, buffer: bytearray | None = None, head_only: bool = False):
    """(status line, headers dict lower-cased, body, raw) of the next response on ``sock``."""
    buffer = buffer if buffer is not None else bytearray()
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response; got {bytes(buffer)!r}")
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    length = 0 if head_only else int(headers.get("content-length", "0"))
    total = len(head) + 4 + length
    while len(buffer) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a body")
        buffer += chunk
    raw = bytes(buffer[:total])
    del buffer[:total]
    return lines[0], headers, raw[len(head) + 4 :], raw


def exchange(port: int, raw: bytes):
    with connect(port) as sock:
        sock.sendall(raw)
        return read_response(sock)


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------------------ routes


def test_hello_world_byte_for_byte_apart_from_the_date(running):
    status, headers, body, raw = exchange(running.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: t-1\r\n\r\n")
    date = headers["date"]
    assert raw == (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Length: 13\r\n"
        b"Access-Control-Allow-Origin: *\r\n"
        b"Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
        b"Access-Control-Allow-Headers: Content-Type\r\n"
        b"Date: " + date.encode() + b"\r\n"
        b"Server: etamil-server\r\n"
        b"X-Request-Id: t-1\r\n"
        b"\r\n"
        b"Hello, World!"
    )
    assert date.endswith(" GMT")


def test_path_and_query_parameters_reach_the_handler(running):
    status, _, body, _ = exchange(running.port, b"GET /items/21?q=a%20b HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == "HTTP/1.1 200 OK"
    assert body == b"item 21 twice 42 q=a b"


def test_body_and_headers_reach_the_handler(running):
    status, headers, body, _ = exchange(
        running.port, b"POST /echo HTTP/1.1\r\nHost: t\r\nX-Token: t1\r\nContent-Length: 11\r\n\r\nhello world"
    )
    assert status == "HTTP/1.1 201 Created"
    assert body == b"hello world"
    assert headers["x-seen"] == "t1"


def test_a_chunked_body_reaches_the_handler_decoded(running):
    _, _, body, _ = exchange(
        running.port,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nX-Token: c\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    assert body == b"abcde"


def test_a_runtime_error_is_a_500_with_a_json_body(running):
    status, headers, body, _ = exchange(running.port, b"GET /error HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == "HTTP/1.1 500 Internal Server Error"
    assert body.startswith(b'{"error": "Handler error: ')
    assert headers["content-type"] == "application/json"


def test_unknown_path_404_and_wrong_method_405_with_allow(running):
    status, _, body, _ = exchange(running.port, b"GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, body) == ("HTTP/1.1 404 Not Found", b'{"error": "Not Found"}')
    status, headers, _, _ = exchange(running.port, b"DELETE /echo HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "POST, OPTIONS"


def test_head_is_served_by_the_get_route_without_a_body(running):
    with connect(running.port) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        buffer = bytearray()
        status, headers, body, _ = read_response(sock, buffer, head_only=True)
        assert status == "HTTP/1.1 200 OK"
        assert headers["content-length"] == "13"
        status, _, body, _ = read_response(sock, buffer)
        assert body == b"Hello, World!"  # the next response starts right after the HEAD's head


def test_cors_preflight_is_answered_204(running):
    status, headers, body, _ = exchange(
        running.port, b"OPTIONS /echo HTTP/1.1\r\nHost: t\r\nOrigin: http://a\r\nAccess-Control-Request-Method: POST\r\n\r\n"
    )
    assert status == "HTTP/1.1 204 No Content"
    assert body == b""
    assert "POST" in headers["allow"]


def test_health_and_ready(running):
    status, _, body, _ = exchange(running.port, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, body) == ("HTTP/1.1 200 OK", b'{"status": "healthy"}')
    status, _, body, _ = exchange(running.port, b"GET /ready HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, body) == ("HTTP/1.1 200 OK", b'{"status": "ready"}')


def test_a_header_value_with_crlf_is_refused_with_500_and_never_written(server_log, running, capfd):
    status, headers, body, raw = exchange(running.port, b"GET /inject HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == "HTTP/1.1 500 Internal Server Error"
    assert b"evil" not in raw
    assert "set-cookie" not in headers
    assert b'"error"' in body
    assert "X-Bad" in capfd.readouterr().err


def test_keep_alive_serves_several_requests_on_one_connection(running):
    with connect(running.port) as sock:
        buffer = bytearray()
        for n in range(3):
            sock.sendall(f"GET /items/{n}?q=k HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            _, headers, body, _ = read_response(sock, buffer)
            assert body.startswith(f"item {n} ".encode())
            assert "connection" not in headers


def test_pipelined_requests_come_back_in_order(running):
    with connect(running.port) as sock:
        sock.sendall(b"".join(f"GET /items/{n}?q=p HTTP/1.1\r\nHost: t\r\n\r\n".encode() for n in range(5)))
        buffer = bytearray()
        bodies = [read_response(sock, buffer)[2] for _ in range(5)]
    assert [b.split(b" ")[1] for b in bodies] == [b"0", b"1", b"2", b"3", b"4"]


def test_an_oversized_body_gets_413_before_the_body_is_sent(running):
    with connect(running.port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n")
        status, _, body, _ = read_response(sock)
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert body.startswith(b'{"error": ')


# ------------------------------------------------------------------------------ execution


def test_a_blocking_handler_runs_on_a_thread_while_the_loop_keeps_serving(running, slow):
    with connect(running.port) as blocked:
        blocked.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        assert slow.arrived.acquire(timeout=WAIT)  # the handler is now waiting on its upstream
        status, _, body, _ = exchange(running.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert body == b"Hello, World!"
        slow.release.set()
        status, _, body, _ = read_response(blocked)
    assert body == b"slow done"


def test_the_handler_deadline_answers_503_and_the_server_lives(tmp_path, slow):
    settings = replace(Settings(), execution=ExecutionSettings(handler_deadline=0.3))
    server = Running(tmp_path, settings=settings)
    try:
        status, headers, body, _ = exchange(server.port, b"GET /spin HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status == "HTTP/1.1 503 Service Unavailable"
        assert body.startswith(b'{"error": "')
        assert b"deadline" in body
        assert exchange(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")[2] == b"Hello, World!"
    finally:
        server.stop()


def test_a_thread_stuck_past_the_deadline_is_answered_by_the_loop(tmp_path, slow):
    settings = replace(Settings(), execution=ExecutionSettings(handler_deadline=0.2))
    server = Running(tmp_path, settings=settings)
    try:
        status, _, body, _ = exchange(server.port, b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status == "HTTP/1.1 503 Service Unavailable"
        assert b"deadline" in body
    finally:
        slow.release.set()
        server.stop()


def test_beyond_the_concurrency_cap_503_with_connection_close(tmp_path, slow):
    settings = replace(Settings(), execution=ExecutionSettings(max_concurrency=1, handler_deadline=0))
    server = Running(tmp_path, settings=settings)
    try:
        with connect(server.port) as first:
            first.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            assert slow.arrived.acquire(timeout=WAIT)
            with connect(server.port) as second:
                second.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
                status, headers, body, _ = read_response(second)
                assert status == "HTTP/1.1 503 Service Unavailable"
                assert headers["connection"] == "close"
                assert body.startswith(b'{"error": ')
                assert closed_by_peer(second)
            slow.release.set()
            assert read_response(first)[2] == b"slow done"
    finally:
        server.stop()


# ------------------------------------------------------------------------------ timeouts and drain


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(tmp_path, slow):
    settings = replace(Settings(), http=HttpSettings(keepalive_timeout=0.5))
    server = Running(tmp_path, settings=settings)
    try:
        with connect(server.port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            read_response(sock)
            assert closed_by_peer(sock)  # within the sweep's second or two
    finally:
        server.stop()


def drain_settings(**drain) -> Settings:
    return replace(Settings(), drain=DrainSettings(**drain), execution=ExecutionSettings(handler_deadline=0))


def test_drain_stops_accepting_and_readiness_turns_503(tmp_path, slow):
    server = Running(tmp_path, settings=drain_settings(idle_grace=5, graceful_timeout=30))
    try:
        with connect(server.port) as held:
            held.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")  # keeps the drain from finishing
            assert slow.arrived.acquire(timeout=WAIT)
            with connect(server.port) as idle:
                idle.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                read_response(idle)
                server.call(server.server.begin_drain)
                time.sleep(0.2)
                with pytest.raises(OSError):
                    connect(server.port).close()
                # the idle keep-alive connection is still in its grace period
                idle.sendall(b"GET /ready HTTP/1.1\r\nHost: t\r\n\r\n")
                status, headers, body, _ = read_response(idle)
                assert status == "HTTP/1.1 503 Service Unavailable"
                assert body == b'{"status": "draining"}'
                assert headers["connection"] == "close"
                assert closed_by_peer(idle)
            slow.release.set()
            status, headers, body, _ = read_response(held)
            assert body == b"slow done"
            assert headers["connection"] == "close"
        server.thread.join(WAIT)
        assert server.status == 0
    finally:
        server.stop()


@pytest.mark.parametrize("balance_accept", [True, False])
def test_drain_serves_the_connections_waiting_in_the_listen_queue(tmp_path, slow, balance_accept):
    settings = replace(drain_settings(idle_grace=1, graceful_timeout=30), http=HttpSettings(balance_accept=balance_accept))
    server = Running(tmp_path, settings=settings)
    try:
        exchange(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")  # serving
        holding, held = threading.Event(), threading.Event()

        def hold_then_drain():
            holding.set()
            held.wait(WAIT)  # the loop is busy: new connections stay in the kernel's queue
            server.server.begin_drain()

        server.call(hold_then_drain)
        assert holding.wait(WAIT)
        waiting = [connect(server.port) for _ in range(5)]
        for sock in waiting:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        held.set()
        for sock in waiting:  # closing the last descriptor would have reset them all
            status, headers, body, _ = read_response(sock)
            assert (status, body, headers["connection"]) == ("HTTP/1.1 200 OK", b"Hello, World!", "close")
            sock.close()
        server.thread.join(WAIT)
        assert server.status == 0
        with pytest.raises(OSError):
            connect(server.port).close()
    finally:
        server.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fence is a Linux socket filter")
@pytest.mark.parametrize("owns_listeners", [True, False])
def test_a_server_that_owns_its_listeners_fences_them_when_it_drains(tmp_path, owns_listeners):
    """``etamil serve``: no connection can join the queue after the drain's last accept. The test
    keeps a descriptor of its own, so the socket outlives the server's close and can be probed."""
    server = Running(tmp_path, settings=drain_settings(idle_grace=0.2, graceful_timeout=30), owns_listeners=owns_listeners)
    probe = server.sockets[0].dup()
    try:
        exchange(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")  # serving
        server.call(server.server.begin_drain)
        server.thread.join(WAIT)
        assert server.status == 0
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=0.3).close()
            joined = True
        except TimeoutError:
            joined = False  # its SYN was dropped
        assert joined is not owns_listeners
    finally:
        probe.close()
        server.stop()


def test_drain_closes_an_idle_connection_after_the_grace_period(tmp_path, slow):
    server = Running(tmp_path, settings=drain_settings(idle_grace=0.2, graceful_timeout=30))
    try:
        with connect(server.port) as idle:
            idle.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            read_response(idle)
            server.call(server.server.begin_drain)
            assert closed_by_peer(idle)
        server.thread.join(WAIT)
        assert not server.thread.is_alive()
        assert server.status == 0
    finally:
        server.stop()


def test_drain_deadline_closes_what_is_left(tmp_path, slow):
    server = Running(tmp_path, settings=drain_settings(idle_grace=0.1, graceful_timeout=1.0, margin=0.5))
    try:
        with connect(server.port) as held:
            held.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            assert slow.arrived.acquire(timeout=WAIT)
            server.call(server.server.begin_drain)
            assert closed_by_peer(held)  # at the deadline, not when the handler ends
        server.thread.join(WAIT)
        assert server.status == 0
    finally:
        slow.release.set()
        server.stop()


# ------------------------------------------------------------------------------ observability


def test_the_access_log_has_a_line_per_request(tmp_path, slow):
    log = tmp_path / "access.jsonl"
    settings = replace(Settings(), log=LogSettings(access_log=str(log), format="json"))
    server = Running(tmp_path, settings=settings)
    try:
        exchange(server.port, b"GET /items/5?q=z HTTP/1.1\r\nHost: t\r\n\r\n")
        exchange(server.port, b"GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n")
    finally:
        server.stop()
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(r["method"], r["target"], r["status"]) for r in lines] == [
        ("GET", "/items/5?q=z", 200),
        ("GET", "/nowhere", 404),
    ]
    assert lines[0]["remote"] == "127.0.0.1"
    assert lines[0]["bytes"] > 0 and lines[0]["seconds"] >= 0


def test_metrics_count_the_requests(tmp_path, slow, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    settings = replace(Settings(), metrics=MetricsSettings(enabled=True))
    server = Running(tmp_path, settings=settings)
    try:
        for _ in range(3):
            exchange(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body, _ = exchange(server.port, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    finally:
        server.stop()
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"].startswith("text/plain")
    text = body.decode()
    assert 'etamil_http_requests_total{code="200",method="GET",route="/"} 3.0' in text
    assert "etamil_http_request_duration_seconds_bucket" in text


def test_a_failing_rebalance_does_not_stop_the_sweep(tmp_path):
    class BrokenShare:
        def beat(self):
            raise RuntimeError("table gone")

        def publish(self, connections):
            pass

        def release(self):
            pass

    path = tmp_path / "app.qmz"
    path.write_text(PROGRAM, encoding="utf-8")
    loop = new_loop()
    try:
        server = Server(load_app(str(path)).app, Settings(), loop=loop, share=BrokenShare())
        server._sweep()
        assert server._sweep_handle is not None and not server._sweep_handle.cancelled()  # rescheduled
    finally:
        server.stop_now()
        loop.close()
