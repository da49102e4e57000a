"""Benchmark: per-request cost of the fintech routes inside one process (no HTTP), with the
bundled library's eTamil definitions against its native implementations (issue 8 §1).

    python3 bench/route_costs.py [--runs N] [--seconds S] [--clock wall|cpu] [--profile gst|entry|hello]

Measured, each once with ``ETAMIL_NATIVE_STDLIB=0`` and once natively, alternating:

* the GST route ``GET /gst?amount=1000.50&rate=18`` and the entry route ``POST /entry`` (an
  80-byte JSON body) of bench/routes/routes.qmz (the program bench/http_routes.py serves), and ``GET /hello/ravi``: compiled as the server does
  (``App.from_program``), each request ``App.dispatch`` + ``App.run_route`` on a pooled context;
* ``ஜேசான்_ஆக்கு`` of a six-field record and ``ஜேசான்_படி`` of the 80-byte body: one call per
  iteration of a compiled eTamil loop (the cost of the empty loop is printed too).

Each figure is the median over ``--runs`` runs of the mean over about ``--seconds`` of calls.
Goals (issue 8): GST route <= 15 us, encode <= 5 us, parse <= 10 us. ``--profile`` prints a
cProfile of the native GST (or entry, or hello) route instead. ``--clock cpu`` measures the
process's CPU time instead of the wall clock: on a machine busy with other work the wall clock
counts the time this process waited for a core, the CPU time does not (it still feels shared
caches, so it is steadier, not exact).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from etamil_server.families import load_families  # noqa: E402
from etamil_server.host.services import HOST_SERVICES  # noqa: E402
from etamil_server.lang.loader import load_path, load_text  # noqa: E402
from etamil_server.runtime.compiler import compile_program  # noqa: E402
from etamil_server.runtime.context import RunContext  # noqa: E402
from etamil_server.web.app import App  # noqa: E402
from etamil_server.web.request import Request  # noqa: E402

PROGRAM = HERE / "routes" / "routes.qmz"
# the body bench/http_routes.py posts (80 bytes)
ENTRY_BODY = b'{"account": "cash", "amount": "1250.50", "note": "rent for the month of june!!"}'
RECORD = {"amount": Decimal("1000.50"), "rate": Decimal(18), "gst": Decimal("180.09"),
          "cgst": Decimal("90.045"), "sgst": Decimal("90.045"), "total": Decimal("1180.59")}
REQUESTS = {
    "GST route": ("GET", "/gst?amount=1000.50&rate=18", b"", 200),
    "entry route": ("POST", "/entry", ENTRY_BODY, 201),
    "hello route": ("GET", "/hello/ravi", b"", 200),
}
GOALS_US = {"GST route": 15.0, "encode (six fields)": 5.0, "parse (80 bytes)": 10.0}
LOOP = """இறக்கு "nUlakam/jEcAZ.qmz";
கு = 0;
(கு < எத்தனை) சுற்று {{ முடிவு = {call}; கு = கு + 1; }}
"""
SETTINGS = {"definitions": "0", "native": "1"}


def compile_under(setting: str, build):
    previous = os.environ.get("ETAMIL_NATIVE_STDLIB")
    os.environ["ETAMIL_NATIVE_STDLIB"] = setting
    try:
        return build()
    finally:
        if previous is None:
            del os.environ["ETAMIL_NATIVE_STDLIB"]
        else:
            os.environ["ETAMIL_NATIVE_STDLIB"] = previous


class RouteCase:
    """One route of the program: ``run(n)`` answers the same request n times."""

    def __init__(self, app: App, method: str, target: str, body: bytes, status: int):
        self.app = app
        self.request = Request.from_target(method, target, [("Content-Type", "application/json")], body)
        self.ctx = RunContext(services=HOST_SERVICES, stdout=io.StringIO())
        response = self.answer()
        if response.status != status:
            raise SystemExit(f"{method} {target}: {response.status} {response.body!r}")
        self.body = response.body

    def answer(self):
        dispatch = self.app.dispatch(self.request)
        return self.app.run_route(dispatch, self.request, self.ctx)

    def run(self, n: int) -> None:
        app, request, ctx = self.app, self.request, self.ctx
        for _ in range(n):
            app.run_route(app.dispatch(request), request, ctx)


class LoopCase:
    """A compiled loop making one call per iteration: ``run(n)`` makes n calls."""

    def __init__(self, call: str, argument: Any):
        self.compiled = compile_program(load_text(LOOP.format(call=call), base_dir=str(HERE)).statements,
                                        inputs=("பதிவு", "எத்தனை"))
        self.argument = argument
        self.ctx = RunContext()
        self.body = self.compiled.run(self.ctx, {"பதிவு": argument, "எத்தனை": Decimal(1)}).get("முடிவு")

    def run(self, n: int) -> None:
        self.compiled.run(self.ctx, {"பதிவு": self.argument, "எத்தனை": Decimal(n)})


def build_cases(setting: str) -> dict[str, Any]:
    def build():
        app = App.from_program(load_path(str(PROGRAM)), mode="ours")
        cases: dict[str, Any] = {name: RouteCase(app, *request) for name, request in REQUESTS.items()}
        cases["encode (six fields)"] = LoopCase("ஜேசான்_ஆக்கு(பதிவு)", RECORD)
        cases["parse (80 bytes)"] = LoopCase("ஜேசான்_படி(பதிவு)", ENTRY_BODY.decode())
        cases["empty loop"] = LoopCase("பதிவு", RECORD)
        return cases

    return compile_under(setting, build)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def per_call_us(case: Any, seconds: float, clock=time.perf_counter) -> float:
    """Mean microseconds per call over about ``seconds`` of ``clock``."""
    n = 1
    while True:  # find a batch that takes about a tenth of the time
        start = clock()
        case.run(n)
        elapsed = clock() - start
        if elapsed >= seconds / 10 or n >= 1 << 22:
            break
        n *= 4
    batches = max(1, round(seconds / max(elapsed, 1e-9)))
    start = clock()
    for _ in range(batches):
        case.run(n)
    return (clock() - start) / (batches * n) * 1e6


def profile(cases: dict[str, Any], name: str) -> None:
    case = cases[name]
    case.run(1000)
    profiler = cProfile.Profile()
    profiler.enable()
    case.run(20000)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(18)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="per measured figure and run")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="wall (default) or cpu: this process's CPU time, steadier on a busy machine")
    parser.add_argument("--profile", choices=("gst", "entry", "hello"))
    args = parser.parse_args()
    load_families()
    all_cases = {setting: build_cases(value) for setting, value in SETTINGS.items()}
    names = list(all_cases["native"])
    for name in names:  # both ways give the same answers
        if repr(all_cases["native"][name].body) != repr(all_cases["definitions"][name].body):
            raise SystemExit(f"{name}: native {all_cases['native'][name].body!r} "
                             f"!= definitions {all_cases['definitions'][name].body!r}")
    if args.profile:
        profile(all_cases["native"], {"gst": "GST route", "entry": "entry route", "hello": "hello route"}[args.profile])
        return 0

    figures: dict[str, dict[str, list[float]]] = {s: {n: [] for n in names} for s in SETTINGS}
    for _ in range(args.runs):
        for name in names:
            for setting in SETTINGS:  # alternate, so that a busy moment hits both
                figures[setting][name].append(per_call_us(all_cases[setting][name], args.seconds,
                                                          CLOCKS[args.clock]))

    print(f"per request / call inside one process, µs ({args.clock} clock), median of {args.runs} runs "
          f"(python {sys.version.split()[0]})")
    print(f"  {'':<22}{'definitions':>12}{'native':>10}{'ratio':>9}   goal")
    for name in names:
        slow = statistics.median(figures["definitions"][name])
        fast = statistics.median(figures["native"][name])
        goal = GOALS_US.get(name)
        verdict = "" if goal is None else f"≤ {goal:g}  {'met' if fast <= goal else 'NOT met'}"
        print(f"  {name:<22}{slow:>12.2f}{fast:>10.2f}{slow / fast:>8.1f}x   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
