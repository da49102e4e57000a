"""``gunicorn -c conf/etamil.py`` with two workers: without ``ETAMIL_JWT_SECRET`` a token issued by
one worker verifies on the other (the master made the random secret before the fork) and the
warning is printed once for the server; the handler deadline stops a program run by
``கட்டளை_ஓட்டு`` and kills it.

Which worker answered is learnt from the answer itself: the handler runs ``sh -c 'echo $PPID'``,
whose parent is the worker."""

from __future__ import annotations

import os
import socket
import time

from e2e_helpers import WAIT, exchange, read_response

from etamil_server.host.tokens import MISSING_SECRET_WARNING

PROGRAM = r"""
செயல் பணியாளர்() { திரும்பு மதிப்பு(கட்டளை_ஓட்டு("sh", ["-c", "echo $PPID"], 5)).வெளியீடு; }

வழி பெறு, "/issue" { பதில் 200, பணியாளர்() & சீட்டு_ஆக்கு("{\"sub\": \"ravi\"}", 300), {"Content-Type": "text/plain"}; }
வழி பதி, "/read" { பதில் 200, பணியாளர்() & சீட்டு_சரிபார்(request_body), {"Content-Type": "text/plain"}; }
வழி பெறு, "/slow" {
    r = கட்டளை_ஓட்டு("sh", ["-c", "echo $$ > " & சூழல்("PIDFILE", "") & "; exec sleep 300"], 600);
    பதில் 200, "finished";
}
"""


def split(body: bytes) -> tuple[int, str]:
    worker, _, rest = body.decode("utf-8").partition("\n")
    return int(worker), rest


def request(sock: socket.socket, raw: bytes) -> tuple[str, bytes]:
    sock.sendall(raw)
    status, _, body, _ = read_response(sock, bytearray())
    return status, body


def issue(sock: socket.socket) -> tuple[int, str]:
    status, body = request(sock, b"GET /issue HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == "HTTP/1.1 200 OK", body
    return split(body)


def read(sock: socket.socket, token: str) -> tuple[int, str]:
    data = token.encode()
    status, body = request(sock, b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
    assert status == "HTTP/1.1 200 OK", body
    return split(body)


def environment(tmp_path) -> dict[str, str]:
    return {"ETAMIL_EXEC_ALLOW": "sh", "ETAMIL_JWT_SECRET": "", "PIDFILE": str(tmp_path / "child.pid")}


def test_a_token_issued_by_one_worker_verifies_on_the_other(gunicorn, tmp_path):
    server = gunicorn(PROGRAM, processes=2, env=environment(tmp_path)).wait_ready()
    workers = set(server.booted_workers())
    crossings = []
    deadline = time.monotonic() + WAIT
    while len(crossings) < 3 and time.monotonic() < deadline:
        # A connection held open on the issuing worker: the balancer sends the next one elsewhere.
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as held:
            issuer, token = issue(held)
            with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as other:
                reader, result = read(other, token)
        assert {issuer, reader} <= workers
        assert result.startswith("சரி({") and '"sub":"ravi"' in result, (issuer, reader, result)
        if issuer != reader:
            crossings.append((issuer, reader))
    assert crossings, "the requests never reached both workers"
    assert server.stderr.count(MISSING_SECRET_WARNING) == 1, server.stderr


def test_a_tampered_token_is_refused_on_every_worker(gunicorn, tmp_path):
    server = gunicorn(PROGRAM, processes=2, env=environment(tmp_path)).wait_ready()
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        _, token = issue(sock)
        header, payload, signature = token.split(".")
        _, result = read(sock, f"{header}.{payload}.{signature[::-1]}")
    assert result == "தவறு(குறியீடு செல்லாதது  (the token is not valid))"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="latin-1") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_handler_deadline_stops_and_kills_a_running_program(gunicorn, tmp_path):
    env = dict(environment(tmp_path), ETAMIL_HANDLER_DEADLINE="1")
    server = gunicorn(PROGRAM, processes=1, env=env).wait_ready()
    status, _, body, _ = exchange(server.port, b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == "HTTP/1.1 503 Service Unavailable"
    assert b"deadline" in body
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + WAIT
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the program never started"
        time.sleep(0.02)
    child = int(pid_file.read_text())
    while _alive(child):  # it would otherwise sleep for 300 s
        assert time.monotonic() < deadline, f"the program {child} outlived the handler's deadline"
        time.sleep(0.05)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        worker, token = issue(sock)  # the worker and its executor thread carry on
    assert worker in server.booted_workers() and token.count(".") == 2
    assert os.path.exists(server.program)
