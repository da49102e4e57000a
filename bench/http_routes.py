"""Real routes over HTTP, ours against the Python stacks a user would deploy instead, in one run.

    python3 bench/http_routes.py            # bash bench/http_routes.sh

The same four routes (bench/routes/routes.qmz for us, bench/apps/asgi_routes.py for the peers: bare
ASGI, no framework), 2 worker processes each, wrk on the same machine:

* hello with a path parameter, c=100 and c=1000;
* ``GET /gst?amount=1000.50&rate=18`` (decimals from the query, a rounded tax, JSON out), c=100;
* ``POST /entry`` with an 80-byte JSON entry (JSON in, a tax, JSON out), c=100;
* ``GET /db``: 50 ms in PostgreSQL, with the same pool cap per worker (``BENCH_DB_POOL_MAX``, 32:
  ``ETAMIL_DB_POOL_MAX`` for us, an asyncpg pool in the peers), c=64.

Servers: ours (``gunicorn -c conf/etamil.py``), gunicorn + uvicorn's worker, granian (ASGI). Two
rounds, the order of the servers reversed in the second, so neither gains from going first; the
ratios are printed per round against the goals of the performance issue. ``BENCH_DURATION``
(default 10s) and ``BENCH_WARMUP`` (2s) as in bench/http_bench.py; ``BENCH_ROUNDS`` (2);
``BENCH_CASES`` picks cases by label and connections (``hello:1000``, or ``hello`` for both
hello cases; comma-separated; default all).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_bench import (  # noqa: E402
    DURATION,
    PG_URL,
    WARMUP,
    Result,
    Served,
    free_port,
    verdict,
    wrk,
)

ROUTES = REPO / "bench" / "routes" / "routes.qmz"
POOL_MAX = os.environ.get("BENCH_DB_POOL_MAX", "32")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
ENTRY = '{"account": "cash", "amount": "1250.50", "note": "rent for the month of june!!"}'  # 80 bytes

# (label, path, connections, wrk Lua script or None)
CASES = [
    ("hello", "/hello/ravi", 100, None),
    ("hello", "/hello/ravi", 1000, None),
    ("gst", "/gst?amount=1000.50&rate=18", 100, None),
    ("entry", "/entry", 100, "post"),
    ("db", "/db", 64, None),
]


def selected(cases: list, wanted: str | None) -> list:
    """The cases ``BENCH_CASES`` names (``label`` or ``label:connections``, comma-separated)."""
    if not wanted:
        return cases
    names = {name.strip() for name in wanted.split(",") if name.strip()}
    chosen = [case for case in cases if case[0] in names or f"{case[0]}:{case[2]}" in names]
    if not chosen:
        known = ", ".join(f"{case[0]}:{case[2]}" for case in cases)
        raise SystemExit(f"BENCH_CASES={wanted!r} names no case (known: {known})")
    return chosen


CASES = selected(CASES, os.environ.get("BENCH_CASES"))
GOALS = {  # label: (least ratio to uvicorn, least ratio to granian)
    "hello": (1.25, 0.9),
    "gst": (1.0, 0.6),
    "entry": (1.0, 0.6),
}


def post_script(directory: Path) -> Path:
    script = directory / "post.lua"
    body = ENTRY.replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n',
        encoding="utf-8",
    )
    return script


def ours(workdir: Path) -> Served:
    port = free_port()
    env = {
        "ETAMIL_PROGRAM": str(ROUTES),
        "ETAMIL_BIND": f"127.0.0.1:{port}",
        "ETAMIL_PROCESSES": "2",
        "ETAMIL_STATE_DIR": str(workdir),
        "ETAMIL_LOG_LEVEL": "warning",
        "ETAMIL_DB_POOL_MAX": POOL_MAX,
        "ETAMIL_DB_IDLE": POOL_MAX,
        "BENCH_PG_URL": PG_URL,
    }
    return Served("ours", [sys.executable, "-m", "gunicorn", "-c", "conf/etamil.py"], port, env)


def uvicorn() -> Served:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "2",
        "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "5", "--backlog", "2048",
        "bench.apps.asgi_routes:app",
    ]
    env = {"PYTHONWARNINGS": "ignore", "BENCH_DB_POOL_MAX": POOL_MAX, "BENCH_PG_URL": PG_URL}
    return Served("gunicorn + uvicorn", command, port, env)


def granian() -> Served:
    port = free_port()
    command = [
        sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "2", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--backlog", "2048", "bench.apps.asgi_routes:app",
    ]
    env = {"BENCH_DB_POOL_MAX": POOL_MAX, "BENCH_PG_URL": PG_URL}
    return Served("granian", command, port, env)


def measure(server: Served, scripts: dict[str, Path]) -> dict[tuple[str, int], Result]:
    results: dict[tuple[str, int], Result] = {}
    server.start().wait_ready(path="/hello/ready")
    try:
        for label, path, connections, script in CASES:
            url = f"http://127.0.0.1:{server.port}{path}"
            extra = ["-s", str(scripts[script])] if script else []
            wrk(server.name, url, connections, duration=WARMUP, extra=extra)
            result = wrk(f"{server.name} {label}", url, connections, extra=extra)
            results[(label, connections)] = result
            print(result.line(), flush=True)
    finally:
        server.stop()
    return results


def report(round_number: int, results: dict[str, dict[tuple[str, int], Result]]) -> None:
    mine, base, fast = results["ours"], results["gunicorn + uvicorn"], results["granian"]
    print(f"\nround {round_number}: ratios (ours / peer, throughput)")
    for label, _, connections, _ in CASES:
        key = (label, connections)
        ratio_u = mine[key].rps / base[key].rps
        ratio_g = mine[key].rps / fast[key].rps
        name = f"{label} c={connections}"
        if label in GOALS:
            goal_u, goal_g = GOALS[label]
            print(verdict(f"{name}: ours / uvicorn", ratio_u, goal_u))
            print(verdict(f"{name}: ours / granian", ratio_g, goal_g))
        else:  # the database route: against the asyncpg peers
            print(verdict(f"{name}: ours / uvicorn + asyncpg", ratio_u, 0.95))
            print(verdict(f"{name}: ours / granian + asyncpg", ratio_g, 0.95))
    hello_1000 = mine.get(("hello", 1000))
    if hello_1000 is not None:
        print(verdict("hello c=1000: ours p99 (ms)", hello_1000.p99_ms, 100, above=False))
        print(verdict("hello c=1000: ours errors", hello_1000.errors, 0, above=False))


def main() -> int:
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            print(f"{tool} is needed: apt-get install {tool}", file=sys.stderr)
            return 2
    try:
        import asyncpg  # noqa: F401
        import granian as _granian  # noqa: F401
    except ImportError:
        print("the peers need the bench extra: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        scripts = {"post": post_script(workdir)}
        print(f"real routes, 2 workers each, wrk -t2 -d{DURATION} (warm-up {WARMUP}), {ROUNDS} rounds", flush=True)
        for number in range(1, ROUNDS + 1):
            makers = [ours, uvicorn, granian]
            if number % 2 == 0:
                makers.reverse()
            results: dict[str, dict[tuple[str, int], Result]] = {}
            print(f"\n-- round {number}", flush=True)
            for make in makers:
                server = make(workdir) if make is ours else make()
                results[server.name] = measure(server, scripts)
            report(number, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
