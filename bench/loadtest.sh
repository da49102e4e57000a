#!/usr/bin/env bash
# Throughput and latency against a server that is already running (make loadtest):
#   bash bench/loadtest.sh http://127.0.0.1:8080/
# Prints req/s, p50, p99 and errors at 100 and 1000 connections. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/http_bench.py load "${1:-http://127.0.0.1:8080/}"
