#!/usr/bin/env bash
# See bench/http_bench.py (io). Needs wrk (apt-get install wrk) and PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/http_bench.py io "$@"
