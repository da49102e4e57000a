"""The spike scenario: from 1 request/s to 1,000 requests within one second, and back.

wrk keeps a fixed number of connections busy (closed loop): it cannot send at a rate. This is a
small open-loop generator instead: every request is sent at its scheduled moment on a connection
of its own (``Connection: close``), whatever the server is doing, as independent clients would.
Each request ends in one outcome of loadtest_client: ok, status (another status), refused,
connect (another connect failure), unaccepted (connected and sent, but closed or reset before a
complete answer), timeout.

Phases: *base* (1 request/s for SECONDS, at least 3 s) gives the base p99; *spike* sends
SPIKE_REQUESTS spread evenly over SPIKE_WINDOW seconds; *after* goes back to 1 request/s for
max(5, SECONDS) s. Reported: whether every spike request was answered, the spike's latencies, and
the time back to the base p99: from the spike's first request to the first request after the
spike's last slow or failed one that was answered within the base p99 (with a tolerance,
RECOVERY_TOLERANCE).
"""

from __future__ import annotations

import asyncio
import math
import time

from .loadtest_client import OUTCOMES, new_loop, one_request, request_bytes
from .loadtest_measure import Settings, idle_memory, settle
from .loadtest_progress import Progress
from .loadtest_scenarios import target
from .loadtest_servers import ROUTES

SPIKE_REQUESTS = 1000
SPIKE_WINDOW = 1.0
BASE_RATE = 1.0  # requests per second
TIMEOUT = 10.0  # seconds for one request, connect included


def recovery_threshold(base_p99_ms: float) -> float:
    """What counts as "back to the base p99": a quarter above it, and at least 1 ms above it (a
    base p99 of a fraction of a millisecond on loopback would otherwise be lost in the jitter)."""
    return max(base_p99_ms * 1.25, base_p99_ms + 1.0)


RECOVERY_TOLERANCE = "max(1.25 × base p99, base p99 + 1 ms)"


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def schedule(base_seconds: int, after_seconds: int, spike_requests: int = SPIKE_REQUESTS,
             window: float = SPIKE_WINDOW) -> list[tuple[float, str]]:
    """(seconds from the start, phase) of every request, in order."""
    plan = [(i / BASE_RATE, "base") for i in range(int(base_seconds * BASE_RATE))]
    spike_start = base_seconds
    plan += [(spike_start + i * window / spike_requests, "spike") for i in range(spike_requests)]
    after_start = spike_start + window
    plan += [(after_start + i / BASE_RATE, "after") for i in range(int(after_seconds * BASE_RATE))]
    return plan


async def drive(host: str, port: int, plan: list[tuple[float, str]], timeout: float = TIMEOUT) -> list[dict]:
    """Send every planned request at its moment (open loop); every record's times are seconds from
    the start."""
    raw = request_bytes("GET", ROUTES["read"].request.path, host, port, close=True)
    records: list[dict] = []
    tasks = []
    began = time.monotonic()

    async def send(planned: float, phase: str) -> None:
        sent = time.monotonic() - began
        outcome, status = await one_request(host, port, raw, timeout)
        finished = time.monotonic() - began
        records.append({"phase": phase, "planned": planned, "sent": sent, "finished": finished,
                        "latency_ms": (finished - sent) * 1000 if outcome in ("ok", "status") else None,
                        "outcome": outcome, "status": status})

    index = 0
    while index < len(plan):
        now = time.monotonic() - began
        # launch everything that is due (a late loop catches up at once, the rate holds)
        while index < len(plan) and plan[index][0] <= now:
            tasks.append(asyncio.ensure_future(send(*plan[index])))
            index += 1
        if index < len(plan):
            await asyncio.sleep(max(0.0, min(plan[index][0] - now, 0.05)))
    await asyncio.gather(*tasks)
    return sorted(records, key=lambda record: record["sent"])


def phase_summary(records: list[dict]) -> dict:
    latencies = [r["latency_ms"] for r in records if r["latency_ms"] is not None]
    counts = {outcome: sum(1 for r in records if r["outcome"] == outcome) for outcome in OUTCOMES}
    return {"requests": len(records), "outcomes": counts, "answered": counts["ok"] + counts["status"],
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies) if latencies else None}


def _good(record: dict, threshold_ms: float) -> bool:
    return record["outcome"] == "ok" and record["latency_ms"] <= threshold_ms


def recovery_seconds(records: list[dict], spike_start: float, threshold_ms: float) -> float | None:
    """From the spike's start to the first request, sent after the spike's last bad one (failed,
    or slower than ``threshold_ms``), that was answered 2xx within ``threshold_ms``: 0 when no spike
    request was bad, None when no good request followed. A slow probe long after the spike is the
    machine's noise, not the spike's doing: only the spike's own bad requests move the mark."""
    bad = [r["sent"] for r in records if r["phase"] == "spike" and not _good(r, threshold_ms)]
    if not bad:
        return 0.0
    last_bad = max(bad)
    for record in records:  # in the order sent
        if record["sent"] > last_bad and _good(record, threshold_ms):
            return record["sent"] - spike_start
    return None


def analyse(records: list[dict], spike_requests: int = SPIKE_REQUESTS) -> dict:
    base = [r for r in records if r["phase"] == "base"]
    spike = [r for r in records if r["phase"] == "spike"]
    after = [r for r in records if r["phase"] == "after"]
    base_summary = phase_summary(base)
    spike_summary = phase_summary(spike)
    spike_start = min(r["sent"] for r in spike)
    spike_summary.update({
        "starts": spike_start,
        "window_seconds": SPIKE_WINDOW,
        "sent_within_seconds": max(r["sent"] for r in spike) - spike_start,
        "all_answered": spike_summary["answered"] == spike_requests,
        "all_ok": spike_summary["outcomes"]["ok"] == spike_requests,
        "drained_seconds": max(r["finished"] for r in spike) - spike_start,
    })
    threshold = recovery_threshold(base_summary["p99_ms"]) if base_summary["p99_ms"] is not None else None
    recovery = recovery_seconds(records, spike_start, threshold) if threshold is not None else None
    return {"base": base_summary, "spike": spike_summary, "after": phase_summary(after), "threshold_ms": threshold,
            "recovery_seconds": recovery}


def run_spike(settings: Settings, progress: Progress) -> dict:
    base_seconds = max(3, settings.seconds)
    after_seconds = max(5, settings.seconds)
    plan = schedule(base_seconds, after_seconds)
    server = target(settings)
    progress.planned = 5 + base_seconds + SPIKE_WINDOW + after_seconds
    try:
        with progress.stage(f"starting {server.title}", 5):
            server.start()
            server.prepare()
            settle(server)
        record = {"title": server.title, "command": server.describe(), "started_here": server.started_here,
                  "startup_seconds": server.startup_seconds, "idle_before": idle_memory(server)}
        total = plan[-1][0] + 1
        with progress.stage(f"spike · {base_seconds} s at 1 request/s, {SPIKE_REQUESTS:,} requests in "
                            f"{SPIKE_WINDOW:g} s, {after_seconds} s at 1 request/s", total):
            loop = new_loop()
            try:
                records = loop.run_until_complete(drive(server.host, server.port, plan))
            finally:
                loop.close()
        record["idle_after"] = idle_memory(server)
    finally:
        server.stop()
    results = {"kind": "spike", "server": record, "route": "read", "timeout_seconds": TIMEOUT,
               "base_seconds": base_seconds, "after_seconds": after_seconds, "spike_requests": SPIKE_REQUESTS,
               "recovery_tolerance": RECOVERY_TOLERANCE, "requests": records, "notes": []}
    results.update(analyse(records))
    spike = results["spike"]
    progress.say(f"    → spike: {spike['answered']:,} of {SPIKE_REQUESTS:,} answered "
                 f"({spike['outcomes']['ok']:,} 2xx), p99 {spike['p99_ms'] or 0:.1f} ms, back to the base p99 after "
                 + (f"{results['recovery_seconds']:.2f} s" if results["recovery_seconds"] is not None else "— (never)"))
    if spike["sent_within_seconds"] > SPIKE_WINDOW * 1.1:
        results["notes"].append(f"The generator needed {spike['sent_within_seconds']:.2f} s to send the spike "
                                f"(planned {SPIKE_WINDOW:g} s): the machine could not keep the rate.")
    return results
