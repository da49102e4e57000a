"""The stress scenarios that wrk drives, each against our server only (started here, or ETAMIL_URL),
on the read route:

* **ramp**: connections step by step (LEVELS, or RAMP_STEPS) for SECONDS each, until a step has
  errors or a p99 above 100 ms; the knee is the last step that passed.
* **sustained**: DURATION seconds at one connection count (the first of LEVELS, else 100), as
  back-to-back wrk runs of SAMPLE_EVERY seconds: each run is one sample of p50/p99/throughput and
  of every process's RSS; the memory verdict compares the start with the end.
(The spike and the shutdown scenarios need outcomes wrk cannot tell apart: loadtest_spike,
loadtest_shutdown.)
"""

from __future__ import annotations

import time

from .loadtest_measure import SAMPLE_EVERY, Settings, idle_memory, measure, settle, summary_line
from .loadtest_procs import MIB
from .loadtest_progress import Progress
from .loadtest_servers import ROUTES, Server, ours, running

RAMP_STEPS = (10, 25, 50, 100, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 4000, 5000)
P99_LIMIT_MS = 100.0
SUSTAINED_CONNECTIONS = 100
GROWTH_LIMIT = 0.05  # "no memory growth": within 5 % of the start, now and per hour (allocators breathe)
PLAN_HOUR = 3600


def target(settings: Settings) -> Server:
    return running(settings.url) if settings.url else ours()


def start(server: Server, settings: Settings, progress: Progress) -> dict:
    with progress.stage(f"starting {server.title}", 5):
        server.start()
        server.prepare()
        settle(server)
    return {"title": server.title, "command": server.describe(), "started_here": server.started_here,
            "startup_seconds": server.startup_seconds, "idle_before": idle_memory(server)}


def warm_up(server: Server, settings: Settings, progress: Progress, connections: int) -> None:
    with progress.stage(f"warm-up at c={connections}", settings.warmup):
        measure(server, ROUTES["read"], connections, settings.warmup, settings)


def first_level(settings: Settings, default: int) -> int:
    return settings.levels[0] if settings.levels_given else default


# ------------------------------------------------------------------------------ ramp


def failure_reason(step: dict) -> str | None:
    """Why a ramp step failed, or None when it passed."""
    if step["error_total"] > 0:
        kinds = ", ".join(f"{kind} {count}" for kind, count in step["errors"].items() if count)
        return f"{step['error_total']} errors ({kinds})"
    if step["p99_ms"] is None:
        return "no request answered"
    if step["p99_ms"] > P99_LIMIT_MS:
        return f"p99 {step['p99_ms']:.1f} ms > {P99_LIMIT_MS:g} ms"
    return None


def find_knee(steps: list[dict]) -> tuple[int | None, dict | None]:
    """(the last passing step's connections, the first failing step) of a ramp, in step order."""
    knee = None
    for step in steps:
        reason = failure_reason(step)
        if reason is not None:
            return knee, {"connections": step["connections"], "reason": reason}
        knee = step["connections"]
    return knee, None


def run_ramp(settings: Settings, progress: Progress) -> dict:
    steps_planned = settings.levels if settings.levels_given else RAMP_STEPS
    server = target(settings)
    progress.planned = 5 + settings.warmup + len(steps_planned) * (settings.seconds + 1)
    steps: list[dict] = []
    try:
        record = start(server, settings, progress)
        warm_up(server, settings, progress, min(10, steps_planned[0]))
        for connections in steps_planned:
            settle(server)
            with progress.stage(f"ramp · c={connections}", settings.seconds + 1):
                step = measure(server, ROUTES["read"], connections, settings.seconds, settings)
            steps.append(step)
            reason = failure_reason(step)
            progress.say(summary_line(step) + (f"  ✗ {reason}" if reason else ""))
            if reason:
                progress.planned = 0
                break
        record["idle_after"] = idle_memory(server)
    finally:
        server.stop()
    knee, stopped = find_knee(steps)
    notes = []
    if stopped is None:
        notes.append(f"No step failed up to {steps[-1]['connections']:,} connections: the knee is above the last step.")
    return {"kind": "ramp", "server": record, "route": "read", "p99_limit_ms": P99_LIMIT_MS, "steps": steps,
            "knee": knee, "stopped_by": stopped, "notes": notes}


# ------------------------------------------------------------------------------ sustained


def _slope(points: list[dict]) -> float:
    """Least-squares slope of total RSS against time, bytes per second."""
    xs = [p["t"] for p in points]
    ys = [p["rss_total_bytes"] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def memory_growth(samples: list[dict]) -> dict:
    """Is the servers' total RSS still growing? After a warm-up (the first tenth of the run, at
    least one sample): the growth from the mean of the first three samples to the mean of the last
    three, and the trend of the second half (least squares) extrapolated to an hour. Met when both
    stay within GROWTH_LIMIT of the start: memory that settles passes, memory that is still
    climbing at the end does not, however short the run. Needs six samples after the warm-up."""
    skip = max(1, len(samples) // 10)
    steady = samples[skip:]
    if len(steady) < 6:
        return {"judged": False, "reason": f"{len(samples)} samples: too short to judge (needs {skip + 6})"}
    start = sum(s["rss_total_bytes"] for s in steady[:3]) / 3
    end = sum(s["rss_total_bytes"] for s in steady[-3:]) / 3
    growth = (end - start) / start if start else 0.0
    late = _slope(steady[len(steady) // 2:])
    late_hourly = late * PLAN_HOUR / start if start else 0.0
    return {"judged": True, "warmup_samples": skip, "start_bytes": start, "end_bytes": end, "growth": growth,
            "slope_mib_per_hour": _slope(steady) * 3600 / MIB, "late_slope_mib_per_hour": late * 3600 / MIB,
            "late_growth_per_hour": late_hourly,
            "met": growth <= GROWTH_LIMIT and late_hourly <= GROWTH_LIMIT}


def sample_of(run: dict, t: float) -> dict:
    processes = [{"pid": p["pid"], "label": p["label"], "rss_bytes": p["rss_end_bytes"]}
                 for p in run["processes"] if p["rss_end_bytes"] is not None]
    return {"t": t, "rps": run["rps"], "requests": run["requests"], "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"],
            "error_total": run["error_total"], "errors": run["errors"], "processes": processes,
            "rss_total_bytes": sum(p["rss_bytes"] for p in processes),
            "server_cpu_percent": run["server_cpu_percent"]}


def run_sustained(settings: Settings, progress: Progress) -> dict:
    connections = first_level(settings, SUSTAINED_CONNECTIONS)
    chunks = max(1, settings.duration // SAMPLE_EVERY)
    server = target(settings)
    progress.planned = 5 + settings.warmup + chunks * SAMPLE_EVERY
    samples: list[dict] = []
    try:
        record = start(server, settings, progress)
        warm_up(server, settings, progress, min(10, connections))
        began = time.monotonic()
        for index in range(chunks):
            with progress.stage(f"sustained · c={connections} · sample {index + 1}/{chunks}", SAMPLE_EVERY):
                run = measure(server, ROUTES["read"], connections, SAMPLE_EVERY, settings)
            sample = sample_of(run, time.monotonic() - began)
            samples.append(sample)
            progress.say(summary_line(run) + f", all processes {sample['rss_total_bytes'] / MIB:.1f} MiB")
        record["idle_after"] = idle_memory(server)
    finally:
        server.stop()
    growth = memory_growth(samples) if record["idle_before"] else {"judged": False,
                                                                  "reason": "the server's processes are not visible"}
    notes = [f"Each sample is one wrk run of {SAMPLE_EVERY} s (connections re-open between samples); RSS is read "
             "every 0.5 s while it runs and the sample keeps the last reading."]
    if settings.duration < PLAN_HOUR:
        notes.append(f"DURATION={settings.duration}: the plan's run is one hour (DURATION={PLAN_HOUR}).")
    return {"kind": "sustained", "server": record, "route": "read", "connections": connections,
            "duration_seconds": settings.duration, "sample_seconds": SAMPLE_EVERY, "samples": samples,
            "memory": growth, "growth_limit": GROWTH_LIMIT, "errors_total": sum(s["error_total"] for s in samples),
            "notes": notes}
