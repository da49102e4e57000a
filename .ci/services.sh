#!/usr/bin/env bash
# Start the servers the tests use (PostgreSQL, MariaDB, Redis) if they are not running, wait
# until each accepts connections, and make sure their `test` databases exist.
# Idempotent: with both already up it only checks, and exits 0.
#
#   PostgreSQL 127.0.0.1:5432, trust auth, user postgres;  MariaDB 127.0.0.1:3306, root, no password.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres
MY_HOST=127.0.0.1 MY_PORT=3306 MY_USER=root
WAIT_SECONDS=30

say() { printf '%s\n' "services: $*"; }

wait_until() {  # wait_until <what> <command...>: poll once a second for up to WAIT_SECONDS
    local what=$1; shift
    for _ in $(seq "$WAIT_SECONDS"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    say "$what did not accept connections within ${WAIT_SECONDS} s" >&2
    return 1
}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }
my_up() { mysqladmin --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" ping >/dev/null 2>&1; }

# Outside CI a machine may lack a server: its tests then skip with a one-line reason. In CI
# (ETAMIL_TEST_REQUIRE_SERVICES=1) every server must be there.
missing() {
    if [ "${ETAMIL_TEST_REQUIRE_SERVICES:-0}" = "1" ]; then
        say "$1 is not installed, and CI requires it" >&2
        exit 1
    fi
    say "$1 is not installed: its tests will be skipped"
}

# ---------------------------------------------------------------- PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_up; then
    missing PostgreSQL
elif pg_up; then
    say "PostgreSQL is running"
else
    say "starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_until PostgreSQL pg_up
fi
psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAqX "$@"; }
if pg_up && [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'test'")" != "1" ]; then
    say "creating PostgreSQL database test"
    psql_admin -c "CREATE DATABASE test"
fi

# ---------------------------------------------------------------- MariaDB
if [ ! -x /usr/sbin/mariadbd ] && ! my_up; then
    missing MariaDB
elif my_up; then
    say "MariaDB is running"
else
    say "starting MariaDB"
    if [ ! -d /run/mysqld ]; then  # the socket directory is on a tmpfs: gone after a reboot
        mkdir -p /run/mysqld
        chown mysql:mysql /run/mysqld 2>/dev/null || true
    fi
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_until MariaDB my_up
fi
if my_up; then
    mysql --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -e "CREATE DATABASE IF NOT EXISTS test"
fi

# ---------------------------------------------------------------- Redis (the Redis builtins' tests)
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
if command -v redis-server >/dev/null 2>&1; then
    if redis_up; then
        say "Redis is running"
    else
        say "starting Redis"
        mkdir -p /var/lib/redis /var/log/redis
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log
        wait_until Redis redis_up
    fi
fi

# ---------------------------------------------------------------- packages (multi-host, pgbouncer tests)
# nginx, pgbouncer and iproute2 for tests/e2e/test_multihost.py and the transaction pooling tests;
# those tests start private instances of nginx and pgbouncer themselves.
bash "$(dirname "$0")/packages.sh"

say "PostgreSQL, MariaDB and Redis are ready"
