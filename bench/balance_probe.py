"""How evenly fresh servers spread keep-alive connections over their 2 workers after a burst.

    python3 bench/balance_probe.py                 # 20 fresh servers
    python3 bench/balance_probe.py --servers 5 --pause 0.25 --hold 1

For each server, one after another: start ``gunicorn -c conf/etamil.py`` with 2 workers serving a
one-route hello program; once both workers serve, open a burst of ``--burst`` (1,000) connections
at once, each sending one request and reading its answer; when all are answered, every burst
connection closes at once (what wrk does at the end of a run; ``--close-each`` closes each one as
soon as it has its answer instead). Then, after ``--pause`` seconds (0: at once), open ``--clients``
(64) new keep-alive connections at once, each sending one request. When every one has its answer,
``ss -tnp`` counts the server side of those connections per worker process: the *accept split*.

With ``--hold S`` the 64 clients then keep requesting for S seconds, as wrk would (a client whose
connection the server closes reconnects), and the split is counted again: the *held split*.

Prints one line per server and how many of them split no worse than ``--worst`` (40, i.e. 40/24).
The figures depend on the machine's load (other processes share the cores): say so with them.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_bench import Served, free_port  # noqa: E402

PROGRAM = 'வழி பெறு, "/" { பதில் 200, "Hello, World!", {"Content-Type": "text/plain"}; }\n'
REQUEST = b"GET / HTTP/1.1\r\nHost: probe\r\n\r\n"
_PID = re.compile(r"pid=(\d+)")
_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)


# ------------------------------------------------------------------------------ a tiny client


async def answer(reader: asyncio.StreamReader) -> bool:
    """Read one response; whether the server keeps the connection open after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    match = _LENGTH.search(head)
    if match:
        await reader.readexactly(int(match.group(1)))
    return b"\r\nconnection: close" not in head.lower()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def one_request(port: int) -> asyncio.StreamWriter:
    reader, writer = await connect(port)
    writer.write(REQUEST)
    await answer(reader)
    return writer


async def burst(port: int, count: int, close_each: bool) -> None:
    """``count`` connections at once, one request each; closed together (or each at once)."""

    async def single() -> asyncio.StreamWriter:
        writer = await one_request(port)
        if close_each:
            writer.close()
        return writer

    writers = await asyncio.gather(*(single() for _ in range(count)))
    if not close_each:
        for writer in writers:
            writer.close()
    await asyncio.sleep(0)  # let the closes reach the kernel


class Client:
    """A keep-alive client that requests until told to stop and reconnects when closed."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.requests = 0
        self.reconnects = 0
        self.failures = 0  # a request written whose answer never came (the connection broke)

    async def first(self) -> None:
        self.reader, self.writer = await connect(self.port)
        await self._request()

    async def _request(self) -> None:
        self.writer.write(REQUEST)
        try:
            kept = await answer(self.reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.failures += 1
            kept = False
        else:
            self.requests += 1
        if not kept:
            self.writer.close()
            self.reader, self.writer = await connect(self.port)
            self.reconnects += 1

    async def keep_going(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            await self._request()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# ------------------------------------------------------------------------------ counting


def worker_pids(master: int) -> list[int]:
    with open(f"/proc/{master}/task/{master}/children", encoding="ascii") as handle:
        return sorted(int(pid) for pid in handle.read().split())


def split(port: int, workers: list[int]) -> list[int]:
    """Established server-side connections on ``port`` per worker (in the order of ``workers``)."""
    output = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout
    counts: collections.Counter[int] = collections.Counter()
    for line in output.splitlines():
        match = _PID.search(line)
        if match:
            counts[int(match.group(1))] += 1
    return [counts.get(pid, 0) for pid in workers]


def wait_for_workers(server: Served, count: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(server.process.pid)
        if len(pids) == count:
            return pids
        time.sleep(0.1)
    raise RuntimeError(f"expected {count} workers, found {worker_pids(server.process.pid)}")


# ------------------------------------------------------------------------------ one server


@dataclass
class Plan:
    burst: int = 1000
    clients: int = 64
    pause: float = 0.0
    hold: float = 0.0
    close_each: bool = False


async def probe_connections(port: int, workers: list[int], plan: Plan) -> dict[str, list[int]]:
    """The burst, the clients, and the split(s) per worker (``workers``: their pids)."""
    await burst(port, plan.burst, plan.close_each)
    burst_done = time.monotonic()
    if plan.pause:
        await asyncio.sleep(plan.pause)
    clients = [Client(port) for _ in range(plan.clients)]
    await asyncio.gather(*(client.first() for client in clients))
    found = {"accept": split(port, workers), "accept_after_ms": [round(1000 * (time.monotonic() - burst_done))]}
    if plan.hold:
        until = asyncio.get_running_loop().time() + plan.hold
        await asyncio.gather(*(client.keep_going(until) for client in clients))
        found["held"] = split(port, workers)
        found["reconnects"] = [sum(client.reconnects for client in clients)]
        found["requests"] = [sum(client.requests for client in clients)]
        found["failures"] = [sum(client.failures for client in clients)]
    for client in clients:
        client.close()
    return found


def probe_server(number: int, workdir: Path, options: argparse.Namespace) -> dict[str, list[int]]:
    program = workdir / "probe.qmz"
    program.write_text(PROGRAM, encoding="utf-8")
    port = free_port()
    env = {
        "ETAMIL_PROGRAM": str(program),
        "ETAMIL_BIND": f"127.0.0.1:{port}",
        "ETAMIL_PROCESSES": "2",
        "ETAMIL_STATE_DIR": str(workdir),
        "ETAMIL_LOG_LEVEL": "warning",
    }
    server = Served(f"server {number}", [sys.executable, "-m", "gunicorn", "-c", "conf/etamil.py", "-w", "2"], port, env)
    try:
        server.start().wait_ready()
        workers = wait_for_workers(server, 2)
        plan = Plan(options.burst, options.clients, options.pause, options.hold, options.close_each)
        found = new_loop().run_until_complete(probe_connections(port, workers, plan))
        if found.get("failures", [0])[0]:
            server.log.seek(0)
            print(server.log.read().decode(errors="replace")[-3000:], file=sys.stderr)
        return found
    finally:
        server.stop()


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


def within(counts: list[int], worst: int) -> bool:
    return max(counts) <= worst


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=20, help="fresh servers, one after another (20)")
    parser.add_argument("--burst", type=int, default=1000, help="connections in the burst (1000)")
    parser.add_argument("--clients", type=int, default=64, help="keep-alive connections after it (64)")
    parser.add_argument("--worst", type=int, default=40, help="most connections one worker may hold (40)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between the burst and the clients (0)")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds the clients keep requesting (0)")
    parser.add_argument("--close-each", action="store_true", help="close each burst connection once answered")
    options = parser.parse_args(argv)
    if options.burst + options.clients > 15000:
        parser.error("too many connections for one probe")
    print(
        f"{options.servers} fresh servers, 2 workers: burst of {options.burst} "
        f"({'each closed when answered' if options.close_each else 'closed together'}), "
        f"pause {options.pause:g} s, then {options.clients} keep-alive clients"
        + (f", held {options.hold:g} s" if options.hold else ""),
        flush=True,
    )
    accepted_ok = held_ok = 0
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(1, options.servers + 1):
            found = probe_server(number, Path(tmp), options)
            accept = found["accept"]
            accepted_ok += within(accept, options.worst)
            line = f"  server {number:>2}: accept split {accept[0]:>2}/{accept[1]:<2} ({found['accept_after_ms'][0]} ms after the burst)"
            if "held" in found:
                held = found["held"]
                held_ok += within(held, options.worst)
                line += (
                    f"   held split {held[0]:>2}/{held[1]:<2} "
                    f"({found['requests'][0]} requests, {found['reconnects'][0]} reconnects, "
                    f"{found['failures'][0]} failed)"
                )
            print(line, flush=True)
    worst = f"{options.worst}/{options.clients - options.worst}"
    print(f"accept split within {worst}: {accepted_ok} of {options.servers}")
    if options.hold:
        print(f"held split within {worst}: {held_ok} of {options.servers}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
