"""report.md from a run's results (the same dict that is written to results.json): the plan's
tables side by side, success metrics with their figures, memory and CPU per process. Rendering
only: every figure comes from the results, nothing is measured here."""

from __future__ import annotations

from .loadtest_format import mib, ms, notes, percent, rps, table, verdict_mark
from .loadtest_report_scenarios import RENDERERS
from .loadtest_servers import ROUTES, SEED_ENTRIES

SERVER_ORDER = ("ours", "baseline")


# ------------------------------------------------------------------------------ shared sections


def how_measured(results: dict) -> list[str]:
    settings, machine = results["settings"], results["machine"]
    lines = ["## How it was measured", ""]
    for name in SERVER_ORDER:
        server = results["servers"].get(name)
        if server:
            lines.append(f"- **{server['title']}**: {server['command']}")
    lines += [
        "- The program: examples/ledger_api.qmz; a server the tool starts gets a free loopback port and its own "
        "temporary folder for the SQLite database (`LEDGER_DB`). The servers run one after the other.",
        f"- read route: `{ROUTES['read'].label}` (the account is seeded with {SEED_ENTRIES} entries); write route: "
        f"`{ROUTES['write'].label}` with the body `{ROUTES['write'].request.body}`.",
        f"- Each level: `wrk -t<min(2,c)> -c<c> -d{settings['seconds']}s --timeout {settings['wrk_timeout_seconds']}s` "
        f"with a Lua `done()` hook for exact percentiles; a {settings['warmup_seconds']} s unmeasured warm-up "
        "before each route's levels; the server is left to go quiet before each level.",
        f"- Machine: {machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}, {machine['wrk']}; "
        f"load average {machine['load_average']:.2f} when the run began (other work on the machine skews the "
        "figures). wrk runs on the same machine and takes CPU from the server (its share is in the CPU table).",
        "",
    ]
    return lines


def error_note(results: dict) -> list[str]:
    lines = [
        "Errors: *non-2xx* is wrk's status count (an answer with status 400 or more); *connect*, *read*, *write* "
        "and *timeout* are wrk's socket errors (timeout: no answer within the timeout)."
    ]
    if any(server.get("closes_after_response") for server in results["servers"].values()):
        lines[0] += (
            " The baseline closes every connection after its answer without saying `Connection: close`; wrk "
            "counts each such close as a read error, so for the baseline only the read errors beyond the number "
            "of answered requests are counted (wrk's raw count is `wrk_read_raw` in results.json).")
    return lines + [""]


def errors_table(results: dict, runs_by_server: dict[str, list[dict]]) -> list[str]:
    rows = []
    for name, runs in runs_by_server.items():
        for run in runs:
            errors = run["errors"]
            rows.append([name, run["route"], str(run["connections"]), f"{run['requests']:,}", str(errors["status"]),
                         str(errors["connect"]), str(errors["read"]), str(errors["write"]), str(errors["timeout"])])
    return table(["server", "route", "connections", "answered", "non-2xx", "connect", "read", "write", "timeout"],
                 rows)


def memory_tables(results: dict) -> list[str]:
    lines = ["## Memory (RSS in MiB: idle, and the peak while each level ran)", ""]
    for name in SERVER_ORDER:
        server = results["servers"].get(name)
        if not server:
            continue
        if not server["idle_before"] and not any(run["processes"] for run in server["runs"]):
            lines += [f"{server['title']}: its processes are not visible from here (not on this machine).", ""]
            continue
        labels: list[str] = []
        for entry in server["idle_before"] + [p for run in server["runs"] for p in run["processes"]] + \
                server["idle_after"]:
            if entry["label"] not in labels:
                labels.append(entry["label"])
        header = ["process", "idle before"] + [f"{run['route']} c={run['connections']}" for run in server["runs"]] + \
            ["idle after"]
        rows = []
        for label in labels + ["all"]:
            def pick(entries: list[dict], key: str, label: str = label) -> str:
                values = [e[key] for e in entries if (label == "all" or e["label"] == label) and e[key] is not None]
                return mib(sum(values)) if values else "—"

            row = [f"**{label}**" if label == "all" else label, pick(server["idle_before"], "rss_bytes")]
            row += [pick(run["processes"], "rss_peak_bytes") for run in server["runs"]]
            row.append(pick(server["idle_after"], "rss_bytes"))
            rows.append(row)
        lines += [f"### {server['title']}", ""] + table(header, rows)
    return lines


def cpu_tables(results: dict) -> list[str]:
    lines = ["## CPU (% of one core while each level ran)", ""]
    for name in SERVER_ORDER:
        server = results["servers"].get(name)
        if not server:
            continue
        labels: list[str] = []
        for run in server["runs"]:
            for process in run["processes"]:
                if process["label"] not in labels:
                    labels.append(process["label"])
        rows = []
        for run in server["runs"]:
            wall = run["wall_seconds"]
            by_label = {}
            for process in run["processes"]:
                by_label[process["label"]] = by_label.get(process["label"], 0.0) + process["cpu_seconds"]
            rows.append([run["route"], str(run["connections"])]
                        + [percent(100 * by_label[label] / wall) if label in by_label else "—" for label in labels]
                        + [percent(run["server_cpu_percent"]), percent(run["wrk_cpu_percent"])])
        lines += [f"### {server['title']}", ""]
        lines += table(["route", "connections"] + labels + ["server total", "wrk"], rows)
    return lines


# ------------------------------------------------------------------------------ the comparison


def comparison_tables(results: dict) -> list[str]:
    ours_runs = results["servers"].get("ours", {}).get("runs", [])
    base_runs = results["servers"].get("baseline", {}).get("runs", [])
    lines = []
    for route in ROUTES.values():
        lines += [f"## Throughput and latency: {route.name} route (`{route.label}`)", ""]
        levels = sorted({run["connections"] for run in ours_runs + base_runs if run["route"] == route.name})
        rows = []
        for level in levels:
            mine = next((r for r in ours_runs if r["route"] == route.name and r["connections"] == level), None)
            base = next((r for r in base_runs if r["route"] == route.name and r["connections"] == level), None)
            ratio = next((r["ratio"] for r in results["ratios"]
                          if r["route"] == route.name and r["connections"] == level), None)

            def get(run: dict | None, key: str, fmt) -> str:
                return fmt(run[key]) if run else "not run"

            rows.append([
                str(level), get(mine, "rps", rps), get(base, "rps", rps),
                f"{ratio:.2f}×" if ratio is not None else "—",
                get(mine, "p50_ms", ms), get(mine, "p95_ms", ms), get(mine, "p99_ms", ms),
                get(base, "p50_ms", ms), get(base, "p95_ms", ms), get(base, "p99_ms", ms),
                get(mine, "error_total", str), get(base, "error_total", str),
            ])
        lines += table(["connections", "ours req/s", "baseline req/s", "ours / baseline",
                        "ours p50 ms", "ours p95 ms", "ours p99 ms",
                        "baseline p50 ms", "baseline p95 ms", "baseline p99 ms",
                        "ours errors", "baseline errors"], rows)
    return lines


def metrics_table(results: dict) -> list[str]:
    rows = [[m["metric"], m["route"], m["goal"], m["figure"], verdict_mark(m["verdict"])] for m in results["metrics"]]
    return ["## Success metrics of the Phase 2 plan", ""] + table(["metric", "route", "goal", "figure", "verdict"], rows)


def server_logs(results: dict, lines_shown: int = 8) -> list[str]:
    """The last lines a server wrote on stderr, for a server whose runs had errors."""
    lines = []
    for name in SERVER_ORDER:
        server = results["servers"].get(name)
        if not server or not server.get("log_tail") or not any(run["error_total"] for run in server["runs"]):
            continue
        tail = [line for line in server["log_tail"].splitlines() if line.strip()][-lines_shown:]
        lines += [f"### {server['title']}: the last lines of its stderr", "", "```"] + tail + ["```", ""]
    return (["## Server logs (runs with errors)", ""] + lines) if lines else []


def render_compare(results: dict) -> str:
    title = ("# Load test: ours against the synchronous baseline" if "baseline" in results["servers"]
             else "# Load test: a running server")
    lines = [title, "", f"{results['started']} · figures in results.json, plots in report.png", ""]
    lines += metrics_table(results)
    lines += comparison_tables(results)
    lines += ["## Errors by kind", ""] + error_note(results)
    lines += errors_table(results, {name: results["servers"][name]["runs"]
                                    for name in SERVER_ORDER if name in results["servers"]})
    lines += server_logs(results)
    lines += memory_tables(results)
    lines += cpu_tables(results)
    lines += how_measured(results)
    lines += notes(results)
    return "\n".join(lines)


def render(results: dict) -> str:
    """report.md for any kind of run."""
    if results["kind"] == "compare":
        return render_compare(results)
    return RENDERERS[results["kind"]](results)
