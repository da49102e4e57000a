"""The inline budget (web/vmpool.py, web/responder.py): a handler that cannot block and runs past
its budget on the event loop is stopped there and run again on the executor, and nothing of the
abandoned run leaks: not its printed text, not its response variables. Deep recursion is a clean
eTamil error. The loop keeps serving meanwhile."""

from __future__ import annotations

import asyncio
import io
import time

import pytest

from etamil_server.runtime.context import BudgetMark, OverBudget, RunContext
from etamil_server.web.loading import load_app
from etamil_server.web.request import Request
from etamil_server.web.responder import AppResponder
from etamil_server.web.response import Response, http_date
from etamil_server.web.vmpool import VmPool, Watchdog

PROGRAM = """
ceyal aazham(n) { qirumpu aazham(n + 1); }
வழி பெறு, "/fast" { accu "fast ran"; பதில் 200, "fast", {"Content-Type": "text/plain"}; }
வழி பெறு, "/spin" {
    accu "spin printed";
    response_status = 201;
    i = 0; (i < 2000000) cuRRu { i = i + 1; }
    பதில் 200, "spun " & i, {"X-Runs": "once"};
}
வழி பெறு, "/loop" { accu "loop printed"; i = 0; (mey) cuRRu { i = i + 1; } }
வழி பெறு, "/recurse" { x = aazham(0); }
வழி பெறு, "/nested" {
    a = []; b = []; i = 0; (i < 15000) cuRRu { a = [a]; b = [b]; i = i + 1; }
    பதில் 200, "same " & (a == b), {};
}
"""


class Hub:
    date = http_date()

    def __init__(self):
        self.exits = []

    def readiness(self):
        return None

    def exit_process(self, status):
        self.exits.append(status)


@pytest.fixture
def served(tmp_path):
    """(responder, loop, printed): the program behind a responder with a 20 ms inline budget and
    a 2 s deadline; ``printed`` is the stream the pooled contexts print to."""
    path = tmp_path / "app.qmz"
    path.write_text(PROGRAM, encoding="utf-8")
    app = load_app(str(path)).app
    loop = asyncio.new_event_loop()
    pool = VmPool(4, 2, 2.0, loop, inline_budget=0.02)
    printed = io.StringIO()
    original = pool.acquire

    def acquire():
        ctx = original()
        ctx.stdout = printed
        return ctx

    pool.acquire = acquire
    responder = AppResponder(app, pool, Hub(), deadline=2.0, max_concurrency=10, server_name="t")
    yield responder, loop, printed
    pool.close(wait=True)
    loop.close()


def answer(responder: AppResponder, loop, path: str) -> Response:
    result = responder.handle(Request("GET", path, path, "", [("Host", "t")], b"", "1.1"))
    if isinstance(result, asyncio.Future):
        return loop.run_until_complete(asyncio.wait_for(result, 30))
    return result


def test_a_short_handler_is_answered_inline_and_prints_once(served):
    responder, loop, printed = served
    response = answer(responder, loop, "/fast")
    assert not isinstance(response, asyncio.Future) and response.body == b"fast"
    assert printed.getvalue() == "fast ran\n"
    assert responder.pool.in_executor == 0


def test_a_handler_past_its_budget_runs_again_off_the_loop_and_nothing_leaks(served):
    responder, loop, printed = served
    result = responder.handle(Request("GET", "/spin", "/spin", "", [("Host", "t")], b"", "1.1"))
    assert isinstance(result, asyncio.Future)  # moved to the executor
    response = loop.run_until_complete(asyncio.wait_for(result, 30))
    assert response.status == 200 and response.body == b"spun 2000000"
    assert ("X-Runs", "once") in response.headers
    assert printed.getvalue() == "spin printed\n"  # the abandoned run's print was dropped


def test_a_runaway_gets_503_at_the_deadline_and_the_loop_serves_meanwhile(served):
    responder, loop, printed = served
    started = time.monotonic()
    runaway = responder.handle(Request("GET", "/loop", "/loop", "", [("Host", "t")], b"", "1.1"))
    assert isinstance(runaway, asyncio.Future)
    # while the runaway runs on a thread, the loop answers other requests inline
    assert answer(responder, loop, "/fast").body == b"fast"
    response = loop.run_until_complete(asyncio.wait_for(runaway, 30))
    assert response.status == 503 and b"deadline of 2 s" in response.body
    assert time.monotonic() - started >= 1.5  # its second run had what was left of the 2 s
    assert printed.getvalue().count("loop printed") == 1


@pytest.mark.parametrize("path", ["/recurse", "/nested"])
def test_deep_recursion_is_a_clean_etamil_error(served, path):
    responder, loop, _ = served
    response = answer(responder, loop, path)
    assert response.status == 500
    assert b"(call depth exceeded" in response.body and b"Traceback" not in response.body
    assert answer(responder, loop, "/fast").body == b"fast"


def test_the_budget_mark_stops_a_run_with_its_own_signal():
    ctx = RunContext()
    ctx.stop.append(BudgetMark(12.5))
    with pytest.raises(OverBudget) as spent:
        ctx.stopped()
    assert spent.value.started == 12.5
    assert not isinstance(spent.value, Exception)  # no `except Exception` on the way catches it


def test_the_watchdog_marks_only_the_inline_run_past_its_budget():
    watchdog = Watchdog(deadline=10.0, budget=0.01)
    try:
        quick, slow = RunContext(), RunContext()
        watchdog.arm_inline(quick)
        watchdog.disarm_inline(quick)
        watchdog.arm_inline(slow)
        time.sleep(0.5)
        assert quick.stop == []
        assert len(slow.stop) == 1 and type(slow.stop[0]) is BudgetMark
        watchdog.disarm_inline(slow)
        threaded = RunContext()
        watchdog.arm(threaded)  # a run on the executor has no budget, only its deadline
        time.sleep(0.2)
        assert threaded.stop == []
    finally:
        watchdog.close()


def test_no_budget_leaves_inline_runs_alone():
    watchdog = Watchdog(deadline=10.0, budget=0.0)
    try:
        ctx = RunContext()
        watchdog.arm_inline(ctx)
        time.sleep(0.2)
        assert ctx.stop == []
    finally:
        watchdog.close()
