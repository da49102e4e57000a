"""``etamil --server`` as a subprocess: banner, JSON log lines, byte-exact responses, one request
per connection, the reader's quirks (HOST.md §4.5, §4.8, §4.9, §4.14, §4.15, §7.11)."""

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from etamil_server.web.sync_server import content_length, parse_usize, rfc3339_utc

REPO = Path(__file__).resolve().parents[2]
RULE = "\u2501" * 74
CORS = (
    b"Access-Control-Allow-Origin: *\r\n"
    b"Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
    b"Access-Control-Allow-Headers: Content-Type\r\n"
)
WAIT = 20  # seconds: generous limits for the slow machine case, never asserted as timings

PROGRAM = """
செயல் வாழ்த்து(பெயர்) {
    திரும்பு "வணக்கம் " & பெயர்;
}

அச்சு "prelude";

வழி பெறு, "/vazhthu/:peyar" {
    பதில் 200, வாழ்த்து(param_peyar), {"Content-Type": "text/plain; charset=utf-8"};
}

வழி பதி, "/pathivu" {
    (request_body == "") எனில் { பதில் 400, "empty"; }
    இன்றேல் { பதில் 201, request_body; }
}

வழி பதி, "/length" { பதில் 200, நீளம்(request_body) & " " & headers["content-length"]; }
வழி பெறு, "/fail" { x = இல்லாத_மாறி; }
வழி பெறு, "/exit" { வெளியேறு(7); }
வழி பெறு, "/dup" { பதில் 200, "one"; }
வழி பெறு, "/dup" { பதில் 200, "two"; }

இடைவெளி 1 {
    அச்சு "tick";
}
இடைவெளி 1.5 {
    x = request_method;
}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``etamil --server`` in a subprocess; stdout and stderr lines collected by threads."""

    def __init__(self, tmp_path, source, port=None, env=None):
        program = tmp_path / "prog.qmz"
        program.write_text(source, encoding="utf-8")
        self.port = port or free_port()
        environment = dict(os.environ, PYTHONPATH=str(REPO), ETAMIL_WORKERS="3", **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "etamil_server", "--server", "--port", str(self.port), str(program)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
        self.out: queue.Queue = queue.Queue()
        self.err: queue.Queue = queue.Queue()
        self.out_lines: list[str] = []
        self.err_lines: list[str] = []
        for stream, sink in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream, sink):
        for raw in stream:
            sink.put(raw.decode("utf-8").rstrip("\n"))
        sink.put(None)

    def _next(self, which):
        sink, seen = (self.out, self.out_lines) if which == "out" else (self.err, self.err_lines)
        line = sink.get(timeout=WAIT)
        if line is not None:
            seen.append(line)
        return line

    def wait_for(self, predicate, which="out"):
        """Read lines until one satisfies ``predicate``; returns it."""
        while True:
            line = self._next(which)
            if line is None:
                raise AssertionError(f"stream ended; saw {self.out_lines} / {self.err_lines}")
            if predicate(line):
                return line

    def finish(self):
        """Wait for the process to end by itself; returns (status, rest of stdout, stderr)."""
        status = self.process.wait(timeout=WAIT)
        while self._next("out") is not None:
            pass
        while self._next("err") is not None:
            pass
        return status

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT)

    def exchange(self, raw, half_close=False):
        """Send ``raw`` on a fresh connection; all bytes until the server closes it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=WAIT) as conn:
            conn.sendall(raw)
            if half_close:
                conn.shutdown(socket.SHUT_WR)
            received = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return received
                received += chunk


@pytest.fixture
def server(tmp_path):
    started = Server(tmp_path, PROGRAM)
    started.wait_for(lambda line: line.startswith("⏱️  Scheduled job #2"))
    yield started
    started.stop()


def strip_json(lines):
    """Replace JSON log lines by ``LOG <level> <message>`` (timestamps vary)."""
    result = []
    for line in lines:
        if line.startswith('{"timestamp":'):
            entry = json.loads(line)
            result.append(f"LOG {entry['level']} {entry['message']}")
        else:
            result.append(line)
    return result


def test_banner(server):
    assert strip_json(server.out_lines) == [
        "✓ Parsing complete (11 statements)",
        "",
        "=== eTamil HTTP Server (Minimum Viable Backend) ===",
        "",
        "LOG INFO Route registered: GET /vazhthu/:peyar",
        "LOG INFO Route registered: POST /pathivu",
        "LOG INFO Route registered: POST /length",
        "LOG INFO Route registered: GET /fail",
        "LOG INFO Route registered: GET /exit",
        "LOG INFO Route registered: GET /dup",
        "LOG INFO Route registered: GET /dup",
        "LOG INFO Route registered: GET /health",
        RULE,
        "🚀 eTamil HTTP Server Started (Backend milestone 3 - Production Logging & Error Handling)",
        RULE,
        f"📍 Listening on: http://127.0.0.1:{server.port}",
        "📋 Registered Routes:",
        "   GET /vazhthu/:peyar",
        "   POST /pathivu",
        "   POST /length",
        "   GET /fail",
        "   GET /exit",
        "   GET /dup",
        "   GET /dup",
        "   GET /health",
        "📊 Metrics & Logging: Enabled",
        RULE,
        "",
        "LOG INFO eTamil HTTP Server started successfully",
        "🧵 Worker threads: 3",
        "",
        "⏱️  Scheduled job #1 every 1s",
        "⏱️  Scheduled job #2 every 1s",
    ]
    first_log = json.loads(server.out_lines[4])
    assert list(first_log) == ["timestamp", "level", "message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?\+00:00", first_log["timestamp"])


def test_worked_example_bytes(server):
    assert server.exchange(b"GET /vazhthu/ravi HTTP/1.1\r\nHost: x\r\n\r\n") == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 26\r\n"
        + CORS
        + "\r\nவணக்கம் ravi".encode()
    )
    assert server.exchange(b"GET /dup HTTP/1.1\r\n\r\n").endswith(b"\r\n\r\ntwo")
    assert server.exchange(b"POST /pathivu HTTP/1.1\r\n\r\n") == (
        b"HTTP/1.1 400 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n" + CORS + b"\r\nempty"
    )
    assert server.exchange(b"POST /pathivu HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello-body") == (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 10\r\n" + CORS + b"\r\nhello-body"
    )
    assert server.exchange(b"DELETE /pathivu HTTP/1.1\r\n\r\n") == (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n"
        + CORS
        + b'\r\n{"error": "Not Found"}'
    )


def test_each_request_logged_and_prelude_printed(server):
    server.exchange(b"GET /vazhthu/a HTTP/1.1\r\n\r\n")
    log = server.wait_for(lambda line: "Incoming request" in line)
    server.wait_for(lambda line: line == "prelude")
    entry = json.loads(log)
    assert list(entry) == ["timestamp", "level", "message", "context"]
    assert re.fullmatch(r"req-[0-9a-f]+", entry["context"]["request_id"])


def test_health_prints_200(server):
    response = server.exchange(b"GET /health HTTP/1.1\r\n\r\n")
    assert response.endswith(b"Content-Length: 29\r\n" + CORS + b"\r\nHandler executed successfully")
    server.wait_for(lambda line: line == "200")


def test_bad_request_line(server):
    response = server.exchange(b"NONSENSE\r\n\r\n")
    assert response == (
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 33\r\n"
        + CORS
        + b'\r\n{"error": "Invalid request line"}'
    )
    log = json.loads(server.wait_for(lambda line: "Failed to parse" in line))
    assert log["level"] == "ERROR"
    assert log["error"] == {"code": "HTTP_PARSE_ERROR", "message": "Invalid request line"}
    assert list(log) == ["timestamp", "level", "message", "error"]


def test_handler_error(server):
    response = server.exchange(b"GET /fail HTTP/1.1\r\n\r\n")
    message = "அறிவிக்கப்படாத மாறி 'இல்லாத_மாறி'  (undefined variable 'இல்லாத_மாறி')"
    body = ('{"error": "Handler error: ' + message + '"}').encode()
    assert response == (
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + CORS
        + b"\r\n"
        + body
    )
    server.wait_for(lambda line: line == "❌ Handler execution error: " + message, which="err")


def test_one_request_per_connection_and_pipelined_bytes_join_the_body(server):
    response = server.exchange(b"POST /pathivu HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /health HTTP/1.1\r\n\r\n")
    assert response.count(b"HTTP/1.1 ") == 1
    assert response.startswith(b"HTTP/1.1 201 Created\r\n")
    assert response.split(b"\r\n\r\n", 1)[1].startswith(b"abc")


def test_bare_lf_request_is_never_answered(server):
    assert server.exchange(b"GET /health HTTP/1.1\n\n", half_close=True) == b""


def test_client_closing_early_gets_nothing(server):
    assert server.exchange(b"GET /health HTTP/1.1\r\nHost", half_close=True) == b""


def test_body_past_one_mib_is_truncated(server):
    """Upstream defect reproduced on purpose: the handler runs on the first MiB."""
    head = b"POST /length HTTP/1.1\r\nContent-Length: 2097152\r\n\r\n"
    body = b"a" * (1024 * 1024 - len(head))  # exactly 1 MiB in all: the reader stops there
    response = server.exchange(head + body)
    assert response.split(b"\r\n\r\n", 1)[1] == f"{len(body)} 2097152".encode()


def test_timers_tick_and_report_failures(server):
    server.wait_for(lambda line: line == "tick")
    server.wait_for(
        lambda line: line
        == "❌ இடைவெளி #2 every 1s failed: அறிவிக்கப்படாத மாறி 'request_method'  (undefined variable 'request_method')",
        which="err",
    )


def test_exit_in_handler_ends_the_process(server):
    assert server.exchange(b"GET /exit HTTP/1.1\r\n\r\n") == b""
    assert server.finish() == 7


def test_old_model_banner_and_answers(tmp_path):
    old = Server(tmp_path, 'response_body = "whole " & request_method;\nஇடைவெளி 1 { அச்சு "never"; }\n')
    try:
        old.wait_for(lambda line: line.startswith("🧵 Worker threads"))
        assert strip_json(old.out_lines)[2:10] == [
            "=== eTamil HTTP Server (Minimum Viable Backend) ===",
            "",
            "ℹ️  No வழி routes found; serving the whole program on /",
            "LOG INFO Route registered: GET /",
            "LOG INFO Route registered: POST /",
            "LOG INFO Route registered: PUT /",
            "LOG INFO Route registered: DELETE /",
            "LOG INFO Route registered: GET /health",
        ]
        assert old.exchange(b"PUT / HTTP/1.1\r\n\r\n").endswith(b"\r\n\r\nwhole PUT")
        assert old.exchange(b"PATCH / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 Not Found\r\n")
    finally:
        old.stop()


def test_bind_failure(tmp_path, server):
    second = Server(tmp_path, 'வழி பெறு, "/" { }', port=server.port)
    assert second.finish() == 1
    assert second.err_lines == ["❌ Server error: Address already in use (os error 98)"]
    assert not any(line.startswith(RULE) for line in second.out_lines)


def test_startup_error_after_earlier_routes_logged(tmp_path):
    bad = Server(tmp_path, 'வழி பெறு, "/ok" { }\nப = "/x";\nவழி பெறு, ப { }\n')
    assert bad.finish() == 1
    assert bad.err_lines[0].startswith("✗ வழி needs a literal path, got ")
    assert strip_json(bad.out_lines)[-1] == "LOG INFO Route registered: GET /ok"


# ------------------------------------------------------------------------------ helpers in-process


def test_content_length_rules():
    assert content_length(b"POST / HTTP/1.1\r\ncontent-length: x\r\n Content-Length : +12 ") == 12
    assert content_length(b"POST / HTTP/1.1\r\nHost: a") == 0
    assert parse_usize("080") == 80
    assert parse_usize("-1") is None
    assert parse_usize("8_0") is None


def test_timestamp_format():
    assert rfc3339_utc(0) == "1970-01-01T00:00:00+00:00"
    assert rfc3339_utc(1_500_000_000) == "1970-01-01T00:00:01.500+00:00"
    assert rfc3339_utc(1_000_001_000) == "1970-01-01T00:00:01.000001+00:00"
    assert rfc3339_utc(1_000_000_001) == "1970-01-01T00:00:01.000000001+00:00"
