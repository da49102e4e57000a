"""Scenario 7 — slowloris and slow readers against the real server (``gunicorn -c conf/etamil.py``,
two workers).

* 1,000 connections trickle header lines (``bench/slowloris.py``, in its own process) while a
  normal client requests the example API every 20 ms: its p99 stays under 100 ms, it sees no
  error, and the server closes every slow connection after ``ETAMIL_HEADER_TIMEOUT`` (408).
* Slow readers: connections that pipeline requests for a 1 MiB answer and never read it are cut
  off after ``ETAMIL_SEND_TIMEOUT``, and the workers' memory does not grow with what they asked
  for; the server answers normally meanwhile and after.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

from e2e_helpers import REPO, Gunicorn, exchange  # noqa: E402

EXAMPLE = (REPO / "examples" / "ledger_api.qmz").read_text(encoding="utf-8")
HEADER_TIMEOUT = 3.0
SLOW_CONNECTIONS = 1000
SWEEP_SLACK = 1.0  # the server's clock and its sweep are good to about a second


@pytest.fixture(autouse=True)
def open_files():
    """1,000 client sockets plus the server's: raise the soft limit (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4 * SLOW_CONNECTIONS:
        pytest.fail(f"the open-file hard limit ({hard}) is too low for {SLOW_CONNECTIONS} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_1000_slow_connections_are_closed_at_the_header_timeout_and_a_normal_client_stays_fast(tmp_path):
    server = Gunicorn(
        tmp_path,
        EXAMPLE,
        processes=2,
        name="ledger_api.qmz",
        env={"ETAMIL_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "LEDGER_DB": str(tmp_path / "ledger.db")},
    )
    try:
        server.wait_ready()
        workers = server.booted_workers()
        run = subprocess.run(
            [sys.executable, str(REPO / "bench" / "slowloris.py"), "--url",
             f"http://127.0.0.1:{server.port}/gst?amount=1000&rate=18", "--connections", str(SLOW_CONNECTIONS),
             "--duration", "10", "--json"],
            capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        assert run.returncode == 0, run.stderr
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"\nslowloris: {figures}")
        probe, slow = figures["probe"], figures["slow"]
        assert probe["errors"] == 0, probe
        assert probe["requests"] >= 100, probe
        assert probe["p99_ms"] < 100, probe  # the bound, nothing tighter
        assert slow["opened"] >= SLOW_CONNECTIONS and slow["connect_errors"] == 0, slow
        # every slow connection that ended during the run was closed by the server, with a 408,
        # after about the header timeout; none outlived it
        assert slow["closed_by_server"] >= SLOW_CONNECTIONS, slow
        assert slow["answered_408"] == slow["closed_by_server"], slow
        assert HEADER_TIMEOUT - SWEEP_SLACK - 0.5 <= slow["lifetime_min_s"], slow
        assert slow["lifetime_max_s"] <= HEADER_TIMEOUT + SWEEP_SLACK + 5, slow  # generous: a loaded machine
        assert slow["open_at_end_oldest_s"] <= HEADER_TIMEOUT + SWEEP_SLACK + 5, slow
        assert server.booted_workers() == workers
    finally:
        server.stop()


BIG = """பெரியது = "x";
எண்ணிக்கை = 0;
(எண்ணிக்கை < 20) சுற்று { பெரியது = பெரியது & பெரியது; எண்ணிக்கை = எண்ணிக்கை + 1; }
வழி பெறு, "/big" { பதில் 200, பெரியது, {"Content-Type": "text/plain"}; }
வழி பெறு, "/" { பதில் 200, "ok", {"Content-Type": "text/plain"}; }
"""
BIG_SIZE = 1 << 20
SEND_TIMEOUT = 2.0


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_clients_that_never_read_a_large_answer_are_cut_off_and_pin_no_memory(tmp_path):
    readers, pipelined = 40, 16  # 640 MiB asked for, never read
    server = Gunicorn(tmp_path, BIG, processes=2, env={"ETAMIL_SEND_TIMEOUT": str(SEND_TIMEOUT)})
    sockets: list[socket.socket] = []
    try:
        server.wait_ready()
        workers = server.booted_workers()
        for _ in range(3):  # warm up: the route built once in each worker
            assert exchange(server.port, b"GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")[0].endswith("200 OK")
        before = {pid: rss_kib(pid) for pid in workers}
        request = b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n" * pipelined
        for _ in range(readers):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and read nothing
            sock.sendall(request)
            sockets.append(sock)
        peak = {pid: 0 for pid in workers}
        deadline = time.monotonic() + SEND_TIMEOUT + SWEEP_SLACK + 8
        while time.monotonic() < deadline:
            for pid in workers:
                peak[pid] = max(peak[pid], rss_kib(pid))
            assert exchange(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")[2] == b"ok"  # served meanwhile
            time.sleep(0.2)
        # each slow reader was cut off: reading now gives what the kernel held, then the end
        received = []
        for sock in sockets:
            sock.settimeout(5)
            total = 0
            try:
                while chunk := sock.recv(1 << 20):
                    total += len(chunk)
            except ConnectionResetError:
                pass
            received.append(total)
        growth_mib = max(peak[pid] - before[pid] for pid in workers) / 1024
        print(f"\nslow readers: {readers} x {pipelined} MiB asked for; worker RSS growth at most {growth_mib:.1f} MiB; "
              f"bytes each got before the cut: max {max(received) / BIG_SIZE:.2f} MiB")
        assert max(received) < BIG_SIZE  # not even one of the 16 answers each asked for
        # what a worker holds is bounded by its connections, not by what they asked for: about one
        # answer each in the transport's buffer (40 MiB over both workers), with room for the
        # allocator
        assert growth_mib < readers * BIG_SIZE / (1 << 20) + 64, (before, peak)
        assert server.booted_workers() == workers
        assert exchange(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")[2] == b"ok"
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
