"""Throughput of the scale-out shape (docs/deploy.md): hosts in network namespaces behind nginx
with conf/nginx.conf, the example API on one private PostgreSQL, measured with wrk through nginx.

    sudo python3 bench/multihost.py                      # 1 and 2 hosts, the default sizing
    sudo python3 bench/multihost.py --hosts 1 --processes 1,2,3,4 --threads 64
    sudo python3 bench/multihost.py --hosts 1 --processes 2 --threads 4,16,64

For each configuration: requests per second and p99 of a write route (POST an entry: one INSERT
plus the prelude's CREATE TABLE IF NOT EXISTS) and of a computing route (GET /gst), and the most
PostgreSQL connections the hosts held at once. Needs root, iproute2, nginx, wrk and PostgreSQL's
server binaries (the same as tests/e2e/test_multihost.py). Absolute figures depend on the
machine: on one machine every host shares its cores, so "per host" is not what a real host gives.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from multihost import Cluster, missing  # noqa: E402

EXAMPLE = (REPO / "examples" / "ledger_api.qmz").read_text(encoding="utf-8")
POST_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"amount": "12.50", "note": "bench ' .. counter .. '"}'
  return wrk.format("POST", "/accounts/bench" .. (counter % 64) .. "/entries",
                    {["Content-Type"] = "application/json"}, body)
end
"""


def wrk(port: int, target: str, seconds: int, connections: int, script: str | None) -> tuple[float, str, int]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    output = subprocess.run(command + [f"http://127.0.0.1:{port}{target}"], capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+(\S+)", output).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return rate, p99, int(bad.group(1)) if bad else 0 if not errors else -1


def peak_connections(cluster: Cluster, stop: threading.Event, seen: list[int]) -> None:
    while not stop.is_set():
        try:
            count = cluster.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'etamil-server'")
            seen.append(int(count[0][0]))
        except Exception:  # noqa: BLE001 - a probe that fails is skipped
            pass
        time.sleep(0.2)


def measure(hosts: int, processes: int, threads: int, seconds: int, connections: int) -> None:
    names = tuple("abcd"[:hosts])
    cluster = Cluster(names)
    try:
        for host in cluster.hosts.values():
            host.deploy(EXAMPLE)
            host.start({"ETAMIL_PROCESSES": str(processes), "ETAMIL_THREADS": str(threads)})
        for host in cluster.hosts.values():
            host.wait_ready()
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(POST_SCRIPT)
        try:
            wrk(cluster.nginx_port, "/", 2, connections, handle.name)  # warm up: table, pools
            stop, seen = threading.Event(), []
            probe = threading.Thread(target=peak_connections, args=(cluster, stop, seen), daemon=True)
            probe.start()
            write_rate, write_p99, write_bad = wrk(cluster.nginx_port, "/", seconds, connections, handle.name)
            stop.set()
            probe.join()
            gst_rate, gst_p99, gst_bad = wrk(cluster.nginx_port, "/gst?amount=1000&rate=18", seconds, connections, None)
        finally:
            os.unlink(handle.name)
        print(f"hosts={hosts} processes={processes} threads={threads} c={connections}: "
              f"POST {write_rate:8.0f}/s p99 {write_p99:>8} (non-2xx {write_bad}) | "
              f"GET /gst {gst_rate:8.0f}/s p99 {gst_p99:>8} (non-2xx {gst_bad}) | "
              f"PostgreSQL connections at most {max(seen, default=0)}", flush=True)
    finally:
        cluster.close()


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=numbers, default=[1, 2])
    parser.add_argument("--processes", type=numbers, default=[2])
    parser.add_argument("--threads", type=numbers, default=[64])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    reason = missing()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    for hosts in options.hosts:
        for processes in options.processes:
            for threads in options.threads:
                measure(hosts, processes, threads, options.seconds, options.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
