"""What observability costs per request on the hot path, in one process, without sockets:
``AppResponder.handle`` + ``render`` for the hello-world route, with metrics and the access log
off and on (the access lines go nowhere: the formatting is what is measured).

    python3 bench/responder_cost.py            # CPU microseconds per request, best of 9 runs

The HTTP benchmark (bench/http_hello.sh) measures the same thing end to end, but on a shared
2-core machine its noise is larger than the difference; this one isolates the responder and
reads the process's CPU time (less disturbed by other work on the machine than the wall clock).
The metrics' sweep work (moving the counts to the shared files once a second) is included, as
one flush every 20,000 requests.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="etamil-bench-metrics-"))

from etamil_server.config import ExecutionSettings  # noqa: E402
from etamil_server.web.accesslog import AccessLog  # noqa: E402
from etamil_server.web.loading import load_app  # noqa: E402
from etamil_server.web.metrics import Metrics  # noqa: E402
from etamil_server.web.request import Request  # noqa: E402
from etamil_server.web.responder import AppResponder  # noqa: E402
from etamil_server.web.response import http_date  # noqa: E402
from etamil_server.web.vmpool import VmPool  # noqa: E402

PROGRAM = 'வழி பெறு, "/" { பதில் 200, "Hello, World!", {"Content-Type": "text/plain"}; }\n'
REQUESTS = 100_000
FLUSH_EVERY = 20_000
HEADERS = [("Host", "127.0.0.1:8080"), ("User-Agent", "wrk"), ("Accept", "*/*")]


class Hub:
    date = http_date()

    def readiness(self):
        return None

    def exit_process(self, status):
        raise SystemExit(status)


def per_request(responder: AppResponder, metrics) -> float:
    flush = getattr(metrics, "flush", None)
    started = time.process_time()
    for n in range(REQUESTS):
        request = Request("GET", "/", "/", "", HEADERS, b"", "1.1")
        response = responder.handle(request)
        responder.render(request, response, True, "127.0.0.1")
        if flush is not None and n % FLUSH_EVERY == 0:
            flush()
    if responder.access_log is not None:
        responder.access_log.lines.clear()
    return (time.process_time() - started) / REQUESTS * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hello.qmz"
        path.write_text(PROGRAM, encoding="utf-8")
        app = load_app(str(path)).app
    loop = asyncio.new_event_loop()
    # the server's default inline budget: its watchdog bookkeeping is on the hot path too
    pool = VmPool(4, 2, 30.0, loop, inline_budget=ExecutionSettings.inline_budget_ms / 1000)
    metrics = Metrics()
    setups = {
        "metrics off, access log off": (None, None),
        "metrics on": (metrics, None),
        "access log on (text)": (None, AccessLog("text")),
        "metrics on, access log on": (metrics, AccessLog("text")),
    }
    for label, (with_metrics, access_log) in setups.items():
        responder = AppResponder(
            app, pool, Hub(), deadline=30.0, max_concurrency=100, server_name="etamil-server",
            access_log=access_log, metrics=with_metrics,
        )
        per_request(responder, with_metrics)  # warm up
        best = min(per_request(responder, with_metrics) for _ in range(9))
        print(f"  {label:<30} {best:6.2f} us per request", flush=True)
    pool.close()
    loop.close()


if __name__ == "__main__":
    main()
