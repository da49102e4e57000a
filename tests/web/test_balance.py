"""The shared table of open connections that spreads accepts over the workers."""

from __future__ import annotations

import os

from etamil_server.web.balance import SLACK, LoadTable, Share


def test_a_lone_worker_always_accepts():
    share = Share(LoadTable(), 1)
    assert share.may_accept(1000)


def test_a_worker_accepts_only_while_not_busier_than_the_least_loaded_other():
    table = LoadTable()
    mine, other = Share(table, 1), Share(table, 2)
    other.publish(10)
    assert mine.may_accept(10 + SLACK)
    assert not mine.may_accept(11 + SLACK)


def test_a_draining_worker_is_not_waited_for():
    table = LoadTable()
    mine, other = Share(table, 1), Share(table, 2)
    other.publish(0)
    assert not mine.may_accept(50)
    other.release()
    assert mine.may_accept(50)


def test_the_master_forgets_a_dead_worker():
    table = LoadTable()
    mine = Share(table, 1)
    table.claim(5)  # claimed by this pid, as a forked worker would
    table.publish(5, 0)
    assert not mine.may_accept(50)
    table.forget(os.getpid())
    assert table.least_other(1) is None


def test_the_table_is_shared_with_a_forked_child():
    table = LoadTable()
    mine = Share(table, 1)
    pid = os.fork()
    if pid == 0:
        Share(table, 2).publish(7)
        os._exit(0)
    os.waitpid(pid, 0)
    assert table.least_other(mine.slot) == 7
