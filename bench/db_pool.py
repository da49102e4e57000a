"""What the connection pool buys: N runs of a small eTamil program that connects to PostgreSQL
and runs one parameterised query, (a) through the pool, (b) opening a fresh connection per run
(idle cap 0: what every run would pay without a pool). Both in one invocation, side by side.

    python bench/db_pool.py [--runs 10000] [--dsn "host=127.0.0.1 dbname=test user=postgres"]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from etamil_server.base.errors import EtamilError
from etamil_server.config import load_database_settings
from etamil_server.families import load_families
from etamil_server.host.db.pool import ConnectionPool, set_pool
from etamil_server.host.services import HOST_SERVICES
from etamil_server.lang.loader import load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext

PROGRAM = """\
தளம்_இணை போச்குரசீகுல், "{dsn}";
தளம்_வினா "SELECT $1::int + 1 AS n", [41], வரிகள்;
"""


def run_many(compiled, pool: ConnectionPool, runs: int) -> float:
    """Runs per second of ``compiled`` with ``pool`` as the process's pool."""
    previous = set_pool(pool)
    try:
        ctx = RunContext(services=HOST_SERVICES)
        start = time.perf_counter()
        for _ in range(runs):
            try:
                compiled.run(ctx)
            finally:
                ctx.release()  # end of the run: the lease goes back (or is closed)
                ctx.reset()
        elapsed = time.perf_counter() - start
    finally:
        set_pool(previous)
        pool.close_all()
    return runs / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 dbname=test user=postgres")
    args = parser.parse_args(argv)

    load_families()
    compiled = compile_program(load_text(PROGRAM.format(dsn=args.dsn)).statements)
    settings = load_database_settings()
    try:
        run_many(compiled, ConnectionPool(settings), 50)  # warm up (imports, first connects)
        pooled = run_many(compiled, ConnectionPool(settings), args.runs)
        fresh = run_many(compiled, ConnectionPool(replace(settings, idle=0)), args.runs)
    except EtamilError as error:
        print(f"bench/db_pool.py: {error.message}", file=sys.stderr)
        return 1
    print(f"{args.runs} runs of a program that connects to PostgreSQL and runs SELECT $1::int + 1")
    print(f"  (a) through the pool          {pooled:10.0f} runs/s")
    print(f"  (b) fresh connection per run  {fresh:10.0f} runs/s")
    print(f"  pool / fresh                  {pooled / fresh:10.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
