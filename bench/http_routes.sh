#!/usr/bin/env bash
# See bench/http_routes.py: real routes, ours against gunicorn + uvicorn and granian. Needs wrk
# (apt-get install wrk) and the bench extra (pip install -e '.[bench]': uvicorn, granian, asyncpg).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" bench/http_routes.py "$@"
