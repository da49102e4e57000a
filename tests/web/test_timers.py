"""Timers once per server: flock leadership, the shared schedule, hand-over."""

from __future__ import annotations

import asyncio
import json

import pytest

from etamil_server.base.errors import EtamilExit
from etamil_server.web.timers import Leadership, TimerRunner, remove_state, state_paths


class FakeTimer:
    def __init__(self, index, seconds, action=None):
        self.index = index
        self.seconds = seconds
        self.runs = 0
        self.action = action

    def run(self, ctx):
        self.runs += 1
        if self.action:
            self.action()
        return True


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def runner_for(loop, timers, tmp_path, on_exit=None):
    def submit(run, deadline):
        future = loop.create_future()
        try:
            future.set_result(run(None))
        except BaseException as exc:  # noqa: BLE001 - the runner inspects it
            future.set_exception(exc)
        return future

    return TimerRunner(timers, loop, submit, "s1", str(tmp_path), on_exit=on_exit)


def run_for(loop, seconds):
    loop.run_until_complete(asyncio.sleep(seconds))


def test_only_one_holder_of_the_lock(tmp_path):
    path = str(tmp_path / "x.lock")
    first, second = Leadership(path), Leadership(path)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_the_leader_runs_the_timers_and_the_other_does_not(loop, tmp_path):
    mine, theirs = FakeTimer(1, 0.05), FakeTimer(1, 0.05)
    leader = runner_for(loop, [mine], tmp_path)
    follower = runner_for(loop, [theirs], tmp_path)
    leader.poll()
    follower.poll()
    run_for(loop, 0.3)
    assert leader.leader and not follower.leader
    assert mine.runs >= 2
    assert theirs.runs == 0
    leader.stop()
    follower.poll()
    assert follower.leader
    run_for(loop, 0.3)
    assert theirs.runs >= 1
    follower.stop()


def test_the_first_run_is_one_interval_after_the_start_and_the_schedule_is_saved(loop, tmp_path):
    timer = FakeTimer(1, 0.2)
    runner = runner_for(loop, [timer], tmp_path)
    runner.poll()
    run_for(loop, 0.05)
    assert timer.runs == 0
    _, state = state_paths("s1", str(tmp_path))
    with open(state, encoding="utf-8") as handle:
        assert "1:0.2" in json.load(handle)
    run_for(loop, 0.3)
    assert timer.runs >= 1
    runner.stop()


def test_a_new_leader_continues_the_saved_schedule(loop, tmp_path):
    _, state = state_paths("s1", str(tmp_path))
    with open(state, "w", encoding="utf-8") as handle:
        json.dump({"1:100": 0.0}, handle)  # overdue: the previous leader died before running it
    timer = FakeTimer(1, 100)
    runner = runner_for(loop, [timer], tmp_path)
    runner.poll()
    run_for(loop, 0.05)
    assert timer.runs == 1  # ran at once, not 100 s from now
    runner.stop()


def test_a_leader_that_stops_keeps_the_lock_until_its_tick_ends(loop, tmp_path):
    pending = []

    def submit(run, deadline):
        future = loop.create_future()
        pending.append((future, run))
        return future

    runner = TimerRunner([FakeTimer(1, 0.01)], loop, submit, "s2", str(tmp_path))
    runner.poll()
    run_for(loop, 0.05)
    assert pending  # a tick is in flight
    runner.stop()
    other = Leadership(state_paths("s2", str(tmp_path))[0])
    assert not other.try_acquire()
    future, run = pending.pop()
    future.set_result(run(None))
    run_for(loop, 0)
    assert other.try_acquire()
    other.release()


def test_exit_in_a_tick_reaches_the_server(loop, tmp_path):
    statuses = []

    def leave():
        raise EtamilExit(4)

    runner = runner_for(loop, [FakeTimer(1, 0.01, leave)], tmp_path, on_exit=statuses.append)
    runner.poll()
    run_for(loop, 0.1)
    assert statuses == [4]
    runner.stop()


def test_remove_state_forgets_the_files(tmp_path):
    lock, state = state_paths("s3", str(tmp_path))
    for path in (lock, state):
        open(path, "w").close()
    remove_state("s3", str(tmp_path))
    assert list(tmp_path.iterdir()) == []
