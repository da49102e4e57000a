"""`make loadtest` in its short form, run exactly as a person would (through the repository's
Makefile): it starts both servers, measures, and leaves a report, a PNG and a results.json that
hold every figure. VENV and PYTHON point make at the interpreter running the tests (the target
installs the loadtest extra into it when matplotlib is missing)."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LEVELS = (1, 10)
ROUTES = ("read", "write")
TAB_BLUE, TAB_ORANGE = (31, 119, 180), (255, 127, 14)  # matplotlib's first two colours: ours, baseline


@pytest.fixture(scope="module")
def outputs():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {name: value for name, value in os.environ.items() if name not in ("SECONDS", "LEVELS", "MAKEFLAGS")}
    command = ["make", "--no-print-directory", "-C", str(REPO), "loadtest", "SECONDS=2", 'LEVELS=1 10',
               f"VENV={sys.prefix}", f"PYTHON={sys.executable}"]
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if finished.returncode != 0 and shutil.which("wrk") is None and os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") != "1":
        pytest.skip("wrk is not installed and could not be installed here")
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    match = re.search(r"^report: (\S+)$", finished.stdout, re.M)
    assert match, finished.stdout[-3000:]
    report = (REPO / match.group(1)).resolve()
    folder = report.parent
    assert folder.parent == (REPO / "loadtest-results").resolve()
    yield {"stdout": finished.stdout, "report": report, "folder": folder,
           "results": json.loads((folder / "results.json").read_text(encoding="utf-8"))}
    shutil.rmtree(folder)


def test_progress_names_every_stage_and_the_time_left(outputs):
    stdout = outputs["stdout"]
    for server in ("ours", "baseline"):
        for route in ROUTES:
            for level in LEVELS:
                assert re.search(rf"{server} · {route} .* · c={level}: 3 s, about .* left in all", stdout)
    lines = stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("loadtest: compare"))
    assert "starting ours" in lines[first + 1] and "left in all" in lines[first + 1]
    assert lines[-1].startswith("report: loadtest-results/")


def check_run(run: dict) -> None:
    assert run["requests"] > 0 and run["rps"] > 0 and run["seconds"] > 1
    assert 0 < run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"] <= run["max_ms"]
    assert set(run["errors"]) == {"status", "connect", "read", "write", "timeout"}
    assert all(isinstance(count, int) and count >= 0 for count in run["errors"].values())
    assert run["error_total"] == sum(run["errors"].values())
    assert run["wrk_cpu_seconds"] >= 0 and run["wrk_cpu_percent"] >= 0
    assert run["server_cpu_seconds"] > 0 and run["server_cpu_percent"] > 0
    assert run["processes"], "every run has the memory and CPU of the server's processes"
    for process in run["processes"]:
        assert process["pid"] > 0 and process["label"]
        assert process["rss_peak_bytes"] > 1024 * 1024 and process["rss_end_bytes"] > 1024 * 1024
        assert process["cpu_seconds"] >= 0


def test_results_json_has_every_figure(outputs):
    results = outputs["results"]
    assert results["schema"] == 1 and results["kind"] == "compare"
    assert results["settings"]["seconds"] == 2 and results["settings"]["levels"] == list(LEVELS)
    assert results["machine"]["cpus"] >= 1 and results["machine"]["wrk"].startswith("wrk")
    assert results["machine"]["load_average"] >= 0
    assert set(results["servers"]) == {"ours", "baseline"}
    for name, server in results["servers"].items():
        if name == "baseline":
            assert {entry["label"] for entry in server["idle_before"]} == {"server"}
        assert all(entry["rss_bytes"] > 1024 * 1024 for entry in server["idle_before"] + server["idle_after"])
        assert [(run["route"], run["connections"]) for run in server["runs"]] == [
            (route, level) for route in ROUTES for level in LEVELS]
        for run in server["runs"]:
            check_run(run)
    ours_labels = {entry["label"] for entry in results["servers"]["ours"]["idle_before"]}
    assert "master" in ours_labels and any(label.startswith("worker ") for label in ours_labels)
    assert results["servers"]["baseline"]["closes_after_response"] is True
    assert [(r["route"], r["connections"]) for r in results["ratios"]] == [(r, c) for r in ROUTES for c in LEVELS]
    assert all(r["ratio"] > 0 for r in results["ratios"])
    assert len(results["metrics"]) == 9
    # the short form has no level 100 or 1,000: every metric says it was not measured, none pretends
    assert {m["verdict"] for m in results["metrics"]} == {"not measured"}


def test_report_md_has_the_plan_s_tables_with_the_figures(outputs):
    text = outputs["report"].read_text(encoding="utf-8")
    results = outputs["results"]
    for heading in ("## Success metrics of the Phase 2 plan", "## Throughput and latency: read route",
                    "## Throughput and latency: write route", "## Errors by kind", "## Memory (RSS",
                    "## CPU (% of one core", "## How it was measured"):
        assert heading in text
    assert "| connections | ours req/s | baseline req/s | ours / baseline | ours p50 ms | ours p95 ms | ours p99 ms" in text
    for route in ROUTES:
        section = text.split(f"## Throughput and latency: {route} route")[1].split("## ")[0]
        for level in LEVELS:
            ours = next(r for r in results["servers"]["ours"]["runs"] if r["route"] == route and r["connections"] == level)
            base = next(r for r in results["servers"]["baseline"]["runs"]
                        if r["route"] == route and r["connections"] == level)
            ratio = ours["rps"] / base["rps"]
            row = (f"| {level} | {ours['rps']:,.0f} | {base['rps']:,.0f} | {ratio:.2f}× | {ours['p50_ms']:.2f} | "
                   f"{ours['p95_ms']:.2f} | {ours['p99_ms']:.2f} | {base['p50_ms']:.2f} |")
            assert row in section
    assert "| master |" in text and "| worker 1 |" in text and "| server |" in text


def test_report_png_is_the_plot_of_both_servers(outputs):
    importlib.invalidate_caches()  # make may just have installed the loadtest extra into this environment
    from PIL import Image

    with Image.open(outputs["folder"] / "report.png") as image:
        assert image.format == "PNG" and image.size == (1200, 500)
        total = 1200 * 500
        colours = {colour: count for count, colour in image.convert("RGB").getcolors(maxcolors=total)}
    assert colours.get((255, 255, 255), 0) < total * 0.97, "the plot is not blank"
    assert len(colours) > 50  # text, axes, lines: no flat picture

    def near(target: tuple[int, int, int]) -> int:
        return sum(count for colour, count in colours.items()
                   if all(abs(a - b) <= 12 for a, b in zip(colour, target, strict=True)))

    assert near(TAB_BLUE) > 300, "ours' lines are drawn"
    assert near(TAB_ORANGE) > 300, "the baseline's lines are drawn"
