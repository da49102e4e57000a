"""``make loadtest``: the Phase 2 load test of etamil-server, and its stress scenarios.

    python -m bench.loadtest [--seconds N] [--levels "1 10 100 1000"] [--url http://HOST:PORT]
    python -m bench.loadtest --scenario ramp|spike|sustained|shutdown [--duration N] ...

(make passes its variables SECONDS, LEVELS, SCENARIO, DURATION and ETAMIL_URL as these arguments:
never through the environment, where SECONDS is bash's own counter.)

Without a URL it starts examples/ledger_api.qmz under our server (gunicorn -c conf/etamil.py) and,
for the comparison, under ``etamil --server`` with ETAMIL_WORKERS=1 (the synchronous baseline), on
free loopback ports with SQLite in temporary folders; with a URL it measures that running server
(ours only). wrk drives the load (the spike uses a small asyncio generator of its own).

It writes ``loadtest-results/<timestamp>/`` with report.md, report.png and results.json (every
raw figure) and prints the report's path. The scenarios are described in their modules:
comparison (loadtest_compare), ramp and sustained (loadtest_scenarios), spike (loadtest_spike),
shutdown (loadtest_shutdown).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .loadtest_measure import DEFAULT_DURATION, DEFAULT_LEVELS, DEFAULT_SECONDS, SAMPLE_EVERY, Settings
from .loadtest_progress import Progress
from .loadtest_servers import ServerError
from .loadtest_wrk import WrkError

SCENARIOS = ("compare", "ramp", "spike", "sustained", "shutdown")
SCHEMA = 1


class UsageError(ValueError):
    """A parameter that does not parse; the message names the make variable."""


def _positive(name: str, text: str, minimum: int = 1) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(f"{name} must be a whole number of at least {minimum}, got '{text}'") from None
    if value < minimum:
        raise UsageError(f"{name} must be a whole number of at least {minimum}, got '{text}'")
    return value


def parse_levels(text: str) -> tuple[int, ...]:
    """``"1 10 100"`` (spaces or commas) -> (1, 10, 100): sorted, no repeats."""
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts:
        raise UsageError("LEVELS must list connection counts, like LEVELS=\"1 10 100\"")
    return tuple(sorted({_positive("LEVELS", part) for part in parts}))


def parse_arguments(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", default=None, help=f"SECONDS: measured seconds per level ({DEFAULT_SECONDS})")
    parser.add_argument("--levels", default=None,
                        help=f"LEVELS: connection counts ({' '.join(map(str, DEFAULT_LEVELS))}); ramp: its steps; "
                        "sustained and shutdown: the first is their connection count")
    parser.add_argument("--scenario", default="compare", help="SCENARIO: " + " | ".join(SCENARIOS))
    parser.add_argument("--duration", default=None,
                        help=f"DURATION: seconds of the sustained scenario ({DEFAULT_DURATION})")
    parser.add_argument("--url", default=None, help="ETAMIL_URL: a running server (ours) instead of starting one")
    parser.add_argument("--results", default="loadtest-results", help="the folder for the results (loadtest-results)")
    args = parser.parse_args(argv)
    scenario = (args.scenario or "compare").strip().lower()
    if scenario not in SCENARIOS:
        raise UsageError(f"SCENARIO must be one of {', '.join(SCENARIOS)}, got '{args.scenario}'")
    settings = Settings(scenario=scenario, url=args.url.strip() if args.url and args.url.strip() else None,
                        results_dir=Path(args.results))
    if args.seconds not in (None, ""):
        settings.seconds = _positive("SECONDS", args.seconds)
    if args.levels not in (None, ""):
        settings.levels = parse_levels(args.levels)
        settings.levels_given = True
    if args.duration not in (None, ""):
        settings.duration = _positive("DURATION", args.duration, SAMPLE_EVERY)
    if scenario == "shutdown" and settings.url:
        raise UsageError("SCENARIO=shutdown stops the server it measures: it needs a server this tool starts "
                         "(leave ETAMIL_URL unset)")
    return settings


def parameters_text(settings: Settings) -> str:
    """The parameters that shape this run, as make variables (LEVELS only where the scenario uses
    the list: the ramp, sustained and shutdown scenarios have their own defaults)."""
    shown = [f"SECONDS={settings.seconds}"]
    if settings.scenario == "compare" or settings.levels_given:
        shown.append(f"LEVELS=\"{' '.join(map(str, settings.levels))}\"")
    if settings.scenario == "sustained":
        shown.append(f"DURATION={settings.duration}")
    return ", ".join(shown)


def machine() -> dict:
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
        wrk = " ".join(wrk.split()[:2])
    except (OSError, IndexError, subprocess.TimeoutExpired):
        wrk = "wrk (version unknown)"
    return {"cpus": os.cpu_count(), "platform": platform.platform(terse=True), "python": platform.python_version(),
            "wrk": wrk, "load_average": os.getloadavg()[0]}


def results_folder(base: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%SZ")
    folder = base / stamp
    suffix = 2
    while folder.exists():
        folder = base / f"{stamp}-{suffix}"
        suffix += 1
    return folder


def run_scenario(settings: Settings, progress: Progress) -> dict:
    # imported here: each scenario's module only when it runs
    if settings.scenario == "compare":
        from .loadtest_compare import run_compare

        return run_compare(settings, progress)
    if settings.scenario == "spike":
        from .loadtest_spike import run_spike

        return run_spike(settings, progress)
    if settings.scenario == "shutdown":
        from .loadtest_shutdown import run_shutdown

        return run_shutdown(settings, progress)
    from . import loadtest_scenarios

    return getattr(loadtest_scenarios, f"run_{settings.scenario}")(settings, progress)


def write_outputs(results: dict, folder: Path) -> Path:
    from .loadtest_plot import plot
    from .loadtest_report import render

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot(results, folder / "report.png")
    report = folder / "report.md"
    report.write_text(render(results), encoding="utf-8")
    return report


def check_tools() -> None:
    if shutil.which("wrk") is None:
        raise UsageError("wrk is not installed: `bash bench/install_wrk.sh` installs it (Debian package 'wrk')")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("matplotlib is not installed: pip install -e '.[loadtest]'") from None


def _stop_on_term(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: the servers this tool started are stopped


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse_arguments(sys.argv[1:] if argv is None else argv)
        check_tools()
    except UsageError as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_on_term)
    started = datetime.now(UTC)
    began = time.monotonic()
    host = machine()  # before the run: the load average says how busy the machine was with other work
    progress = Progress(0)
    progress.say(f"loadtest: {settings.scenario}" + (f" against {settings.url}" if settings.url else "")
                 + f" ({parameters_text(settings)})")
    try:
        results = run_scenario(settings, progress)
    except (ServerError, WrkError) as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("loadtest: interrupted; the servers it started are stopped", file=sys.stderr)
        return 130
    results.update({
        "schema": SCHEMA,
        "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "elapsed_seconds": time.monotonic() - began,
        "settings": settings.to_json(),
        "machine": host,
    })
    report = write_outputs(results, results_folder(settings.results_dir))
    shown = os.path.relpath(report) if not os.path.relpath(report).startswith("..") else str(report)
    progress.say(f"loadtest: done in {progress.elapsed()}")
    print(f"report: {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
