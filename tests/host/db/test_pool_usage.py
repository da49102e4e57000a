"""The numbers the pool keeps for the server's metrics (``ConnectionPool.usage``): open, in use
and waiting now, and every checkout's wait for a free connection."""

from __future__ import annotations

import threading
import time

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host.db.drivers import driver_for
from etamil_server.host.db.pool import WAIT_BUCKETS

SQLITE = driver_for("SQLite")


@pytest.fixture
def db_file(tmp_path):
    return str(tmp_path / "usage.db")


def wait_until(condition, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_an_unused_pool_reports_nothing(make_pool):
    assert make_pool().usage() == {}


def test_checkouts_without_a_wait_fall_in_the_first_bucket(make_pool, db_file):
    pool = make_pool(pool_max=3)
    leases = [pool.checkout("SQLite", db_file, SQLITE) for _ in range(2)]
    usage = pool.usage()["SQLite"]
    assert (usage["open"], usage["in_use"], usage["idle"], usage["waiting"], usage["max"]) == (2, 2, 0, 0, 3)
    assert usage["wait_buckets"][0] == 2 and sum(usage["wait_buckets"]) == 2
    assert usage["wait_seconds"] == 0.0 and usage["timeouts"] == 0
    leases[0].release()
    usage = pool.usage()["SQLite"]
    assert (usage["open"], usage["in_use"], usage["idle"]) == (2, 1, 1)
    leases[1].release()


def test_a_checkout_that_waited_is_counted_with_its_wait(make_pool, db_file):
    pool = make_pool(pool_max=1, pool_timeout=30)
    held = pool.checkout("SQLite", db_file, SQLITE)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.checkout("SQLite", db_file, SQLITE)))
    waiter.start()
    assert wait_until(lambda: pool.usage()["SQLite"]["waiting"] == 1)
    time.sleep(0.05)  # a wait long enough to leave the first bucket
    held.release()
    waiter.join(30)
    got[0].release()
    usage = pool.usage()["SQLite"]
    assert sum(usage["wait_buckets"]) == 2  # both checkouts
    assert usage["wait_buckets"][0] == 1  # the first one found a free slot
    waited = usage["wait_seconds"]
    assert waited >= 0.05
    # the second one sits in the bucket its wait belongs to
    index = next(i for i, bound in enumerate(WAIT_BUCKETS) if waited <= bound)
    assert usage["wait_buckets"][index] == 1
    assert usage["waiting"] == 0


def test_a_checkout_that_gives_up_is_a_timeout_not_a_checkout(make_pool, db_file):
    pool = make_pool(pool_max=1, pool_timeout=0.1)
    held = pool.checkout("SQLite", db_file, SQLITE)
    with pytest.raises(EtamilError):
        pool.checkout("SQLite", db_file, SQLITE)
    usage = pool.usage()["SQLite"]
    assert usage["timeouts"] == 1
    assert sum(usage["wait_buckets"]) == 1
    assert usage["wait_seconds"] >= 0.1
    held.release()


def test_the_totals_survive_close_all(make_pool, db_file):
    pool = make_pool()
    pool.checkout("SQLite", db_file, SQLITE).release()
    pool.close_all()
    usage = pool.usage()["SQLite"]
    assert usage["open"] == 0
    assert sum(usage["wait_buckets"]) == 1  # a counter never goes back


def test_private_databases_are_not_counted(make_pool):
    pool = make_pool()
    pool.checkout("SQLite", ":memory:", SQLITE).release()
    assert pool.usage() == {}
