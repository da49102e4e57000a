"""HTTP benchmarks with wrk, several servers side by side in the same run (2 workers each).

    python3 bench/http_bench.py hello      # bench/http_hello.sh
    python3 bench/http_bench.py io         # bench/http_io.sh
    python3 bench/http_bench.py load URL   # a server that is already running (one wrk line per level)

``hello``: our server (gunicorn -c conf/etamil.py) serving the one-route hello world, against
(b) gunicorn + uvicorn's worker serving a bare ASGI hello world and (c) a bare uvloop + httptools
server (the floor, no eTamil); wrk -t2 -c100 -d10s and -c1000.

``io``: a route whose statement waits 50 ms in PostgreSQL (``தளம்_செய் "SELECT pg_sleep(0.05)"``:
executed, since a query would refuse pg_sleep's void column), c=100, against
gunicorn + uvicorn's worker awaiting ``asyncio.sleep(0.05)`` and against ``etamil --server`` with
``ETAMIL_WORKERS=1`` (the reference's one-thread baseline).

Prints req/s, p50, p99 and errors per server and the ratios against the goals. Needs wrk
(Debian: ``apt-get install wrk``). ``BENCH_DURATION`` overrides the 10 s per measured wrk run;
each is preceded by an unmeasured ``BENCH_WARMUP`` (2 s) run at the same concurrency.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DURATION = os.environ.get("BENCH_DURATION", "10s")
WARMUP = os.environ.get("BENCH_WARMUP", "2s")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

HELLO_PROGRAM = 'வழி பெறு, "/" { பதில் 200, "Hello, World!", {"Content-Type": "text/plain"}; }\n'
IO_PROGRAM = f"""வழி பெறு, "/" {{
    தளம்_இணை போச்குரசீகுல், "{PG_URL}";
    தளம்_செய் "SELECT pg_sleep(0.05)", [];
    பதில் 200, "Hello, World!", {{"Content-Type": "text/plain"}};
}}
"""


@dataclass
class Result:
    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int

    def line(self) -> str:
        return (
            f"  {self.name:<34} c={self.connections:<5} {self.rps:>10.0f} req/s   "
            f"p50 {self.p50_ms:>7.2f} ms   p99 {self.p99_ms:>8.2f} ms   errors {self.errors}"
        )


# ------------------------------------------------------------------------------ wrk


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _millis(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(name: str, url: str, connections: int, threads: int = 2, duration: str = DURATION,
        extra: list[str] | tuple[str, ...] = ()) -> Result:
    """One wrk run; ``extra`` adds options (a Lua script with ``-s``)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "--timeout", "5s",
               *extra, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _millis(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _millis(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return Result(name, connections, rps, p50, p99, errors, requests)


# ------------------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """A server process group started for the benchmark, stopped with SIGTERM (then KILL)."""

    def __init__(self, name: str, command: list[str], port: int, env: dict | None = None, cwd: Path | None = None):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.command = command
        self.env = dict(os.environ, PYTHONPATH=str(REPO))
        self.env.update(env or {})
        self.cwd = cwd or REPO
        self.log = tempfile.TemporaryFile()
        self.process: subprocess.Popen | None = None
        self.warmup = True

    def start(self) -> Served:
        """Started only when its turn comes: the servers never compete for the CPU."""
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,  # its own process group: stop() reaches every worker
        )
        return self

    def wait_ready(self, timeout: float = 60, path: str = "/") -> Served:
        """Until ``GET path`` answers 200 (then a second more, for every worker to boot)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        time.sleep(1.0)  # let every worker finish booting
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def ours(program: str, workdir: Path, env: dict | None = None) -> Served:
    path = workdir / "bench.qmz"
    path.write_text(program, encoding="utf-8")
    port = free_port()
    environment = {
        "ETAMIL_PROGRAM": str(path),
        "ETAMIL_BIND": f"127.0.0.1:{port}",
        "ETAMIL_PROCESSES": "2",
        "ETAMIL_STATE_DIR": str(workdir),
        "ETAMIL_LOG_LEVEL": "warning",
    }
    environment.update(env or {})
    return Served("ours (gunicorn + etamil worker)", [sys.executable, "-m", "gunicorn", "-c", "conf/etamil.py"], port, environment)


def uvicorn(app: str) -> Served:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2",
        "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "5", "--backlog", "2048",
        f"bench.apps.asgi_hello:{app}",
    ]
    return Served("(b) gunicorn + uvicorn worker", command, port, {"PYTHONWARNINGS": "ignore"})


def bare() -> Served:
    port = free_port()
    command = [sys.executable, "bench/apps/bare_hello.py", "--port", str(port), "--workers", "2"]
    return Served("(c) bare uvloop + httptools", command, port)


def reference(program: str, workdir: Path) -> Served:
    path = workdir / "reference.qmz"
    path.write_text(program, encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "etamil_server", "--server", "--port", str(port), str(path)]
    served = Served("etamil --server, ETAMIL_WORKERS=1", command, port, {"ETAMIL_WORKERS": "1"}, cwd=workdir)
    # one request at a time: a warm-up would only leave a queue of abandoned connections behind
    served.warmup = False
    return served


def run_all(servers: list[Served], connections: list[int]) -> dict[tuple[str, int], Result]:
    results: dict[tuple[str, int], Result] = {}
    for server in servers:
        try:
            server.start().wait_ready()
            for count in connections:
                # a short unmeasured run first, the same for every server: connections to the
                # database get opened, caches warm, before the numbers count
                if server.warmup:
                    wrk(server.name, server.url, count, duration=WARMUP)
                result = wrk(server.name, server.url, count)
                results[(server.name, count)] = result
                print(result.line(), flush=True)
        finally:
            server.stop()
    return results


def verdict(label: str, value: float, goal: float, above: bool = True) -> str:
    ok = value >= goal if above else value <= goal
    sign = ">=" if above else "<="
    return f"  {label:<46} {value:>8.2f}  (goal {sign} {goal:g})  {'met' if ok else 'NOT met'}"


# ------------------------------------------------------------------------------ the benchmarks


def bench_hello() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        servers = [ours(HELLO_PROGRAM, workdir), uvicorn("app"), bare()]
        print(f"hello world, 2 workers each, wrk -t2 -d{DURATION}", flush=True)
        results = run_all(servers, [100, 1000])
    print()
    for count in (100, 1000):
        mine = results[(servers[0].name, count)]
        base = results[(servers[1].name, count)]
        floor = results[(servers[2].name, count)]
        print(f"c={count}:")
        print(verdict("ours / (b) gunicorn + uvicorn (throughput)", mine.rps / base.rps, 1.25))
        print(verdict("ours / (c) bare uvloop + httptools (throughput)", mine.rps / floor.rps, 0.55))
        print(verdict("ours p99 (ms)", mine.p99_ms, 10 if count == 100 else 50, above=False))
        print(verdict("ours errors", mine.errors, 0, above=False))


def bench_io() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        # 2 workers x 48 connections: Little's law needs ~100 in flight for 2,000 req/s at 50 ms,
        # and PostgreSQL allows 100 connections by default
        pool = os.environ.get("BENCH_DB_POOL_MAX", "48")
        env = {"ETAMIL_DB_POOL_MAX": pool, "ETAMIL_DB_IDLE": pool, "ETAMIL_THREADS": "64"}
        servers = [ours(IO_PROGRAM, workdir, env), uvicorn("sleepy"), reference(IO_PROGRAM, workdir)]
        print(f"50 ms in PostgreSQL per request, 2 workers, wrk -t2 -c100 -d{DURATION}", flush=True)
        results = run_all(servers, [100])
    mine = results[(servers[0].name, 100)]
    base = results[(servers[1].name, 100)]
    sync = results[(servers[2].name, 100)]
    print()
    print(verdict("ours / gunicorn + uvicorn asyncio.sleep", mine.rps / base.rps, 0.95))
    print(verdict("ours / etamil --server (ETAMIL_WORKERS=1)", mine.rps / sync.rps, 90))
    print(f"  (the ideal is 2,000 req/s: 100 connections / 50 ms; ours reached {mine.rps:.0f})")


def bench_load(url: str) -> None:
    print(f"load test against {url}, wrk -t2 -d{DURATION}", flush=True)
    for count in (100, 1000):
        print(wrk("running server", url, count).line(), flush=True)


def main(argv: list[str]) -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ("hello", "io", "load"):
        print("usage: http_bench.py hello | io | load URL", file=sys.stderr)
        return 2
    if argv[0] == "hello":
        bench_hello()
    elif argv[0] == "io":
        bench_io()
    else:
        bench_load(argv[1] if len(argv) > 1 else "http://127.0.0.1:8080/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
