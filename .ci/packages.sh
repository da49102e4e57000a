#!/usr/bin/env bash
# Install the Debian packages the multi-host and pgbouncer tests run: nginx (the load balancer in
# front of the hosts), pgbouncer (transaction pooling in front of PostgreSQL) and iproute2 (`ip
# netns`, veth pairs). Idempotent: with everything installed it only checks. The packages' own
# services are not started (the tests start private instances with their own configuration).
#
# Outside CI a machine that cannot install them (no root, no apt) skips those tests with a
# one-line reason; in CI (ETAMIL_TEST_REQUIRE_SERVICES=1) a failed install is a failure.
set -euo pipefail

say() { printf '%s\n' "packages: $*"; }

needed=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || needed+=(nginx)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || needed+=(pgbouncer)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || needed+=(iproute2)

if [ ${#needed[@]} -eq 0 ]; then
    say "nginx, pgbouncer and iproute2 are installed"
    exit 0
fi

fail() {
    if [ "${ETAMIL_TEST_REQUIRE_SERVICES:-0}" = "1" ]; then
        say "$* and CI requires ${needed[*]}" >&2
        exit 1
    fi
    say "$*: their tests will be skipped"
    exit 0
}

[ "$(id -u)" = "0" ] || fail "not root, cannot install ${needed[*]}"
command -v apt-get >/dev/null 2>&1 || fail "no apt-get, cannot install ${needed[*]}"

say "installing ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the packages' services must not start (nginx would take port 80)
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
fi
status=0
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${needed[@]}"; } >/dev/null || status=$?
[ "$created_policy" = "1" ] && rm -f "$policy"
[ "$status" = "0" ] || fail "apt-get install ${needed[*]} failed (status $status)"
say "installed ${needed[*]}"
