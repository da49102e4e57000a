"""``etamil serve`` and ``etamil --async`` as subprocesses: start-up output, answers, reload on
change, Ctrl-C and SIGTERM, bind failures, ``--workers N`` through gunicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WAIT = 30  # generous limits for a slow machine; never asserted as timings
RULE = "\u2501" * 74

PROGRAM = 'வழி பெறு, "/" { பதில் 200, "v1", {"Content-Type": "text/plain"}; }\n'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port: int, target: str = "/") -> tuple[str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


def start(tmp_path, *args, source=PROGRAM):
    program = tmp_path / "app.qmz"
    program.write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", ETAMIL_STATE_DIR=str(tmp_path))
    return program, subprocess.Popen(
        [sys.executable, "-m", "etamil_server", *args, str(program)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def wait_answering(process, port) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            fetch(port)
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server never answered")


def booted_workers(master: int) -> list[int]:
    """Children of ``master`` whose title shows a running server loop."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="latin-1") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                title = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        if parent == master and "busy," in title:
            found.append(int(entry))
    return found


def stop(process, signum=signal.SIGTERM) -> tuple[int, str, str]:
    process.send_signal(signum)
    out, err = process.communicate(timeout=WAIT)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def cleanup():
    processes = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_answers_and_drains_on_sigterm(tmp_path, cleanup):
    port = free_port()
    _, process = start(tmp_path, "serve", "--port", str(port))
    cleanup.append(process)
    wait_answering(process, port)
    assert fetch(port) == ("HTTP/1.1 200 OK", b"v1")
    status, out, err = stop(process)
    assert status == 0
    assert out.startswith("etamil serve: ")
    assert f"http://127.0.0.1:{port}" in out
    assert "Traceback" not in err


def test_serve_reload_picks_up_a_change_and_survives_a_broken_edit(tmp_path, cleanup):
    port = free_port()
    program, process = start(tmp_path, "serve", "--port", str(port), "--reload")
    cleanup.append(process)
    wait_answering(process, port)
    program.write_text(PROGRAM.replace("v1", "v2 longer"), encoding="utf-8")
    deadline = time.monotonic() + WAIT
    while fetch(port)[1] != b"v2 longer" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fetch(port)[1] == b"v2 longer"
    program.write_text('வழி பெறு, "/" { பதில் 200, ; }\n', encoding="utf-8")
    time.sleep(2.5)  # two sweeps: the broken edit has been seen
    assert fetch(port)[1] == b"v2 longer"
    status, out, err = stop(process)
    assert status == 0
    assert "↻ reloaded" in out
    assert "✗ reload skipped: still serving the previous version" in err


def test_serve_a_broken_program_exits_1_with_the_message(tmp_path):
    _, process = start(tmp_path, "serve", "--port", str(free_port()), source='வழி பெறு, "/" {\n')
    out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 1
    assert err.decode().startswith("✗ ")
    assert "Traceback" not in err.decode()


def test_async_prints_the_reference_banner_and_ctrl_c_shuts_down(tmp_path, cleanup):
    port = free_port()
    _, process = start(tmp_path, "--async", "--port", str(port))
    cleanup.append(process)
    wait_answering(process, port)
    status, out, err = stop(process, signal.SIGINT)
    assert status == 0
    assert out == (
        "✓ Parsing complete (1 statements)\n\n"
        "=== eTamil HTTP Server (--async) ===\n"
        f"🚀 Starting server on 127.0.0.1:{port}\n\n"
        f"{RULE}\n🚀 eTamil HTTP Server (--async)\n{RULE}\n"
        f"📍 Listening on: http://127.0.0.1:{port}\n"
        "📋 Registered Routes:\n   GET /\n"
        "🧵 Handlers run on tokio's blocking pool; the VM stays synchronous\n"
        "   Press Ctrl-C to stop.\n"
        f"{RULE}\n\n"
        "\n⏹️  Shutting down.\n"
    )


def test_async_bind_failure(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        _, process = start(tmp_path, "--async", "--port", str(port))
        out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 1
    assert err.decode().startswith("❌ Async server error: Address already in use (os error 98)")


def test_serve_with_workers_runs_the_gunicorn_master(tmp_path, cleanup):
    port = free_port()
    _, process = start(tmp_path, "serve", "--port", str(port), "--workers", "2")
    cleanup.append(process)
    wait_answering(process, port)
    deadline = time.monotonic() + WAIT
    while len(booted_workers(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # every worker running its loop (a signal during boot tests gunicorn)
    assert len(booted_workers(process.pid)) == 2
    assert fetch(port) == ("HTTP/1.1 200 OK", b"v1")
    status, out, err = stop(process)
    assert status == 0
    assert "Booting worker" in err
