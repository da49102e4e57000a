"""Benchmark: the eTamil VM against hand-written Python ``decimal`` on the slab-tax loop.

Runs, alternating, several times in one invocation:
  * whole process: ``etamil run bench/tax.qmz`` vs ``python3 bench/tax_decimal.py``;
  * compute alone: the compiled program's run vs the Python function, in this process;
  * start-up: ``etamil run`` of an empty program vs ``python3 -c pass``.
Prints the medians, the absolute figures and the ratios. Goals (issue #2): compute <= 1.5x the
hand-written Python; empty-program start-up <= 40 ms over a bare interpreter.

    python3 bench/vm_tax.py [--runs N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from tax_decimal import slab_tax  # noqa: E402

from etamil_server.families import load_families  # noqa: E402
from etamil_server.lang.loader import load_path  # noqa: E402
from etamil_server.runtime.compiler import compile_program  # noqa: E402
from etamil_server.runtime.context import RunContext  # noqa: E402


def timed_process(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    etamil = [python, "-m", "etamil_server", "run"]
    program = str(HERE / "tax.qmz")
    load_families()
    compiled = compile_program(load_path(program).statements)
    with tempfile.NamedTemporaryFile("w", suffix=".qmz", delete=False) as empty:
        empty_path = empty.name

    whole_etamil, whole_python, compute_etamil, compute_python, start_etamil, start_python = ([] for _ in range(6))
    for _ in range(args.runs):
        seconds, out = timed_process([*etamil, program])
        assert out == "249997500", out
        whole_etamil.append(seconds)
        seconds, out = timed_process([python, str(HERE / "tax_decimal.py")])
        assert out == "249997500", out
        whole_python.append(seconds)

        ctx = RunContext(stdout=io.StringIO())
        start = time.perf_counter()
        compiled.run(ctx)
        compute_etamil.append(time.perf_counter() - start)
        assert ctx.stdout.getvalue().strip() == "249997500"
        start = time.perf_counter()
        slab_tax()
        compute_python.append(time.perf_counter() - start)

        start_etamil.append(timed_process([*etamil, empty_path])[0])
        start_python.append(timed_process([python, "-c", "pass"])[0])
    os.unlink(empty_path)

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    print(f"slab-tax loop, 100,000 iterations, median of {args.runs} runs (alternated)")
    print(f"  whole process   etamil run {ms(whole_etamil):8.1f} ms   python+Decimal {ms(whole_python):8.1f} ms"
          f"   ratio {ms(whole_etamil) / ms(whole_python):.2f}x")
    print(f"  compute alone   etamil     {ms(compute_etamil):8.1f} ms   python+Decimal {ms(compute_python):8.1f} ms"
          f"   ratio {ms(compute_etamil) / ms(compute_python):.2f}x   (goal <= 1.50x)")
    print(f"  start-up        etamil run of an empty program {ms(start_etamil):6.1f} ms   python3 -c pass"
          f" {ms(start_python):6.1f} ms   difference {ms(start_etamil) - ms(start_python):+.1f} ms   (goal <= +40 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
