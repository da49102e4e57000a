"""Timers once per cluster: two "hosts" (runners with their own state directories, so their flocks
never meet) share one PostgreSQL advisory lock and the schedule table. Real PostgreSQL; skipped
with a one-line reason without it (a failure in CI)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from etamil_server.config import DatabaseSettings
from etamil_server.lang.loader import load_text
from etamil_server.web.app import App
from etamil_server.web.timers import TimerRunner, cluster_leadership

PG_DSN = os.environ.get("ETAMIL_TEST_POSTGRES", "host=127.0.0.1 port=5432 dbname=test user=postgres")
INTERVAL = 0.3


@pytest.fixture(scope="module")
def pg_admin():
    import psycopg2

    try:
        connection = psycopg2.connect(PG_DSN, connect_timeout=3)
    except psycopg2.Error as error:
        message = f"PostgreSQL not reachable ({' '.join(str(error).split())[:120]}); start it with .ci/services.sh"
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    connection.autocommit = True
    yield connection
    connection.close()


class Tick:
    """A timer whose runs are recorded (runner name, loop time) in a shared list."""

    def __init__(self, host: str, runs: list, loop, index: int = 1, seconds: float = INTERVAL):
        self.index, self.seconds = index, seconds
        self.host, self.runs, self.loop = host, runs, loop

    def run(self, ctx):
        self.runs.append((self.host, self.loop.time()))


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def cluster(loop, tmp_path, pg_admin):
    """``host(name)``: a runner on its own "host" for one program (unique per test), polled
    every 0.1 s (the server's sweep does it every second). Stopped and cleaned afterwards."""
    from etamil_server.host.db.advisory import SCHEDULE_TABLE, AdvisoryLeadership, program_key

    key = program_key(f"cluster-test-{uuid.uuid4().hex}")
    runners: list[TimerRunner] = []
    runs: list = []

    def submit(run, deadline):
        future = loop.create_future()
        future.set_result(run(None))
        return future

    def host(name: str) -> TimerRunner:
        directory = tmp_path / name
        directory.mkdir()
        lock = AdvisoryLeadership(PG_DSN, key, DatabaseSettings(connect_timeout=3.0), name)
        runner = TimerRunner([Tick(name, runs, loop)], loop, submit, "one-server", str(directory), cluster=lock)
        runners.append(runner)

        def sweep():
            if not runner.stopped:
                runner.poll()
                loop.call_later(0.1, sweep)

        loop.call_soon(sweep)
        return runner

    host.runs = runs
    host.key = key
    yield host
    for runner in runners:
        runner.stop()
    loop.run_until_complete(asyncio.sleep(0.2))  # the releases run on the runners' threads
    with pg_admin.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEDULE_TABLE,))
        if cursor.fetchone()[0]:
            cursor.execute(f"DELETE FROM {SCHEDULE_TABLE} WHERE lock_key = %s", (key,))


def run_for(loop, seconds: float) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


def wait_for(loop, condition, limit: float = 10.0) -> None:
    waited = 0.0
    while not condition() and waited < limit:
        run_for(loop, 0.05)
        waited += 0.05
    assert condition()


def gaps(runs) -> list[float]:
    times = [at for _host, at in runs]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_one_host_runs_the_timers_and_leadership_moves_when_it_stops(loop, cluster):
    a, b = cluster("a"), cluster("b")
    wait_for(loop, lambda: len(cluster.runs) >= 4)
    leaders = {host for host, _ in cluster.runs}
    assert len(leaders) == 1, cluster.runs  # once per cluster, not once per host
    assert a.leader != b.leader
    first, (follower, name) = (a, (b, "b")) if a.leader else (b, (a, "a"))
    first.stop()
    before = len(cluster.runs)
    wait_for(loop, lambda: len(cluster.runs) >= before + 3)
    assert follower.leader
    assert {host for host, _ in cluster.runs[before:]} == {name}
    # never two ticks within one interval, the hand-over included (the schedule carried on)
    assert min(gaps(cluster.runs)) >= INTERVAL * 0.8, gaps(cluster.runs)


def test_a_broken_lock_connection_stops_the_timers_until_the_lock_is_taken_again(loop, cluster, pg_admin):
    a, b = cluster("a"), cluster("b")
    wait_for(loop, lambda: len(cluster.runs) >= 2)
    leader = a if a.leader else b
    with pg_admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = (%s::bigint >> 32) & 4294967295 AND objid::bigint = %s::bigint & 4294967295",
            (cluster.key, cluster.key),
        )
        assert cursor.fetchone()[0]
    wait_for(loop, lambda: not leader.leader or (a.leader and b.leader))
    before = len(cluster.runs)
    wait_for(loop, lambda: len(cluster.runs) >= before + 3)
    assert not (a.leader and b.leader)  # whoever took it again, it is one of them
    assert min(gaps(cluster.runs)) >= INTERVAL * 0.8, gaps(cluster.runs)


def test_the_program_s_own_database_is_used_for_the_lock(monkeypatch):
    program = load_text(
        'தளம்_இணை போச்குரசீகுல், சூழல்("LEDGER_PG", "host=nowhere");\n'
        'இடைவெளி 5 { அச்சு "tick"; }\nவழி பெறு, "/" { பதில் 200, "ok"; }\n'
    )
    app = App.from_program(program, mode="ours")
    app.path = "/srv/ledger/ledger_api.qmz"
    lock = cluster_leadership(app, {"LEDGER_PG": PG_DSN})
    from etamil_server.host.db.advisory import program_key

    assert lock is not None and lock.text == PG_DSN and lock.key == program_key("ledger_api.qmz")
    assert cluster_leadership(app, {}).text == "host=nowhere"
    assert cluster_leadership(app, {"LEDGER_PG": " "}) is None  # empty: not configured


def test_an_empty_text_in_a_branch_means_the_program_runs_without_postgres():
    program = load_text(
        'பிஜி = சூழல்("LEDGER_PG", "");\n'
        '(பிஜி != "") எனில் { தளம்_இணை போச்குரசீகுல், பிஜி; } இன்றேல் { தளம்_இணை சீகுலைட், ":memory:"; }\n'
        'இடைவெளி 5 { அச்சு "tick"; }\nவழி பெறு, "/" { பதில் 200, "ok"; }\n'
    )
    app = App.from_program(program, mode="ours")
    assert cluster_leadership(app, {}) is None
    assert cluster_leadership(app, {"LEDGER_PG": PG_DSN}).text == PG_DSN


def test_without_timers_or_postgres_there_is_no_cluster_lock(caplog):
    without_timers = App.from_program(load_text('தளம்_இணை போச்குரசீகுல், "host=x";\nவழி பெறு, "/" { பதில் 200, "ok"; }\n'), mode="ours")
    sqlite = App.from_program(load_text('தளம்_இணை சீகுலைட், ":memory:";\nஇடைவெளி 5 { அச்சு "t"; }\nவழி பெறு, "/" { பதில் 200, "ok"; }\n'), mode="ours")
    assert cluster_leadership(without_timers) is None
    assert cluster_leadership(sqlite) is None


def test_an_unknowable_connection_text_keeps_per_host_timers_and_says_so(caplog):
    program = load_text(
        'செயல் முகவரி() { திரும்பு "host=x"; }\nதளம்_இணை போச்குரசீகுல், முகவரி();\n'
        'இடைவெளி 5 { அச்சு "t"; }\nவழி பெறு, "/" { பதில் 200, "ok"; }\n'
    )
    app = App.from_program(program, mode="ours")
    import logging

    with caplog.at_level(logging.WARNING, logger="etamil.error"):
        assert cluster_leadership(app) is None
    assert "timers run once per host" in caplog.text and "line 2" in caplog.text
