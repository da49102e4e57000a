"""Every kind of report renders and plots from its results (made-up figures here; the real runs
are in test_make_loadtest and test_loadtest_shutdown)."""

from __future__ import annotations

import pytest

from bench.loadtest_report import render
from bench.loadtest_scenarios import find_knee, memory_growth
from bench.loadtest_spike import analyse, schedule

pytestmark = pytest.mark.usefixtures("plotting")
MIB = 1024 * 1024
COMMON = {
    "started": "2026-01-01 00:00:00 UTC", "notes": [],
    "settings": {"seconds": 2, "levels": [10, 100], "duration": 60, "scenario": "x", "url": None,
                 "warmup_seconds": 2, "wrk_timeout_seconds": 5, "baseline_max_connections": 1000},
    "machine": {"cpus": 2, "platform": "Linux", "python": "3.11", "wrk": "wrk 4.1.0", "load_average": 0.5},
    "server": {"title": "ours (gunicorn + etamil worker)", "command": "`gunicorn -c conf/etamil.py`",
               "started_here": True, "startup_seconds": 0.5,
               "idle_before": [{"pid": 1, "label": "master", "rss_bytes": 30 * MIB}],
               "idle_after": [{"pid": 1, "label": "master", "rss_bytes": 31 * MIB}]},
}


def step(connections: int, p99: float, errors: int = 0) -> dict:
    return {"route": "read", "connections": connections, "rps": 1000.0 * connections ** 0.5, "p50_ms": p99 / 3,
            "p95_ms": p99 / 1.5, "p99_ms": p99, "error_total": errors,
            "errors": {"status": 0, "connect": 0, "read": 0, "write": 0, "timeout": errors},
            "server_rss_peak_bytes": 90 * MIB, "server_cpu_percent": 150.0, "wrk_cpu_percent": 8.0}


def check_plot(results: dict, tmp_path) -> None:
    from PIL import Image  # matplotlib's own dependency: there when the plotting fixture passed

    from bench.loadtest_plot import HEIGHT, WIDTH, plot

    path = plot(results, tmp_path / "report.png")
    with Image.open(path) as image:
        assert image.size == (WIDTH, HEIGHT)
        assert len(image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT)) > 50


def test_ramp_report_names_the_knee_and_why_the_next_step_failed(tmp_path):
    steps = [step(10, 5), step(100, 40), step(200, 130)]
    knee, stopped = find_knee(steps)
    results = {**COMMON, "kind": "ramp", "route": "read", "p99_limit_ms": 100.0, "steps": steps, "knee": knee,
               "stopped_by": stopped}
    text = render(results)
    assert "**Knee: 100 connections** (the next step, 200 connections, failed: p99 130.0 ms > 100 ms)." in text
    assert "| 200 | 14,142 | 43.33 | 86.67 | 130.00 | 0 | 90.0 | 150 % | 8 % |" in text
    check_plot(results, tmp_path)


def test_spike_report_says_whether_all_were_answered_and_the_time_back(tmp_path):
    records = []
    for planned, phase in schedule(3, 5, spike_requests=100):
        slow = phase == "spike" and planned < 3.5
        outcome = "refused" if phase == "spike" and planned == 3.0 else "ok"
        latency = None if outcome != "ok" else (40.0 if slow else 2.0)
        records.append({"phase": phase, "planned": planned, "sent": planned,
                        "finished": planned + (latency or 0) / 1000, "latency_ms": latency, "outcome": outcome,
                        "status": 200 if outcome == "ok" else None})
    results = {**COMMON, "kind": "spike", "route": "read", "timeout_seconds": 10.0, "base_seconds": 3,
               "after_seconds": 5, "spike_requests": 100, "recovery_tolerance": "max(…)", "requests": records,
               **analyse(records, spike_requests=100)}
    text = render(results)
    assert "**All 100 spike requests answered: NO** (99 with 2xx" in text
    assert "**Time back to the base p99: 0.50 s**" in text
    assert "| spike | 100 | 99 | 0 | 1 | 0 | 0 | 0 |" in text
    check_plot(results, tmp_path)


def test_sustained_report_judges_memory(tmp_path):
    samples = []
    for index in range(12):
        rss = (100 + 0.05 * (index % 2)) * MIB
        samples.append({"t": 10.0 * (index + 1), "rps": 2000.0, "requests": 20000, "p50_ms": 10.0, "p99_ms": 50.0,
                        "error_total": 0, "errors": {}, "server_cpu_percent": 150.0, "rss_total_bytes": rss,
                        "processes": [{"pid": 1, "label": "master", "rss_bytes": rss}]})
    results = {**COMMON, "kind": "sustained", "route": "read", "connections": 100, "duration_seconds": 120,
               "sample_seconds": 10, "samples": samples, "memory": memory_growth(samples), "growth_limit": 0.05,
               "errors_total": 0}
    text = render(results)
    assert "- No memory growth: **met**." in text
    assert "| 120 | 2,000 | 10.00 | 50.00 | 0 | 100.0 | 150 % |" in text
    check_plot(results, tmp_path)
