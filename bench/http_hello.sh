#!/usr/bin/env bash
# See bench/http_bench.py (hello). Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/http_bench.py hello "$@"
