"""``gunicorn -c conf/etamil.py`` as a subprocess serving eTamil programs: responses byte for byte
where the contract fixes them, the whole-program model, timers once per server, PostgreSQL, a
broken program, worker death, process titles."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from e2e_helpers import WAIT, children, exchange, get, process_title

PROGRAM = """
செயல் வணக்கம்(பெயர்) { திரும்பு "வணக்கம் " & பெயர்; }

வழி பெறு, "/" { பதில் 200, "Hello, World!", {"Content-Type": "text/plain"}; }
வழி பெறு, "/users/:id" { பதில் 200, வணக்கம்(param_id) & " tab=" & query_params["tab"], {"Content-Type": "text/plain; charset=utf-8"}; }
வழி பதி, "/orders" { பதில் 201, request_body, {"X-Agent": headers["user-agent"]}; }
வழி பெறு, "/fail" { x = இல்லாத; }
வழி பெறு, "/status" { response_status = 418; response_body = "teapot"; }
"""


def without_date(raw: bytes) -> bytes:
    """The response with its Date and its (generated) request id blanked out."""
    raw = re.sub(rb"Date: [^\r]+\r\n", b"Date: *\r\n", raw)
    return re.sub(rb"X-Request-Id: [A-Za-z0-9._:-]+\r\n", b"X-Request-Id: *\r\n", raw)


CORS = (
    b"Access-Control-Allow-Origin: *\r\n"
    b"Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
    b"Access-Control-Allow-Headers: Content-Type\r\n"
)
TAIL = b"Date: *\r\nServer: etamil-server\r\nX-Request-Id: *\r\n"


def test_responses_byte_for_byte(gunicorn):
    server = gunicorn(PROGRAM).wait_ready()
    raw = get(server.port, "/")[3]
    assert without_date(raw) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n" + CORS + TAIL + b"\r\nHello, World!"
    )
    raw = get(server.port, "/nowhere")[3]
    assert without_date(raw) == (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n"
        + CORS
        + TAIL
        + b'\r\n{"error": "Not Found"}'
    )
    raw = get(server.port, "/status")[3]
    assert without_date(raw) == (
        b"HTTP/1.1 418 I'm a Teapot\r\nContent-Type: application/json\r\nContent-Length: 6\r\n"
        + CORS
        + TAIL
        + b"\r\nteapot"
    )


def test_path_query_body_and_headers(gunicorn):
    server = gunicorn(PROGRAM).wait_ready()
    status, headers, body, _ = get(server.port, "/users/ravi?tab=%E0%AE%85")
    assert status == "HTTP/1.1 200 OK"
    assert body.decode() == "வணக்கம் ravi tab=அ"
    assert headers["content-length"] == str(len(body))
    status, headers, body, _ = exchange(
        server.port,
        b"POST /orders HTTP/1.1\r\nHost: t\r\nUser-Agent: e2e/1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 12\r\n\r\n{\"qty\": 250}",
    )
    assert (status, body, headers["x-agent"]) == ("HTTP/1.1 201 Created", b'{"qty": 250}', "e2e/1")


def test_path_parameters_are_percent_decoded(gunicorn):
    """Our server decodes ``%XX`` in path parameters (UTF-8), as web frameworks do; ``+`` stays."""
    server = gunicorn(PROGRAM).wait_ready()
    tamil = "%E0%AE%95%E0%AE%AE%E0%AE%B2%E0%AE%BE"  # கமலா
    _, _, body, _ = get(server.port, f"/users/{tamil}?tab=x")
    assert body.decode() == "வணக்கம் கமலா tab=x"
    _, _, body, _ = get(server.port, "/users/a%20b+c%2Fd?tab=x")
    assert body.decode() == "வணக்கம் a b+c/d tab=x"


def test_a_runtime_error_is_a_500_with_the_message_and_a_stderr_line(gunicorn):
    server = gunicorn(PROGRAM).wait_ready()
    status, _, body, _ = get(server.port, "/fail")
    message = "அறிவிக்கப்படாத மாறி 'இல்லாத'  (undefined variable 'இல்லாத')"
    assert status == "HTTP/1.1 500 Internal Server Error"
    assert body.decode() == '{"error": "Handler error: ' + message + '"}'
    deadline = time.monotonic() + WAIT
    while "❌ Handler execution error: " + message not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "❌ Handler execution error: " + message in server.stderr


def test_the_whole_program_model(gunicorn):
    server = gunicorn(
        """
(request_method == "POST") எனில் { response_status = 201; response_body = "பதிவானது"; }
இன்றேல் { response_body = "வாருங்கள்"; }
"""
    ).wait_ready()
    status, headers, body, _ = exchange(server.port, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
    assert (status, body.decode(), headers["content-length"]) == ("HTTP/1.1 201 Created", "பதிவானது", "24")
    status, _, body, _ = get(server.port, "/")
    assert (status, body.decode()) == ("HTTP/1.1 200 OK", "வாருங்கள்")
    assert get(server.port, "/x")[0] == "HTTP/1.1 404 Not Found"


def lock_holders(path: str) -> list[int]:
    """The pids holding a flock on ``path`` (from /proc/locks)."""
    inode = os.stat(path).st_ino
    holders = []
    with open("/proc/locks", encoding="ascii") as handle:
        for line in handle:
            fields = line.split()
            if "->" in fields:
                continue  # a waiter, not a holder
            if fields[1] == "FLOCK" and int(fields[5].rsplit(":", 1)[1]) == inode:
                holders.append(int(fields[4]))
    return holders


def wait_until(predicate, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_timers_run_once_per_server_and_survive_their_worker(gunicorn, tmp_path):
    server = gunicorn(
        """
வழி பெறு, "/" { பதில் 200, "ok"; }
இடைவெளி 1 { அச்சு "tick"; }
""",
        processes=3,
    ).wait_ready()
    started = time.monotonic()
    lock = wait_until(lambda: [str(p) for p in tmp_path.glob("etamil-timers-*.lock")], "the timer lock file")[0]
    holders = wait_until(lambda: lock_holders(lock), "a timer leader")
    assert len(holders) == 1 and holders[0] in server.workers()
    wait_until(lambda: server.out_lines.count("tick") >= 2, "two ticks")
    os.kill(holders[0], signal.SIGKILL)
    seen = server.out_lines.count("tick")
    new_holders = wait_until(lambda: [p for p in lock_holders(lock) if p != holders[0]], "a new timer leader")
    assert len(new_holders) == 1
    wait_until(lambda: server.out_lines.count("tick") >= seen + 2, "ticks after the leader died")
    elapsed = time.monotonic() - started
    # one tick a second for the server, not one per worker (three workers would triple it)
    assert server.out_lines.count("tick") <= elapsed + 2


def test_a_postgresql_route(gunicorn):
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3).close()
    except psycopg2.OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    server = gunicorn(
        """
வழி பெறு, "/sum/:n" {
    தளம்_இணை போச்குரசீகுல், "postgresql://postgres@127.0.0.1:5432/test";
    தளம்_வினா "SELECT $1::numeric + 0.05 AS total", [param_n], rows;
    பதில் 200, "total " & rows[0]["total"], {"Content-Type": "text/plain"};
}
"""
    ).wait_ready()
    for n in ("12.25", "100"):
        status, _, body, _ = get(server.port, f"/sum/{n}")
        assert status == "HTTP/1.1 200 OK", body
        assert body == f"total {'12.3' if n == '12.25' else '100.05'}".encode()
    status, _, body, _ = get(server.port, "/ready")
    assert (status, body) == ("HTTP/1.1 200 OK", b'{"status": "ready"}')


def test_a_broken_program_stops_the_start_before_any_fork(gunicorn):
    server = gunicorn('வழி பெறு, "/" { பதில் 200, ; }\n')
    status = server.wait()
    assert status == 3  # gunicorn's boot-error status
    time.sleep(0.2)  # let the stderr pump finish
    assert "✗ " in server.stderr
    assert "Traceback" not in server.stderr
    assert "Booting worker" not in server.stderr


def test_a_missing_program_is_reported_the_same_way(gunicorn):
    server = gunicorn(PROGRAM, env={"ETAMIL_PROGRAM": "missing.qmz"})
    assert server.wait() == 3
    time.sleep(0.2)
    assert "missing.qmz" in server.stderr
    assert "Traceback" not in server.stderr


def test_a_killed_worker_is_respawned_and_the_others_keep_serving(gunicorn):
    server = gunicorn(PROGRAM, processes=2).wait_ready()
    victim, survivor = server.wait_for_workers(2)
    os.kill(victim, signal.SIGKILL)
    for _ in range(20):
        assert get(server.port, "/")[2] == b"Hello, World!"
    pids = server.wait_for_workers(2, exclude={victim})
    assert survivor in pids


def test_process_titles(gunicorn):
    server = gunicorn(PROGRAM, processes=2).wait_ready()
    assert process_title(server.process.pid) == "etamil: master app.qmz"
    get(server.port, "/")
    pattern = re.compile(r"etamil: worker \d+ app\.qmz \[\d+ busy, \d+ conns, \d+ served\]")
    titles = wait_until(
        lambda: [t for t in map(process_title, children(server.process.pid)) if pattern.fullmatch(t)], "worker titles"
    )
    assert titles


def test_quit_is_the_fast_stop(gunicorn):
    server = gunicorn(PROGRAM).wait_ready()
    server.signal(signal.SIGQUIT)
    assert server.wait() == 0


def metric(text: str, name: str) -> float:
    """The value of the sample line ``name value`` (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_are_summed_across_workers(gunicorn):
    server = gunicorn(PROGRAM, processes=2, env={"ETAMIL_METRICS": "on"}).wait_ready()
    name = 'etamil_http_requests_total{code="200",method="GET",route="/"}'
    before = metric(get(server.port, "/metrics")[2].decode(), name)
    for _ in range(30):
        assert get(server.port, "/")[0] == "HTTP/1.1 200 OK"
    # each worker moves its counts to the shared files once a second (tests/e2e/test_observability.py
    # checks the exact counts)
    deadline = time.monotonic() + WAIT
    while True:
        status, headers, body, _ = get(server.port, "/metrics")
        if metric(body.decode(), name) - before >= 30 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == "HTTP/1.1 200 OK"
    assert metric(body.decode(), name) - before == 30
    assert "etamil_http_connections" in body.decode()
