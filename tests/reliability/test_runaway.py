"""Issue 11, scenario 8: runaway handlers against the real server (``gunicorn -c conf/etamil.py``,
one worker, so every runaway shares its event loop with the normal requests).

An endless loop, deep recursion, a huge text and a huge array: each gets 503 at the deadline or a
clean eTamil error (500 with a short JSON body, no traceback); the worker lives (same pid, no new
boot); a normal request on another connection is answered meanwhile with its normal latency (its
p50/p99 are printed; the assertion is generous, since the machine is shared: before the inline
budget a /fast request waited for a runaway's whole deadline); the worker's peak resident memory
stays well below twice the text limit. Bounded: about 15 seconds.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2e_helpers import WAIT, Gunicorn, get, read_response  # noqa: E402

DEADLINE = 2.0
TEXT_LIMIT = 32 * 1024 * 1024
ITEM_LIMIT = 2_000_000
RUNAWAY_SECONDS = 6.0

PROGRAM = """
ceyal aazham(n) { qirumpu aazham(n + 1); }
வழி பெறு, "/fast" { பதில் 200, "fast", {"Content-Type": "text/plain"}; }
வழி பெறு, "/loop" { i = 0; (mey) cuRRu { i = i + 1; } }
வழி பெறு, "/recurse" { x = aazham(0); }
வழி பெறு, "/bigtext" { s = "ab"; (mey) cuRRu { s = s & s; } }
வழி பெறு, "/bigarray" { s = ","; (mey) cuRRu { s = s & s; a = pYttukaL(s); } }
"""


def status_and_body(port: int, path: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    status, _, body, _ = get(port, path)
    return int(status.split()[1]), json.loads(body), time.monotonic() - started


def memory_kib(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (the peak) of ``pid``, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def reset_peak(pid: int) -> None:
    """Start ``VmHWM`` again from the current resident size (Linux >= 4.0; needs our own uid)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pytest.skip("cannot reset the peak resident size of the worker (/proc/PID/clear_refs)")


class FastClient(threading.Thread):
    """GET /fast on one keep-alive connection, one request after another, until told to stop."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        import socket

        with socket.create_connection(("127.0.0.1", self.port), timeout=WAIT) as sock:
            buffer = bytearray()
            while not self.done.is_set():
                started = time.monotonic()
                sock.sendall(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
                status, _, body, _ = read_response(sock, buffer)
                self.latencies.append(time.monotonic() - started)
                if status != "HTTP/1.1 200 OK" or body != b"fast":
                    self.failures.append(f"{status} {body[:80]!r}")

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@pytest.fixture
def server(tmp_path):
    started = Gunicorn(
        tmp_path,
        PROGRAM,
        processes=1,
        env={
            "ETAMIL_HANDLER_DEADLINE": str(DEADLINE),
            "ETAMIL_MAX_TEXT_BYTES": str(TEXT_LIMIT),
            "ETAMIL_MAX_ITEMS": str(ITEM_LIMIT),
        },
    )
    yield started.wait_ready()
    started.stop()


def test_runaways_are_stopped_and_the_worker_keeps_serving(server):
    (worker,) = server.workers()
    # warm the routes up (compiled, imports loaded) before the baseline
    for path in ("/fast", "/recurse"):
        get(server.port, path)
    baseline = memory_kib(worker, "VmRSS")
    reset_peak(worker)

    fast = FastClient(server.port)
    fast.start()
    loops: list[tuple[int, dict, float]] = []
    memory: list[tuple[str, int, dict]] = []

    def loop_client() -> None:
        end = time.monotonic() + RUNAWAY_SECONDS
        while time.monotonic() < end:
            loops.append(status_and_body(server.port, "/loop"))

    def memory_client() -> None:
        end = time.monotonic() + RUNAWAY_SECONDS
        while time.monotonic() < end:
            for path in ("/recurse", "/bigtext", "/bigarray"):
                status, body, _ = status_and_body(server.port, path)
                memory.append((path, status, body))

    runaways = [threading.Thread(target=loop_client) for _ in range(2)] + [threading.Thread(target=memory_client)]
    for thread in runaways:
        thread.start()
    for thread in runaways:
        thread.join(RUNAWAY_SECONDS + 4 * DEADLINE + WAIT)
    fast.done.set()
    fast.join(WAIT)

    peak = memory_kib(worker, "VmHWM")
    p50, p99 = fast.percentile(0.50), fast.percentile(0.99)
    loop_seconds = [seconds for _, _, seconds in loops]
    print(
        f"\n/fast while runaways ran: {len(fast.latencies)} requests, p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {max(fast.latencies) * 1000:.1f} ms"
        f"\n/loop (2 at a time): {len(loops)} answered in {min(loop_seconds):.2f}-{max(loop_seconds):.2f} s"
        f" (deadline {DEADLINE:g} s)"
        f"\n/recurse, /bigtext, /bigarray: {len(memory)} answered"
        f"\nworker resident memory: {baseline // 1024} MiB before, peak {peak // 1024} MiB"
        f" (+{(peak - baseline) // 1024} MiB; text limit {TEXT_LIMIT // 2**20} MiB)"
    )

    # every runaway got its answer: 503 at the deadline, or the clean eTamil error
    assert loops and all(status == 503 and "deadline" in body["error"] for status, body, _ in loops)
    assert max(loop_seconds) < DEADLINE + 1.9  # before: the second of two waited for the first (4 s)
    expected = {
        "/recurse": "(call depth exceeded",
        "/bigtext": "(text too large: ",
        "/bigarray": "(too many items: ",
    }
    assert memory
    for path, status, body in memory:
        assert status == 500, (path, body)
        assert expected[path] in body["error"] and "Traceback" not in body["error"], (path, body)

    # the worker lived and served the normal requests throughout
    assert server.workers() == [worker]
    assert server.stderr.count("Booting worker") == 1
    assert fast.failures == [] and len(fast.latencies) > 20
    assert p99 < 1.0, f"p99 of /fast {p99 * 1000:.0f} ms while runaways ran"
    # memory stayed bounded well below twice the text limit
    assert (peak - baseline) * 1024 < 2 * TEXT_LIMIT, (baseline, peak)
