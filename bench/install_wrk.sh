#!/usr/bin/env bash
# Make sure wrk, the HTTP load generator of `make loadtest`, is installed: nothing to do when it
# is; as root with apt-get, install the Debian package `wrk`; otherwise say what to install and
# fail. Idempotent; `make loadtest` calls it, and so can `make test` (CI needs wrk for
# tests/bench).
set -euo pipefail

say() { printf '%s\n' "install_wrk: $*"; }

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "wrk is missing: installing the Debian package wrk"
    export DEBIAN_FRONTEND=noninteractive
    # the package lists may be missing or stale on a fresh machine: update once, then retry
    if ! apt-get install -y -q wrk >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q wrk >/dev/null
    fi
    if command -v wrk >/dev/null 2>&1; then
        say "installed $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
        exit 0
    fi
fi
say "wrk is not installed and cannot be installed from here: install the Debian/Ubuntu package 'wrk'" \
    "(sudo apt-get install wrk) or build it from its source, then run make loadtest again" >&2
exit 1
