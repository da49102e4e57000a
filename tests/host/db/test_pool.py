"""The per-process connection pool (HOST.md §5.9 and what production adds): real databases."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host.db import pool as pool_module
from etamil_server.host.db.drivers import driver_for
from etamil_server.host.db.drivers.base import GRAVEYARD
from etamil_server.host.db.pool import ConnectionPool, get_pool, set_pool

SQLITE = driver_for("SQLite")


@pytest.fixture
def db_file(tmp_path):
    return str(tmp_path / "pool.db")


def stats_of(pool: ConnectionPool, type_name: str) -> dict:
    [entry] = [entry for entry in pool.stats() if entry["type"] == type_name]
    return entry


def backend_pid(lease) -> Decimal:
    return lease.connection.query("SELECT pg_backend_pid() AS p", [])[0]["p"]


# ------------------------------------------------------------------------------ the reference's contract


def test_idle_connections_are_reused_last_in_first_out(pool, db_file):
    first = pool.checkout("SQLite", db_file, SQLITE)
    second = pool.checkout("SQLite", db_file, SQLITE)
    assert first.connection is not second.connection  # exclusive: a second lease opens another
    first.release()
    second.release()
    again = pool.checkout("SQLite", db_file, SQLITE)
    assert again.connection is second.connection  # the most recently returned
    again.release()
    assert stats_of(pool, "SQLite") | {"connection": None} == {
        "type": "SQLite", "connection": None, "open": 2, "idle": 2, "in_use": 0, "waiting": 0,
    }


def test_the_key_is_the_type_name_and_the_exact_text(pool, db_file):
    a = pool.checkout("SQLite", db_file, SQLITE)
    b = pool.checkout("SQL", db_file, SQLITE)
    c = pool.checkout("SQLite", db_file + "?", SQLITE)  # another spelling of the same file
    for lease in (a, b, c):
        lease.release()
    assert sorted((entry["type"], entry["open"]) for entry in pool.stats()) == [
        ("SQL", 1), ("SQLite", 1), ("SQLite", 1),
    ]


def test_idle_cap(make_pool, db_file):
    pool = make_pool(idle=1)
    leases = [pool.checkout("SQLite", db_file, SQLITE) for _ in range(3)]
    for lease in leases:
        lease.release()
    assert stats_of(pool, "SQLite")["open"] == 1
    assert pool.checkout("SQLite", db_file, SQLITE).connection is leases[0].connection


def test_idle_cap_zero_keeps_none(make_pool, db_file):
    pool = make_pool(idle=0)
    lease = pool.checkout("SQLite", db_file, SQLITE)
    lease.release()
    assert stats_of(pool, "SQLite")["open"] == 0
    assert pool.checkout("SQLite", db_file, SQLITE).connection is not lease.connection


def test_release_is_idempotent(pool, db_file):
    lease = pool.checkout("SQLite", db_file, SQLITE)
    lease.release()
    lease.release()
    assert stats_of(pool, "SQLite")["idle"] == 1


def test_the_process_pool_is_shared_and_replaceable(make_pool):
    replacement = make_pool()
    previous = set_pool(replacement)
    try:
        assert get_pool() is replacement
    finally:
        set_pool(previous)


# ------------------------------------------------------------------------------ max size and waiting


def test_max_size_and_the_wait_timeout(make_pool, db_file):
    pool = make_pool(pool_max=2, pool_timeout=0.2)
    held = [pool.checkout("SQLite", db_file, SQLITE) for _ in range(2)]
    with pytest.raises(EtamilError) as raised:
        pool.checkout("SQLite", db_file, SQLITE)
    assert raised.value.message == (
        f"தரவுத்தள இணைப்புகள் தீர்ந்தன  (no free connection to SQLite '{db_file}' within 0.2 s)"
    )
    held[0].release()
    third = pool.checkout("SQLite", db_file, SQLITE)
    assert third.connection is held[0].connection
    assert stats_of(pool, "SQLite")["open"] == 2


def test_a_waiting_checkout_gets_the_next_released_connection(make_pool, db_file):
    pool = make_pool(pool_max=1, pool_timeout=30)
    held = pool.checkout("SQLite", db_file, SQLITE)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout("SQLite", db_file, SQLITE)))
    waiter.start()
    assert wait_until(lambda: stats_of(pool, "SQLite")["waiting"] == 1)
    held.release()
    waiter.join(30)
    assert got and got[0].connection is held.connection
    got[0].release()


def test_a_newcomer_queues_behind_a_waiting_checkout(make_pool, db_file):
    # The holder gives its connection back and asks again at once: the thread that was already
    # waiting gets it first (without the queue, the newcomer would take it back every time).
    pool = make_pool(pool_max=1, pool_timeout=30)
    held = pool.checkout("SQLite", db_file, SQLITE)
    order = []

    def wait_then_hold() -> None:
        lease = pool.checkout("SQLite", db_file, SQLITE)
        order.append("waiter")
        lease.release()

    waiter = threading.Thread(target=wait_then_hold)
    waiter.start()
    assert wait_until(lambda: stats_of(pool, "SQLite")["waiting"] == 1)
    held.release()
    again = pool.checkout("SQLite", db_file, SQLITE)
    order.append("newcomer")
    again.release()
    waiter.join(30)
    assert order == ["waiter", "newcomer"]


def test_a_waiting_checkout_gets_room_when_a_connection_closes(make_pool, db_file):
    pool = make_pool(pool_max=1, pool_timeout=30, idle=0)  # released connections close
    held = pool.checkout("SQLite", db_file, SQLITE)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout("SQLite", db_file, SQLITE)))
    waiter.start()
    assert wait_until(lambda: stats_of(pool, "SQLite")["waiting"] == 1)
    held.release()
    waiter.join(30)
    assert got and got[0].connection is not held.connection
    got[0].release()


def test_pool_max_zero_means_no_limit(make_pool, db_file):
    pool = make_pool(pool_max=0, pool_timeout=0)
    leases = [pool.checkout("SQLite", db_file, SQLITE) for _ in range(30)]
    assert stats_of(pool, "SQLite")["open"] == 30
    for lease in leases:
        lease.release()


def test_the_wait_message_masks_the_password(make_pool, db_file):
    pool = make_pool(pool_max=1, pool_timeout=0)
    text = db_file + "?password=not-a-real-secret"  # (for SQLite just part of the file name)
    held = pool.checkout("SQLite", text, SQLITE)
    with pytest.raises(EtamilError) as raised:
        pool.checkout("SQLite", text, SQLITE)
    assert "not-a-real-secret" not in raised.value.message
    assert f"'{db_file}?password=****' within 0 s" in raised.value.message
    held.release()


# ------------------------------------------------------------------------------ lifetime and checks


def test_max_lifetime(make_pool, db_file):
    pool = make_pool(max_lifetime=0.2)
    first = pool.checkout("SQLite", db_file, SQLITE)
    first.release()
    young = pool.checkout("SQLite", db_file, SQLITE)
    assert young.connection is first.connection  # young: reused
    young.release()
    time.sleep(0.3)
    fresh = pool.checkout("SQLite", db_file, SQLITE)
    assert fresh.connection is not first.connection  # too old: closed, not handed out
    fresh.release()
    assert stats_of(pool, "SQLite")["open"] == 1


def test_a_connection_past_its_lifetime_closes_at_release(make_pool, db_file):
    pool = make_pool(max_lifetime=0.1)
    lease = pool.checkout("SQLite", db_file, SQLITE)
    time.sleep(0.2)
    lease.release()
    assert stats_of(pool, "SQLite")["open"] == 0


def test_a_backend_killed_while_idle_is_replaced(pool, pg_dsn, pg_admin):
    driver = driver_for("PostgreSQL")
    lease = pool.checkout("PostgreSQL", pg_dsn, driver)
    killed = backend_pid(lease)
    lease.release()
    terminate(pg_admin, killed)
    lease = pool.checkout("PostgreSQL", pg_dsn, driver)  # idle for far less than check_idle
    assert backend_pid(lease) != killed
    lease.release()
    assert stats_of(pool, "PostgreSQL")["open"] == 1


def test_a_backend_killed_while_leased_is_dropped_at_release(pool, pg_dsn, pg_admin):
    driver = driver_for("PostgreSQL")
    lease = pool.checkout("PostgreSQL", pg_dsn, driver)
    killed = backend_pid(lease)
    terminate(pg_admin, killed)
    with pytest.raises(EtamilError) as raised:
        lease.connection.query("SELECT 1 AS one", [])
    assert raised.value.message.startswith("தரவுத்தளப் பிழை  (database error): ")
    lease.release()
    assert stats_of(pool, "PostgreSQL")["open"] == 0
    lease = pool.checkout("PostgreSQL", pg_dsn, driver)
    assert lease.connection.query("SELECT 1 AS one", []) == [{"one": 1}]
    lease.release()


def test_a_mysql_connection_killed_while_idle_is_replaced(pool, mysql_url):
    driver = driver_for("MySQL")
    lease = pool.checkout("MySQL", mysql_url, driver)
    killed = lease.connection.query("SELECT CONNECTION_ID() AS c", [])[0]["c"]
    lease.release()
    killer = pool.checkout("MySQL", another_key(mysql_url), driver)
    killer.connection.execute(f"KILL {killed}", [])
    assert wait_until(lambda: not killer.connection.query(
        "SELECT id FROM information_schema.PROCESSLIST WHERE id = ?", [killed]))
    killer.release()
    lease = pool.checkout("MySQL", mysql_url, driver)
    assert lease.connection.query("SELECT CONNECTION_ID() AS c", [])[0]["c"] != killed
    lease.release()


def test_half_dead_connections_are_found_by_the_idle_check(make_pool, pg_via_proxy):
    # The server side is gone but the client's socket is quiet: only a round trip tells.
    proxy, text = pg_via_proxy
    driver = driver_for("PostgreSQL")
    checked = make_pool(check_idle=0)
    lease = checked.checkout("PostgreSQL", text, driver)
    lease.release()
    proxy.sever()
    lease = checked.checkout("PostgreSQL", text, driver)
    assert lease.connection.query("SELECT 1 AS one", []) == [{"one": 1}]
    lease.release()
    assert stats_of(checked, "PostgreSQL")["open"] == 1


def test_without_the_idle_check_a_half_dead_connection_fails_once(make_pool, pg_via_proxy):
    proxy, text = pg_via_proxy
    driver = driver_for("PostgreSQL")
    pool = make_pool(check_idle=3600)
    leases = [pool.checkout("PostgreSQL", text, driver) for _ in range(3)]
    for lease in leases:
        lease.release()
    proxy.sever()
    lease = pool.checkout("PostgreSQL", text, driver)
    with pytest.raises(EtamilError):
        lease.connection.query("SELECT 1 AS one", [])
    lease.release()  # found broken: dropped, and its idle siblings become suspect
    assert stats_of(pool, "PostgreSQL")["open"] == 2
    for _ in range(2):
        lease = pool.checkout("PostgreSQL", text, driver)  # suspects are checked: no failure
        assert lease.connection.query("SELECT 1 AS one", []) == [{"one": 1}]
        lease.release()


def test_a_database_that_is_down_fails_clearly_and_the_pool_recovers(make_pool, pg_via_proxy):
    proxy, text = pg_via_proxy
    driver = driver_for("PostgreSQL")
    pool = make_pool(connect_timeout=2)
    lease = pool.checkout("PostgreSQL", text, driver)
    lease.release()
    proxy.stop()
    for _ in range(2):
        with pytest.raises(EtamilError) as raised:
            pool.checkout("PostgreSQL", text, driver)
        message = raised.value.message
        assert message.startswith("போச்குரசீகுல் இணைக்க முடியவில்லை  (cannot connect to PostgreSQL): ")
        assert f"port {proxy.port}" in message
    assert stats_of(pool, "PostgreSQL")["open"] == 0  # the failed connects left nothing behind
    proxy.start()
    lease = pool.checkout("PostgreSQL", text, driver)
    assert lease.connection.query("SELECT 1 AS one", []) == [{"one": 1}]
    lease.release()


def test_a_server_that_does_not_answer_hits_the_connect_timeout(make_pool, tcp_proxy):
    proxy = tcp_proxy("127.0.0.1", 9)  # never forwarded: it accepts and stays silent
    proxy.hang()
    pool = make_pool(connect_timeout=1)
    with pytest.raises(EtamilError) as raised:
        pool.checkout("PostgreSQL", f"host=127.0.0.1 port={proxy.port} dbname=test user=postgres",
                      driver_for("PostgreSQL"))
    assert raised.value.message.startswith("போச்குரசீகுல் இணைக்க முடியவில்லை  (cannot connect to PostgreSQL): ")
    with pytest.raises(EtamilError) as raised:
        pool.checkout("MySQL", f"mysql://root@127.0.0.1:{proxy.port}/test", driver_for("MySQL"))
    assert raised.value.message.startswith("மைசீகுல் இணைக்க முடியவில்லை  (cannot connect to MySQL): ")


# ------------------------------------------------------------------------------ threads


def _lease_concurrently(pool: ConnectionPool, type_name: str, text: str, identify, threads: int = 32,
                        rounds: int = 15) -> set:
    driver = driver_for(type_name)
    in_use: set = set()
    seen: set = set()
    guard = threading.Lock()
    clashes: list = []

    def work(_):
        for _ in range(rounds):
            lease = pool.checkout(type_name, text, driver)
            identity = (id(lease.connection), identify(lease))
            with guard:
                if identity[0] in {i[0] for i in in_use} or identity[1] in {i[1] for i in in_use}:
                    clashes.append(identity)
                in_use.add(identity)
                seen.add(identity)
            lease.connection.query("SELECT 1 AS one", [])
            with guard:
                in_use.discard(identity)
            lease.release()

    with ThreadPoolExecutor(threads) as executor:
        list(executor.map(work, range(threads)))
    assert clashes == []
    return seen


def test_32_threads_never_share_a_sqlite_connection(make_pool, db_file):
    pool = make_pool(pool_max=0)
    seen = _lease_concurrently(pool, "SQLite", db_file, lambda lease: id(lease.connection))
    assert 1 <= len(seen) <= 32
    assert stats_of(pool, "SQLite")["in_use"] == 0


def test_32_threads_never_share_a_postgres_session(make_pool, pg_dsn):
    pool = make_pool(pool_max=8, pool_timeout=60)
    seen = _lease_concurrently(pool, "PostgreSQL", pg_dsn, backend_pid)
    assert len({pid for _, pid in seen}) <= 8  # the max size held
    entry = stats_of(pool, "PostgreSQL")
    assert entry["open"] <= 8 and entry["in_use"] == 0 and entry["waiting"] == 0


# ------------------------------------------------------------------------------ fork


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_pool_inherited_across_fork_is_not_used_by_the_child(pool, pg_dsn):
    driver = driver_for("PostgreSQL")
    lease = pool.checkout("PostgreSQL", pg_dsn, driver)
    parents = backend_pid(lease)
    lease.release()
    del lease
    held = pool.checkout("PostgreSQL", pg_dsn + " application_name=held", driver)  # leased at fork
    held_pid = backend_pid(held)

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report what it got, then let every finalizer run
        status = 0
        try:
            os.close(read_end)
            mine = pool.checkout("PostgreSQL", pg_dsn, driver)
            report = f"{backend_pid(mine)} {stats_of(pool, 'PostgreSQL')['open']}"
            mine.release()
            held.release()  # an inherited lease given back in the child: not touched
            del held
            pool.close_all()
            GRAVEYARD.clear()
            gc.collect()  # psycopg2 finalizers run now: they must not reach the parent's sessions
            os.write(write_end, report.encode())
        except BaseException as error:  # noqa: BLE001 - report anything to the parent
            os.write(write_end, f"error {error!r}".encode())
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        report = reader.read()
    _, status = os.waitpid(child, 0)
    assert status == 0, report
    childs, child_open = report.split()
    assert Decimal(childs) not in (parents, held_pid)  # the child opened its own connection
    assert child_open == "1"  # and saw nothing of what it inherited
    # the parent's connections still work
    assert held.connection.query("SELECT 1 AS one", []) == [{"one": 1}]
    held.release()
    lease = pool.checkout("PostgreSQL", pg_dsn, driver)
    assert backend_pid(lease) == parents
    assert lease.connection.query("SELECT 2 AS two", []) == [{"two": 2}]
    lease.release()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_lock_held_by_another_thread_at_fork_does_not_block_the_child(pool, db_file):
    holding, done = threading.Event(), threading.Event()

    def hold():
        with pool._lock, pool_module._process_pool_lock:
            holding.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(30)
    child = os.fork()
    if child == 0:
        signal.alarm(20)  # a deadlock ends the child with SIGALRM instead of hanging the test
        try:
            pool.checkout("SQLite", db_file, SQLITE).release()
            get_pool()
            status = 0
        except BaseException:  # noqa: BLE001
            status = 1
        os._exit(status)
    _, status = os.waitpid(child, 0)
    done.set()
    holder.join()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# ------------------------------------------------------------------------------ shutdown


def test_close_all_closes_idle_and_later_releases(pool, db_file):
    idle = pool.checkout("SQLite", db_file, SQLITE)
    busy = pool.checkout("SQLite", db_file, SQLITE)
    idle.release()
    pool.close_all()
    assert pool.stats() == []
    busy.release()  # closed, not kept
    assert pool.stats() == []
    fresh = pool.checkout("SQLite", db_file, SQLITE)  # the pool still works afterwards
    assert fresh.connection not in (idle.connection, busy.connection)
    fresh.release()


# ------------------------------------------------------------------------------ helpers


def terminate(admin, pid: Decimal) -> None:
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (int(pid),))

    def gone() -> bool:
        with admin.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (int(pid),))
            return cursor.fetchone()[0] == 0

    assert wait_until(gone)


def wait_until(condition, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def another_key(url: str) -> str:
    """The same MySQL server under another connection text: a separate pool key."""
    return url + ("&" if "?" in url else "?") + "socket="
