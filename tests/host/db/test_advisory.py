"""host/db/advisory.py: the timers' cluster-wide lock and schedule, on the real PostgreSQL —
directly, and through PgBouncer in transaction pooling mode."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from etamil_server.host.db.advisory import SCHEDULE_TABLE, AdvisoryLeadership, LeadershipError, program_key

from .conftest import TEST_SETTINGS


def test_the_key_comes_from_the_program_name():
    assert program_key("ledger_api.qmz") == program_key("ledger_api.qmz")
    assert program_key("ledger_api.qmz") != program_key("payroll.qmz")
    assert -(2**63) <= program_key("x") < 2**63


@pytest.fixture(params=["direct", "pgbouncer"])
def target(request, pg_dsn):
    """(connection text, settings) of the database the lock is taken on."""
    if request.param == "direct":
        return pg_dsn, TEST_SETTINGS
    bouncer = request.getfixturevalue("pgbouncer_wide")
    return bouncer.dsn, replace(TEST_SETTINGS, transaction_pooling=True)


@pytest.fixture
def leaderships(target, pg_admin):
    """``make(name)``: a leadership for program ``name`` (unique per test); closed, rows removed."""
    made: list[AdvisoryLeadership] = []
    suffix = uuid.uuid4().hex[:8]
    text, settings = target

    def make(name: str = "app.qmz") -> AdvisoryLeadership:
        leadership = AdvisoryLeadership(text, program_key(f"{name}-{suffix}"), settings, name)
        made.append(leadership)
        return leadership

    yield make
    for leadership in made:
        leadership.close()
    with pg_admin.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEDULE_TABLE,))
        if cursor.fetchone()[0]:
            cursor.execute(f"DELETE FROM {SCHEDULE_TABLE} WHERE lock_key = ANY(%s)", ([m.key for m in made],))


def lock_backend(pg_admin, key: int) -> int | None:
    """The server process holding the advisory lock ``key``, if any."""
    with pg_admin.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND classid::bigint = (%s::bigint >> 32) & 4294967295 AND objid::bigint = %s::bigint & 4294967295",
            (key, key),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_one_holder_at_a_time_and_release_hands_over(leaderships, pg_admin):
    first, second = leaderships(), leaderships()
    assert first.try_acquire() and first.held
    assert not second.try_acquire() and not second.held
    assert first.still_held()
    assert lock_backend(pg_admin, first.key) is not None
    first.release()
    assert not first.held and lock_backend(pg_admin, first.key) is None
    assert second.try_acquire()
    assert not first.try_acquire()


def test_different_programs_do_not_exclude_each_other(leaderships):
    assert leaderships("ledger.qmz").try_acquire()
    assert leaderships("payroll.qmz").try_acquire()


def test_a_broken_connection_loses_the_lock_and_frees_it(leaderships, pg_admin):
    first, second = leaderships(), leaderships()
    assert first.try_acquire()
    with pg_admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (lock_backend(pg_admin, first.key),))
    assert not first.still_held()
    assert not first.held
    assert second.try_acquire()  # PostgreSQL ended the session, and the lock with it
    assert not first.try_acquire()  # a fresh connection, and the lock is taken


def test_the_schedule_is_kept_in_the_database_clock(leaderships):
    first = leaderships()
    assert first.try_acquire()
    assert first.load_schedule() == {}
    first.save_due("1:60", 60.0)
    first.save_due("2:5", -3.0)  # overdue
    first.save_due("1:60", 30.0)  # the latest wins
    first.release()
    second = leaderships()
    second.key = first.key  # the same program on another host
    assert second.try_acquire()
    schedule = second.load_schedule()
    assert set(schedule) == {"1:60", "2:5"}
    assert 25.0 < schedule["1:60"] <= 30.0
    assert -8.0 < schedule["2:5"] <= -3.0


def test_an_unreachable_database_is_a_clear_error(target):
    text, settings = target
    leadership = AdvisoryLeadership("host=127.0.0.1 port=1 dbname=x user=x", 1, settings)
    with pytest.raises(LeadershipError, match="127.0.0.1"):
        leadership.try_acquire()
    assert not leadership.held and not leadership.still_held()
