"""The shutdown-under-load scenario: SIGTERM to the gunicorn master while keep-alive clients
keep it busy, then the staged drain (docs/OPERATIONS.md, Signals) is judged from the clients' side.

Clients: ``connections`` closed-loop keep-alive clients (loadtest_client), on the read route, from
the start until a second after the master has exited. The TERM comes after SECONDS (at least
2 s). What must hold: no request is *dropped* (one on a connection the server had already answered
on, so had accepted, that got no complete answer), no answer with a status of 400 or more, the
master exits 0 within ETAMIL_GRACEFUL_TIMEOUT, and no first request on a new connection is
*unaccepted* (reset in the kernel's listen queue when the listener closed: the master fences the
listeners first, ``web/listen_fence.py``). What is counted but expected: connects refused once the
listening socket closed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

from .loadtest_client import OUTCOMES, keepalive_client, new_loop, request_bytes
from .loadtest_measure import Settings
from .loadtest_progress import Progress
from .loadtest_scenarios import start, warm_up
from .loadtest_servers import ROUTES, Server, ours
from .loadtest_spike import percentile

CONNECTIONS = 100
AFTER_EXIT = 1.0  # seconds the clients go on after the master exited (they meet refused connects)
EXIT_LIMIT = 40.0  # seconds after the TERM before the tool gives up waiting (the timeout is 30 s)
GRACEFUL_TIMEOUT = 30.0  # ETAMIL_GRACEFUL_TIMEOUT's default: the drain must end within it
BUCKET = 0.2  # seconds per point of the timeline
REQUEST_TIMEOUT = 10.0


class Tally:
    """Every request's outcome, by phase (before / after the TERM), and a timeline of answers."""

    def __init__(self, began: float):
        self.began = began
        self.term_at: float | None = None
        self.counts = {phase: dict.fromkeys(OUTCOMES, 0) for phase in ("before_term", "after_term")}
        self.latencies: list[float] = []
        self.buckets: dict[int, dict[str, int]] = {}

    def record(self, outcome: str, sent: float, finished: float) -> None:
        phase = "after_term" if self.term_at is not None and sent - self.began >= self.term_at else "before_term"
        self.counts[phase][outcome] += 1
        if outcome in ("ok", "status"):
            self.latencies.append((finished - sent) * 1000)
        bucket = self.buckets.setdefault(int((finished - self.began) / BUCKET), {"answered": 0, "failed": 0})
        bucket["answered" if outcome == "ok" else "failed"] += 1

    def totals(self) -> dict[str, int]:
        return {outcome: sum(phase[outcome] for phase in self.counts.values()) for outcome in OUTCOMES}


async def _drive(server: Server, connections: int, term_at: float, tally: Tally, samples: list[dict]) -> dict:
    raw = request_bytes("GET", ROUTES["read"].request.path, server.host, server.port, close=False)
    state = {"stop_at": None, "exited_at": None}

    def running() -> bool:
        return state["stop_at"] is None or time.monotonic() < state["stop_at"]

    clients = [asyncio.ensure_future(keepalive_client(server.host, server.port, raw, running, REQUEST_TIMEOUT,
                                                      tally.record)) for _ in range(connections)]
    while state["stop_at"] is None or time.monotonic() < state["stop_at"]:
        now = time.monotonic() - tally.began
        if tally.term_at is None and now >= term_at:
            tally.term_at = now
            os.kill(server.process.pid, signal.SIGTERM)
        if state["exited_at"] is None:
            rss = server.group.rss()
            samples.append({"t": now, "processes": len(rss), "rss_total_bytes": sum(rss.values())})
            if server.process.poll() is not None:
                server.exit_status = server.process.returncode
                state["exited_at"] = now
                state["stop_at"] = time.monotonic() + AFTER_EXIT
            elif tally.term_at is not None and now - tally.term_at > EXIT_LIMIT:
                state["stop_at"] = time.monotonic()  # give up: the report says it did not exit
        await asyncio.sleep(BUCKET)
    await asyncio.gather(*clients)
    return state


def verdicts(results: dict) -> list[dict]:
    totals, drain = results["outcomes"]["all"], results["drain_seconds"]
    return [
        {"check": "no accepted request dropped",
         "figure": f"{totals['dropped']} dropped, {totals['timeout']} timed out; {totals['ok']:,} answered 2xx",
         "met": totals["dropped"] == 0 and totals["timeout"] == 0},
        {"check": "no first request reset in the listen queue",
         "figure": f"{totals['unaccepted']} unaccepted; {totals['refused']:,} connects refused after the TERM",
         "met": totals["unaccepted"] == 0},
        {"check": "no error answers (status ≥ 400)", "figure": f"{totals['status']} error answers",
         "met": totals["status"] == 0},
        {"check": "the master exits 0", "figure": f"exit status {results['exit_status']}",
         "met": results["exit_status"] == 0},
        {"check": f"the drain ends within ETAMIL_GRACEFUL_TIMEOUT ({GRACEFUL_TIMEOUT:g} s)",
         "figure": f"{drain:.2f} s from SIGTERM to the master's exit" if drain is not None else "did not exit",
         "met": drain is not None and drain <= GRACEFUL_TIMEOUT},
    ]


def run_shutdown(settings: Settings, progress: Progress) -> dict:
    connections = settings.levels[0] if settings.levels_given else CONNECTIONS
    term_at = max(2, settings.seconds)
    server = ours()
    progress.planned = 5 + settings.warmup + term_at + 3
    samples: list[dict] = []
    try:
        record = start(server, settings, progress)
        warm_up(server, settings, progress, min(10, connections))
        with progress.stage(f"shutdown · {connections} keep-alive clients · SIGTERM after {term_at} s", term_at + 3):
            loop = new_loop()
            tally = Tally(time.monotonic())
            try:
                state = loop.run_until_complete(_drive(server, connections, term_at, tally, samples))
            finally:
                loop.close()
    finally:
        server.stop()
    exited = state["exited_at"]
    drain = exited - tally.term_at if exited is not None else None
    timeline = [{"t": (index + 1) * BUCKET, "answered_per_second": bucket["answered"] / BUCKET,
                 "failed_per_second": bucket["failed"] / BUCKET} for index, bucket in sorted(tally.buckets.items())]
    results = {
        "kind": "shutdown", "server": record, "route": "read", "connections": connections,
        "term_at": tally.term_at, "exited_at": exited, "drain_seconds": drain, "exit_status": server.exit_status,
        "outcomes": {**tally.counts, "all": tally.totals()},
        "p50_ms": percentile(tally.latencies, 50), "p99_ms": percentile(tally.latencies, 99),
        "timeline": timeline, "processes": samples,
        "notes": ["Refused connects after the TERM are expected: the master fences the listening socket, "
                  "then it closes; a client whose SYN came after the fence is refused when it retries."],
    }
    results["verdicts"] = verdicts(results)
    progress.say("    → " + "; ".join(f"{v['check']}: {'met' if v['met'] else 'NOT met'} ({v['figure']})"
                               for v in results["verdicts"]))
    return results
