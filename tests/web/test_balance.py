"""The shared table of open connections that spreads accepts over the workers: the accept turns,
patience with a stuck worker, holding back while another worker's count is still falling, and
shedding. Time is a fake clock (monotonic nanoseconds) shared by the workers of a test."""

from __future__ import annotations

import os

import pytest

from etamil_server.web.balance import (
    ALIVE,
    FALLING,
    HOLD_LIMIT,
    PATIENCE,
    SETTLING_TURN_SHARE,
    SHED_MARGIN,
    SLACK,
    TURN_SHARE,
    UNLIMITED,
    LoadTable,
    Share,
)

NS = 1_000_000_000


class Clock:
    def __init__(self):
        self.now = 10 * NS

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * NS)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pair(clock):
    table = LoadTable()
    return Share(table, 1, clock), Share(table, 2, clock)


def test_a_lone_worker_takes_everything_waiting(clock):
    share = Share(LoadTable(), 1, clock)
    assert share.allowance(1000) == UNLIMITED
    assert share.may_accept(1000)


def test_a_worker_takes_its_turn_up_to_one_more_than_the_least_loaded_other(pair):
    mine, other = pair
    other.publish(3)  # below TURN_SHARE: the turn is SLACK alone
    assert mine.allowance(3) == SLACK + 1
    assert mine.allowance(3 + SLACK) == 1
    assert mine.allowance(4 + SLACK) == 0


def test_the_turn_grows_with_the_load(pair):
    mine, other = pair
    other.publish(320)
    assert mine.allowance(320) == SLACK + 320 // TURN_SHARE + 1


def test_a_busier_worker_waits_for_its_patience_then_takes_a_batch(pair, clock):
    mine, other = pair
    other.publish(0)
    assert mine.allowance(50) == 0
    clock.advance(PATIENCE / 2)
    assert mine.allowance(50) == 0
    clock.advance(PATIENCE)
    assert mine.allowance(50) == UNLIMITED


def test_a_stuck_worker_is_not_waited_for_again_until_it_shows_life(pair, clock):
    mine, other = pair
    other.publish(0)
    mine.allowance(50)
    clock.advance(PATIENCE * 1.5)
    assert mine.allowance(50) == UNLIMITED
    assert mine.allowance(60) == UNLIMITED  # it published nothing since: no second wait
    other.publish(1)  # it runs again
    assert mine.allowance(60) == 0


def test_patience_starts_again_while_the_least_loaded_other_takes_connections(pair, clock):
    mine, other = pair
    other.publish(0)
    mine.allowance(50)
    for taken in range(1, 4):
        clock.advance(PATIENCE * 0.6)
        other.publish(taken)
        assert mine.allowance(50) == 0


def test_a_worker_well_below_a_falling_one_holds_until_it_settles(pair, clock):
    mine, other = pair
    other.closed(63)  # it is closing what it had (a burst just ended)
    assert mine.allowance(0) == 0
    clock.advance(FALLING / 2)
    other.closed(40)
    assert mine.allowance(0) == 0
    clock.advance(FALLING * 1.1)  # no close since: its count is what it will be
    assert mine.allowance(0) == 40 + SLACK + 40 // TURN_SHARE + 1


def test_a_worker_just_done_closing_its_own_holds_for_the_other_to_begin(pair, clock):
    mine, other = pair
    other.publish(500)  # its closes are not even begun (its count never fell)
    mine.closed(0)  # a burst ended: we closed ours
    assert mine.allowance(0) == 0
    clock.advance(FALLING * 1.1)
    assert mine.allowance(0) > 0  # nothing fell for a while: the other's count is real


def test_a_hold_ends_at_its_limit_even_if_the_other_keeps_falling(pair, clock):
    mine, other = pair
    other.closed(500)
    assert mine.allowance(0) == 0
    steps = int(HOLD_LIMIT / (FALLING / 2)) + 1
    for _ in range(steps):
        clock.advance(FALLING / 2)
        other.closed(500)
    assert mine.allowance(0) > 0
    clock.advance(FALLING / 2)
    other.closed(500)
    assert mine.allowance(0) > 0  # the same fall: no second hold


def test_a_small_gap_to_a_falling_worker_is_no_reason_to_hold(pair):
    mine, other = pair
    other.closed(3)
    assert mine.allowance(0) == 3 + SLACK + 3 // TURN_SHARE + 1


def test_the_turn_grows_by_a_sixteenth_only_while_a_count_may_still_fall(pair, clock):
    """A falling count is partly connections about to close: after a burst closed, a quarter of
    it handed one worker the other's share too (44/20 of 64 newcomers in 2 of 20 servers)."""
    mine, other = pair
    other.closed(20)  # close enough not to hold, still falling
    assert mine.allowance(0) == 20 + SLACK + 20 // SETTLING_TURN_SHARE + 1
    clock.advance(FALLING * 1.1)
    assert mine.allowance(0) == 20 + SLACK + 20 // TURN_SHARE + 1
    mine.closed(0)  # our own closes make the other's count suspect as well
    assert mine.allowance(0) == 20 + SLACK + 20 // SETTLING_TURN_SHARE + 1


def test_the_falling_worker_does_not_lose_patience_with_a_holding_one(pair, clock):
    falling, holder = pair
    falling.closed(63)
    assert holder.allowance(0) == 0  # holds, and says so in the table
    assert falling.allowance(63) == 0
    assert 1.5 * PATIENCE < HOLD_LIMIT  # the test waits past the one, within the other
    for step in range(1, 6):
        clock.advance(PATIENCE * 0.3)
        falling.closed(63 - step)  # still closing
        assert holder.allowance(0) == 0
        assert falling.allowance(63 - step) == 0  # well past PATIENCE: still waiting for the holder
    clock.advance(PATIENCE * 1.5)  # the holder stopped looking (stuck): patience runs out
    falling.allowance(58)
    clock.advance(PATIENCE * 1.1)
    assert falling.allowance(58) == UNLIMITED


def test_a_draining_worker_is_not_waited_for(pair):
    mine, other = pair
    other.publish(0)
    assert mine.allowance(50) == 0
    other.release()
    assert mine.allowance(50) == UNLIMITED


def test_the_master_forgets_a_dead_worker(clock):
    table = LoadTable()
    mine = Share(table, 1, clock)
    table.claim(5)  # claimed by this pid, as a forked worker would
    table.publish(5, 0)
    assert mine.allowance(50) == 0
    table.forget(os.getpid())
    assert table.least_other(1) is None


def test_a_claimed_slot_starts_empty(clock):
    table = LoadTable()
    first = Share(table, 2, clock)
    first.closed(9)
    first.beat()
    table.claim(first.slot)  # a new worker in the same slot
    assert tuple(table.least_other(0)) == (0, 0, 0, 0)


def test_the_table_is_shared_with_a_forked_child(clock):
    table = LoadTable()
    mine = Share(table, 1, clock)
    pid = os.fork()
    if pid == 0:
        Share(table, 2).closed(7)
        os._exit(0)
    os.waitpid(pid, 0)
    other = table.least_other(mine.slot)
    assert other.connections == 7
    assert other.closed_at > 0


# ------------------------------------------------------------------------------ shedding


@pytest.fixture
def settled(pair, clock):
    """Two workers whose counts have settled, both beating."""
    mine, other = pair
    mine.beat()
    other.beat()
    clock.advance(FALLING * 2)
    return mine, other


def test_a_worker_far_above_the_other_sheds_half_its_lead(settled):
    mine, other = settled
    other.publish(0)
    assert mine.excess(64) == 32
    other.publish(24)
    assert mine.excess(40) == 8


def test_a_lead_within_the_margin_is_left_alone(settled):
    mine, other = settled
    other.publish(20)
    assert mine.excess(20 + SHED_MARGIN) == 0
    assert mine.excess(20) == 0
    assert mine.excess(0) == 0


def test_the_margin_grows_with_the_load(settled):
    mine, other = settled
    other.publish(800)
    assert mine.excess(800 + 100) == 0
    assert mine.excess(800 + 102) == 51


def test_no_shedding_while_a_count_is_falling(settled, clock):
    mine, other = settled
    other.closed(0)
    assert mine.excess(64) == 0
    clock.advance(FALLING * 2)
    assert mine.excess(64) == 32
    mine.closed(64)
    assert mine.excess(64) == 0


def test_no_shedding_toward_a_worker_that_does_not_beat(settled, clock):
    mine, other = settled
    other.publish(0)
    clock.advance(ALIVE * 1.1)
    mine.beat()
    assert mine.excess(64) == 0
    other.beat()
    assert mine.excess(64) == 32


def test_no_shedding_toward_a_holding_worker(settled, clock):
    mine, other = settled
    mine.closed(64)
    clock.advance(FALLING * 0.9)
    assert other.allowance(0) == 0  # holds: my count is falling
    clock.advance(FALLING * 0.15)
    assert mine.excess(64) == 0  # it held moments ago: the table is in flux
    clock.advance(PATIENCE * 1.1)
    assert mine.excess(64) == 32


def test_a_lone_worker_sheds_nothing(clock):
    share = Share(LoadTable(), 1, clock)
    share.beat()
    assert share.excess(1000) == 0
