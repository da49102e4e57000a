"""Slowloris against our server: many connections trickle a request's headers, one header line
now and then, never finishing, while a normal client measures its latency.

    python3 bench/slowloris.py                        # serve examples/ledger_api.qmz and attack it
    python3 bench/slowloris.py --url http://127.0.0.1:8080/gst?amount=1000&rate=18
    python3 bench/slowloris.py --connections 1000 --duration 10 --header-timeout 3 --json

The slow connections run in a child process (asyncio, at nice 10: a real attacker would be on
other machines, not on the server's cores), the normal client in this one (a blocking keep-alive
socket, one request every ``--probe-interval`` seconds), so neither's work shows in the other's
figures. A slow connection the server closes is opened again at once, so about
``--connections`` of them trickle the whole time. Prints the normal client's p50/p99/max and
errors, and for the slow connections how many were opened, how many the server closed (with a 408
or without a word) and how long they lived: with ``ETAMIL_HEADER_TIMEOUT`` set they live that long
plus up to a second (the server's sweep).

Loopback only; the run stops by itself after ``--duration`` seconds. The open-file limit is raised
to its hard limit (1,000 connections need more than the usual 1,024 descriptors with the server's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "ledger_api.qmz"
PROBE_PATH = "/gst?amount=1000&rate=18"


def raise_open_files() -> int:
    """Raise this process's soft open-file limit to the hard one; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ------------------------------------------------------------------------------ the slow side


async def _one_slow(host: str, port: int, interval: float, stop_at: float, record: dict) -> None:
    """Keep one slow connection trickling until ``stop_at``, reopening it when the server closes."""
    while time.monotonic() < stop_at:
        opened = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            record["connect_errors"] += 1
            await asyncio.sleep(0.1)
            continue
        record["opened"] += 1
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\n".encode())
        answer = b""
        line = 0
        try:
            while time.monotonic() < stop_at:
                try:
                    answer = await asyncio.wait_for(reader.read(4096), interval)
                except TimeoutError:
                    line += 1
                    writer.write(b"X-Slow-%d: %d\r\n" % (line, line))  # never the blank line
                    continue
                break  # the server answered or closed: either way this connection is over
        except (ConnectionError, OSError):
            answer = b""
        lived = time.monotonic() - opened
        if time.monotonic() < stop_at:
            record["closed_by_server"] += 1
            record["answered_408"] += answer.startswith(b"HTTP/1.1 408 ")
            record["lifetimes"].append(lived)
        else:
            record["still_open_at_end"] += 1
            record["open_at_end_ages"].append(lived)
        writer.close()


async def _trickle(host: str, port: int, connections: int, interval: float, duration: float, ramp: float) -> dict:
    record = {"opened": 0, "connect_errors": 0, "closed_by_server": 0, "answered_408": 0,
              "still_open_at_end": 0, "lifetimes": [], "open_at_end_ages": []}
    stop_at = time.monotonic() + duration
    tasks = []
    # opened evenly over ``ramp`` seconds in batches of 50, as an attacker's script would, so that
    # they do not all time out in the same second (the server's sweep groups them by the second)
    batches = max(1, (connections + 49) // 50)
    for start in range(0, connections, 50):
        tasks += [asyncio.ensure_future(_one_slow(host, port, interval, stop_at, record))
                  for _ in range(start, min(connections, start + 50))]
        await asyncio.sleep(ramp / batches)
    print("ready", flush=True)  # the parent starts measuring now
    await asyncio.gather(*tasks)
    return record


def trickle_main(argv: list[str]) -> None:
    host, port, connections = argv[0], int(argv[1]), int(argv[2])
    interval, duration, ramp = float(argv[3]), float(argv[4]), float(argv[5])
    raise_open_files()
    # a real attacker runs on other machines: here it shares two cores with the server and the
    # normal client, so it yields the CPU to them rather than measuring its own load
    os.nice(10)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    record = asyncio.run(_trickle(host, port, connections, interval, duration, ramp))
    lifetimes, ages = record.pop("lifetimes"), record.pop("open_at_end_ages")
    record["lifetime_min_s"] = round(min(lifetimes), 2) if lifetimes else None
    record["lifetime_p50_s"] = round(statistics.median(lifetimes), 2) if lifetimes else None
    record["lifetime_max_s"] = round(max(lifetimes), 2) if lifetimes else None
    record["open_at_end_oldest_s"] = round(max(ages), 2) if ages else None
    print(json.dumps(record), flush=True)


# ------------------------------------------------------------------------------ the normal client


def probe(host: str, port: int, path: str, interval: float, duration: float) -> tuple[list[float], list[str]]:
    """Requests on one keep-alive connection (a new one when the server closes it): latencies in
    seconds, and what went wrong."""
    latencies: list[float] = []
    errors: list[str] = []
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    sock: socket.socket | None = None
    stop_at = time.monotonic() + duration
    while time.monotonic() < stop_at:
        began = time.monotonic()
        try:
            if sock is None:
                sock = socket.create_connection((host, port), timeout=10)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(request)
            status, close = _read_response(sock)
            latencies.append(time.monotonic() - began)
            if status != 200:
                errors.append(f"status {status}")
            if close:
                sock.close()
                sock = None
        except OSError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            if sock is not None:
                sock.close()
            sock = None
        time.sleep(max(0.0, interval - (time.monotonic() - began)))
    if sock is not None:
        sock.close()
    return latencies, errors


def _read_response(sock: socket.socket) -> tuple[int, bool]:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buffer += chunk
    head, _, body = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:])}
    length = int(fields.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return int(lines[0].split()[1]), fields.get("connection", "").lower() == "close"


# ------------------------------------------------------------------------------ a run


def attack(host: str, port: int, path: str, connections: int, duration: float, interval: float,
           probe_interval: float, ramp: float = 2.0) -> dict:
    """One run: ``connections`` slow connections for ``duration`` seconds while the normal client
    probes ``path``. The figures as a dict."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--trickle", host, str(port), str(connections), str(interval),
         str(duration + 1.0), str(ramp)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = child.stdout.readline().strip()  # type: ignore[union-attr]
        if ready != "ready":
            raise RuntimeError(f"the slow connections did not start: {ready!r}")
        latencies, errors = probe(host, port, path, probe_interval, duration)
        out, _ = child.communicate(timeout=duration + 60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    slow = json.loads(out.strip().splitlines()[-1])
    millis = [value * 1000 for value in latencies]
    return {
        "connections": connections,
        "duration": duration,
        "probe": {
            "requests": len(latencies),
            "errors": len(errors),
            "error_samples": errors[:5],
            "p50_ms": round(percentile(millis, 0.50), 2),
            "p99_ms": round(percentile(millis, 0.99), 2),
            "max_ms": round(max(millis), 2) if millis else float("nan"),
        },
        "slow": slow,
    }


def serve(header_timeout: float, processes: int) -> tuple[subprocess.Popen, int, str]:
    """gunicorn -c conf/etamil.py serving the example API on a free port, in a temp dir."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    directory = tempfile.mkdtemp(prefix="slowloris-")
    env = dict(os.environ, PYTHONPATH=str(REPO), ETAMIL_PROGRAM=str(EXAMPLE), ETAMIL_BIND=f"127.0.0.1:{port}",
               ETAMIL_PROCESSES=str(processes), ETAMIL_HEADER_TIMEOUT=str(header_timeout),
               ETAMIL_STATE_DIR=directory, LEDGER_DB=os.path.join(directory, "ledger.db"))
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(REPO / "conf" / "etamil.py")],
                              cwd=directory, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if _read_response(sock)[0] == 200:
                    return server, port, directory
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--trickle"]:
        trickle_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one serving the example API)")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measuring")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a slow connection's lines")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which the slow connections open")
    parser.add_argument("--probe-interval", type=float, default=0.02, help="seconds between normal requests")
    parser.add_argument("--header-timeout", type=float, default=3.0, help="ETAMIL_HEADER_TIMEOUT of a started server")
    parser.add_argument("--processes", type=int, default=2, help="workers of a started server")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    raise_open_files()
    server = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    else:
        server, port, _ = serve(args.header_timeout, args.processes)
        host, path = "127.0.0.1", PROBE_PATH
    try:
        figures = attack(host, port, path, args.connections, args.duration, args.interval, args.probe_interval,
                         args.ramp)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
    if args.json:
        print(json.dumps(figures))
        return 0
    probe_figures, slow = figures["probe"], figures["slow"]
    print(f"slowloris: {args.connections} slow connections, {args.duration:g} s, normal client on {path}")
    print(f"  normal client: {probe_figures['requests']} requests, p50 {probe_figures['p50_ms']} ms, "
          f"p99 {probe_figures['p99_ms']} ms, max {probe_figures['max_ms']} ms, errors {probe_figures['errors']}")
    print(f"  slow connections: opened {slow['opened']}, closed by the server {slow['closed_by_server']} "
          f"({slow['answered_408']} with 408), lifetime min/p50/max {slow['lifetime_min_s']}/"
          f"{slow['lifetime_p50_s']}/{slow['lifetime_max_s']} s, still open at the end {slow['still_open_at_end']} "
          f"(oldest {slow['open_at_end_oldest_s']} s), connect errors {slow['connect_errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
