"""VM contexts, the executor and the deadline watchdog."""

from __future__ import annotations

import asyncio
import threading

import pytest

from etamil_server.base.errors import DeadlineExceeded
from etamil_server.lang.loader import load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.web.vmpool import VmPool, Watchdog


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def pool(loop):
    pool = VmPool(size=2, threads=2, deadline=0.2, loop=loop)
    yield pool
    pool.close(wait=True)


def spin_until_stopped(ctx):
    while not ctx.stop:
        pass
    return "stopped"


def test_contexts_are_reused_and_start_clean(pool):
    first = pool.run_inline(lambda ctx: ctx)
    first.stop.append("left over")
    first.uploads = ["x"]
    second = pool.run_inline(lambda ctx: (ctx, list(ctx.stop), ctx.uploads))
    assert second[0] is first
    assert second[1] == [] and second[2] == []


def test_the_watchdog_stops_an_inline_run_past_its_deadline(pool):
    assert pool.run_inline(spin_until_stopped) == "stopped"


def test_a_compiled_program_past_its_deadline_raises_deadline_exceeded(pool):
    compiled = compile_program(load_text("x = 0; (1 == 1) சுற்று { x = x + 1; }").statements)
    with pytest.raises(DeadlineExceeded) as error:
        pool.run_inline(lambda ctx: compiled.run(ctx, {}))
    assert "0.2 s" in error.value.message


def test_no_deadline_means_the_run_is_only_registered(pool):
    ran = pool.run_inline(lambda ctx: (list(ctx.stop), ctx.deadline_seconds), deadline=0)
    assert ran == ([], None)


def test_a_late_stop_never_reaches_the_next_run():
    watchdog = Watchdog(deadline=100)

    class Ctx:
        stop: list = []
        deadline_seconds = None

    ctx = Ctx()
    watchdog.arm(ctx)
    old = ctx.stop
    watchdog.disarm(ctx)
    old.append("deadline")  # what a watchdog that read the run just before it ended may do
    watchdog.arm(ctx)
    assert ctx.stop == []
    watchdog.close()


def test_threaded_runs_resolve_on_the_loop_and_are_counted(pool, loop):
    started = threading.Event()
    release = threading.Event()

    def blocking(ctx):
        started.set()
        release.wait(10)
        return threading.current_thread().name

    future = pool.submit(blocking, deadline=0)
    assert pool.in_executor == 1
    assert started.wait(10)
    release.set()
    name = loop.run_until_complete(future)
    assert name.startswith("etamil-handler")
    assert pool.in_executor == 0


def test_stop_running_stops_threaded_runs(pool, loop):
    started = threading.Event()

    def waiting(ctx):
        started.set()
        return spin_until_stopped(ctx)

    future = pool.submit(waiting, deadline=0)
    assert started.wait(10)
    pool.stop_running()
    assert loop.run_until_complete(future) == "stopped"
