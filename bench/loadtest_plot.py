"""report.png from a run's results (matplotlib, the ``loadtest`` extra; drawn off-screen with Agg).
Every plot is WIDTH x HEIGHT pixels so a reader (and the test) knows what to expect."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the plot is a file
import matplotlib.pyplot as plt  # noqa: E402

from .loadtest_procs import MIB  # noqa: E402

WIDTH, HEIGHT, DPI = 1200, 500, 100
P99_GOAL_MS = 100.0
STYLE = {  # (server, route) -> colour, line style
    ("ours", "read"): ("tab:blue", "-"),
    ("ours", "write"): ("tab:blue", "--"),
    ("baseline", "read"): ("tab:orange", "-"),
    ("baseline", "write"): ("tab:orange", "--"),
}


def _figure(columns: int = 2):
    figure, axes = plt.subplots(1, columns, figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    return figure, axes


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def _connections_axis(axis, levels: list[int]) -> None:
    axis.set_xscale("log")
    axis.set_xticks(levels)
    axis.set_xticklabels([f"{level:,}" for level in levels])
    axis.set_xlabel("concurrent connections")
    axis.grid(True, which="both", alpha=0.3)


def plot_compare(results: dict, path: Path) -> Path:
    """Throughput and p99 against connections, both servers, both routes."""
    figure, (left, right) = _figure()
    levels: set[int] = set()
    for name, server in results["servers"].items():
        for route in ("read", "write"):
            runs = sorted((run for run in server["runs"] if run["route"] == route), key=lambda run: run["connections"])
            if not runs:
                continue
            colour, style = STYLE.get((name, route), ("tab:gray", "-"))
            label = f"{name} · {route}"
            xs = [run["connections"] for run in runs]
            levels.update(xs)
            left.plot(xs, [run["rps"] for run in runs], style, color=colour, marker="o", label=label)
            timed = [run for run in runs if run["p99_ms"] is not None]
            right.plot([run["connections"] for run in timed], [run["p99_ms"] for run in timed], style, color=colour,
                       marker="o", label=label)
    ordered = sorted(levels)
    left.set_title("throughput")
    left.set_ylabel("requests per second")
    left.set_ylim(bottom=0)
    right.set_title("p99 latency")
    right.set_ylabel("ms")
    right.set_yscale("log")
    right.axhline(P99_GOAL_MS, color="tab:red", linestyle=":", label=f"goal {P99_GOAL_MS:g} ms")
    for axis in (left, right):
        _connections_axis(axis, ordered)
        axis.legend(loc="best", fontsize="small")
    return _save(figure, path)


def plot_ramp(results: dict, path: Path) -> Path:
    figure, (left, right) = _figure()
    steps = results["steps"]
    xs = [step["connections"] for step in steps]
    left.plot(xs, [step["rps"] for step in steps], "-", color="tab:blue", marker="o", label="ours · read")
    timed = [step for step in steps if step["p99_ms"] is not None]
    right.plot([s["connections"] for s in timed], [s["p99_ms"] for s in timed], "-", color="tab:blue", marker="o",
               label="ours · read")
    right.axhline(P99_GOAL_MS, color="tab:red", linestyle=":", label=f"limit {P99_GOAL_MS:g} ms")
    knee = results.get("knee")
    for axis in (left, right):
        if knee:
            axis.axvline(knee, color="tab:green", linestyle="--", label=f"knee: {knee:,} connections")
        _connections_axis(axis, xs)
        axis.legend(loc="best", fontsize="small")
    left.set_title("ramp: throughput")
    left.set_ylabel("requests per second")
    left.set_ylim(bottom=0)
    right.set_title("ramp: p99 latency")
    right.set_ylabel("ms")
    right.set_yscale("log")
    return _save(figure, path)


def plot_spike(results: dict, path: Path) -> Path:
    """Every request's latency against the time it was sent, the spike's second shaded."""
    figure, (left, right) = _figure()
    requests = results["requests"]
    by_phase = {"base": "tab:blue", "spike": "tab:orange", "after": "tab:green"}
    for phase, colour in by_phase.items():
        answered = [r for r in requests if r["phase"] == phase and r["latency_ms"] is not None]
        left.scatter([r["sent"] for r in answered], [r["latency_ms"] for r in answered], s=6, color=colour,
                     label=f"{phase} ({len(answered)} answered)")
    failed = [r for r in requests if r["outcome"] != "ok"]
    if failed:
        left.scatter([r["sent"] for r in failed], [results["timeout_seconds"] * 1000] * len(failed), s=12,
                     color="tab:red", marker="x", label=f"not answered ({len(failed)})")
    spike = results["spike"]
    left.axvspan(spike["starts"], spike["starts"] + spike["window_seconds"], color="tab:orange", alpha=0.15)
    if results["base"]["p99_ms"] is not None:
        left.axhline(results["base"]["p99_ms"], color="tab:blue", linestyle=":", label="base p99")
    left.set_yscale("log")
    left.set_xlabel("seconds since the start")
    left.set_ylabel("latency, ms")
    left.set_title("spike: latency of every request")
    left.legend(loc="best", fontsize="small")
    left.grid(True, alpha=0.3)
    # right: requests in flight over time (sent minus finished), the spike's load as the server saw it
    events = sorted([(r["sent"], 1) for r in requests] + [(r["finished"], -1) for r in requests])
    xs, ys, level = [], [], 0
    for moment, change in events:
        level += change
        xs.append(moment)
        ys.append(level)
    right.step(xs, ys, where="post", color="tab:orange")
    right.set_xlabel("seconds since the start")
    right.set_ylabel("requests in flight")
    right.set_title("spike: requests in flight")
    right.grid(True, alpha=0.3)
    return _save(figure, path)


def plot_sustained(results: dict, path: Path) -> Path:
    figure, (left, right) = _figure()
    samples = results["samples"]
    xs = [sample["t"] for sample in samples]
    labels: list[str] = []
    for sample in samples:
        for process in sample["processes"]:
            if process["label"] not in labels:
                labels.append(process["label"])
    for label in labels:
        left.plot(xs, [sum(p["rss_bytes"] for p in s["processes"] if p["label"] == label) / MIB for s in samples],
                  "-", label=label)
    left.plot(xs, [sample["rss_total_bytes"] / MIB for sample in samples], "-", color="black", linewidth=2,
              label="all")
    left.set_title("sustained: resident memory")
    left.set_ylabel("MiB")
    left.set_ylim(bottom=0)
    timed = [sample for sample in samples if sample["p99_ms"] is not None]
    right.plot([s["t"] for s in timed], [s["p99_ms"] for s in timed], "-", color="tab:blue", marker=".",
               label="p99")
    right.plot([s["t"] for s in timed], [s["p50_ms"] for s in timed], "-", color="tab:cyan", marker=".",
               label="p50")
    right.axhline(P99_GOAL_MS, color="tab:red", linestyle=":", label=f"goal {P99_GOAL_MS:g} ms")
    right.set_title(f"sustained: latency per {results['sample_seconds']} s sample")
    right.set_ylabel("ms")
    right.set_ylim(bottom=0)
    for axis in (left, right):
        axis.set_xlabel("seconds since the start")
        axis.grid(True, alpha=0.3)
        axis.legend(loc="best", fontsize="small")
    return _save(figure, path)


def plot_shutdown(results: dict, path: Path) -> Path:
    """Answers and failures per second around the TERM; the server's processes and memory."""
    figure, (left, right) = _figure()
    timeline = results["timeline"]
    xs = [point["t"] for point in timeline]
    left.plot(xs, [point["answered_per_second"] for point in timeline], "-", color="tab:blue", label="answered 2xx")
    left.plot(xs, [point["failed_per_second"] for point in timeline], "-", color="tab:red",
              label="anything else (refused, unaccepted, dropped…)")
    left.set_ylabel("requests per second")
    left.set_ylim(bottom=0)
    samples = results["processes"]
    right.plot([s["t"] for s in samples], [s["processes"] for s in samples], "-", color="tab:blue",
               label="server processes")
    right.set_ylabel("processes alive")
    right.set_ylim(bottom=0)
    twin = right.twinx()
    twin.plot([s["t"] for s in samples], [s["rss_total_bytes"] / MIB for s in samples], "-", color="black",
              label="RSS, all (MiB)")
    twin.set_ylabel("MiB")
    twin.set_ylim(bottom=0)
    twin.legend(loc="lower left", fontsize="small")
    for axis in (left, right):
        if results["term_at"] is not None:
            axis.axvline(results["term_at"], color="tab:red", linestyle="--", label="SIGTERM")
        if results["exited_at"] is not None:
            axis.axvline(results["exited_at"], color="tab:green", linestyle="--", label="master exited")
        axis.set_xlabel("seconds since the load started")
        axis.grid(True, alpha=0.3)
        axis.legend(loc="upper right", fontsize="small")
    left.set_title("shutdown under load: answers")
    right.set_title("shutdown under load: the server")
    return _save(figure, path)


PLOTS = {"compare": plot_compare, "ramp": plot_ramp, "spike": plot_spike, "sustained": plot_sustained,
         "shutdown": plot_shutdown}


def plot(results: dict, path: Path) -> Path:
    return PLOTS[results["kind"]](results, path)
