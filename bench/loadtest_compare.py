"""The default run: both servers, both routes, every level, side by side, and the Phase 2 plan's
success metrics judged from the figures.

Order per server: start it, seed the read account, read its idle memory; then every level of the
read route, then every level of the write route (writes grow the entries table, which the read
route scans: reads go first so they measure the same table at every level); idle memory again;
stop it. The servers run one after the other, never at the same time.
"""

from __future__ import annotations

from .loadtest_measure import Settings, idle_memory, measure, settle, summary_line
from .loadtest_progress import Progress
from .loadtest_servers import ROUTES, Server, baseline, ours, running

LATENCY_LEVEL = 100  # the plan's latency and throughput goals are stated at 100 concurrent requests
CONNECTIONS_GOAL = 1000
P50_GOAL_MS = 20.0
P99_GOAL_MS = 100.0
RATIO_GOAL = 100.0
LOG_TAIL = 4000  # characters of a started server's stderr kept in the results
START_ESTIMATE = 5.0  # seconds to start, seed and stop a server (for the time-left estimate only)


def servers_for(settings: Settings) -> list[Server]:
    return [running(settings.url)] if settings.url else [ours(), baseline()]


def levels_for(server: Server, settings: Settings) -> list[int]:
    if server.name == "baseline":
        return [level for level in settings.levels if level <= settings.baseline_max]
    return list(settings.levels)


def planned_seconds(settings: Settings, servers: list[Server]) -> float:
    total = 0.0
    for server in servers:
        levels = levels_for(server, settings)
        total += START_ESTIMATE + len(ROUTES) * (settings.warmup + len(levels) * (settings.seconds + 1))
    return total


def measure_server(server: Server, settings: Settings, progress: Progress) -> dict:
    with progress.stage(f"starting {server.title}", START_ESTIMATE):
        server.start()
        server.prepare()
        settle(server)
        record = {
            "title": server.title,
            "command": server.describe(),
            "url": server.url if not server.started_here else None,
            "started_here": server.started_here,
            "startup_seconds": server.startup_seconds,
            "closes_after_response": server.closes_after_response,
            "idle_before": idle_memory(server),
            "runs": [],
        }
    levels = levels_for(server, settings)
    for route in ROUTES.values():
        warm = min(10, max(levels))
        with progress.stage(f"{server.name} · {route.name} · warm-up at c={warm}", settings.warmup):
            measure(server, route, warm, settings.warmup, settings)
        for level in levels:
            settle(server)
            with progress.stage(f"{server.name} · {route.name} {route.label} · c={level}", settings.seconds + 1):
                run = measure(server, route, level, settings.seconds, settings)
            record["runs"].append(run)
            progress.say(summary_line(run))
    settle(server)
    record["idle_after"] = idle_memory(server)
    # what the server said on stderr: an error answer's cause (a 500's message) is only there
    record["log_tail"] = server.log_tail(LOG_TAIL) if server.started_here else ""
    return record


def run_compare(settings: Settings, progress: Progress) -> dict:
    servers = servers_for(settings)
    progress.planned = planned_seconds(settings, servers)
    results: dict = {"kind": "compare", "servers": {}, "notes": []}
    for server in servers:
        try:
            results["servers"][server.name] = measure_server(server, settings, progress)
        finally:
            server.stop()
        skipped = [level for level in settings.levels if level not in levels_for(server, settings)]
        if skipped:
            results["notes"].append(
                f"The baseline was not run at {', '.join(map(str, skipped))} connections: it answers one request "
                f"at a time, so levels above {settings.baseline_max} only measure its queue (and its timeouts).")
    if settings.url:
        results["notes"].append("ETAMIL_URL was given: only that server was measured, there is no baseline "
                                "(no ratios, no 100× verdict).")
    results["ratios"] = ratios(results)
    results["metrics"] = metrics(results, settings)
    return results


# ------------------------------------------------------------------------------ figures


def find_run(results: dict, server: str, route: str, connections: int) -> dict | None:
    for run in results["servers"].get(server, {}).get("runs", []):
        if run["route"] == route and run["connections"] == connections:
            return run
    return None


def ratios(results: dict) -> list[dict]:
    """ours / baseline throughput for every (route, level) both servers ran."""
    found = []
    for run in results["servers"].get("ours", {}).get("runs", []):
        other = find_run(results, "baseline", run["route"], run["connections"])
        if other is not None:
            ratio = run["rps"] / other["rps"] if other["rps"] > 0 else None
            found.append({"route": run["route"], "connections": run["connections"], "ours_rps": run["rps"],
                          "baseline_rps": other["rps"], "ratio": ratio})
    return found


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "not met")


def metrics(results: dict, settings: Settings) -> list[dict]:
    """Each success metric of the Phase 2 plan, per route, marked met / not met / not measured."""
    judged = []
    for route in ROUTES:
        top = [run for run in results["servers"].get("ours", {}).get("runs", [])
               if run["route"] == route and run["connections"] >= CONNECTIONS_GOAL]
        if top:
            errors = sum(run["error_total"] for run in top)
            requests = sum(run["requests"] for run in top)
            shown = ", ".join(f"c={run['connections']}: {run['error_total']} errors in {run['requests']:,} requests"
                              for run in top)
            judged.append({"metric": "1,000+ concurrent connections", "route": route,
                           "goal": f"no errors at ≥ {CONNECTIONS_GOAL:,} connections", "value": errors,
                           "figure": shown, "verdict": _verdict(errors == 0 and requests > 0)})
        else:
            judged.append({"metric": "1,000+ concurrent connections", "route": route,
                           "goal": f"no errors at ≥ {CONNECTIONS_GOAL:,} connections", "value": None,
                           "figure": f"no level ≥ {CONNECTIONS_GOAL:,} in LEVELS", "verdict": _verdict(None)})
        run = find_run(results, "ours", route, LATENCY_LEVEL)
        for name, key, goal in (("p50", "p50_ms", P50_GOAL_MS), ("p99", "p99_ms", P99_GOAL_MS)):
            value = run[key] if run else None
            judged.append({
                "metric": f"{name} < {goal:g} ms at {LATENCY_LEVEL} connections", "route": route,
                "goal": f"< {goal:g} ms", "value": value,
                "figure": f"{value:.2f} ms" if value is not None else f"no level {LATENCY_LEVEL} in LEVELS",
                "verdict": _verdict(None if value is None else value < goal),
            })
        ratio = next((r for r in results.get("ratios", []) if r["route"] == route and r["connections"] == LATENCY_LEVEL),
                     None)
        if ratio is not None and ratio["ratio"] is not None:
            figure = (f"{ratio['ratio']:.2f}× ({ratio['ours_rps']:,.0f} / {ratio['baseline_rps']:,.0f} req/s)")
            ok = ratio["ratio"] >= RATIO_GOAL
            value = ratio["ratio"]
        else:
            figure = "no baseline run at 100 connections" if settings.url is None else "no baseline (ETAMIL_URL)"
            ok = value = None
        judged.append({"metric": f"{RATIO_GOAL:g}× the synchronous throughput at {LATENCY_LEVEL} connections",
                       "route": route, "goal": f"≥ {RATIO_GOAL:g}×", "value": value, "figure": figure,
                       "verdict": _verdict(ok)})
    judged.append({"metric": "no memory growth in a one-hour run", "route": "read", "goal": "see SCENARIO=sustained",
                   "value": None, "figure": "measured by `make loadtest SCENARIO=sustained DURATION=3600`",
                   "verdict": _verdict(None)})
    return judged
