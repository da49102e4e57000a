"""Scenario 5: PostgreSQL restarted under load, and a database that never answers (issue 11).

The machine's PostgreSQL serves the other tests, so this scenario runs a throwaway one of its
own: ``initdb`` into a temporary directory (as the ``postgres`` user, which initdb requires), on a
free loopback port, stopped and started by the test. The real server (``gunicorn -c
conf/etamil.py``) serves the example API on it under constant writes and reads while it is
stopped for a few seconds and started again:

* during the outage every request that needs it is answered 503 with a JSON body naming the
  database (never 500), within the pool's timeouts: nothing hangs, nothing is lost;
* ``/ready`` says 503 as soon as a request has met the failure (not at the next probe);
* within 5 s of the database coming back everything is served again (and ``/ready`` is 200);
* no worker restarted; every write answered 2xx is in the database exactly once.

The blackhole: a listener that accepts TCP connections and never says a word. Requests to a
program connected "to" it fail with 503 within the connect timeout, concurrently, and the worker
goes on serving everything else.

Bounded: ETAMIL_OUTAGE_SECONDS (default 3) of outage inside a load of about 12 s.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import ledger
import pytest
from e2e_helpers import exchange, free_port, get
from loadgen import LoadGen, get_request, report, summarise

OUTAGE = float(os.environ.get("ETAMIL_OUTAGE_SECONDS", "3"))
RECOVERY = 5.0  # seconds: the promise, from the database accepting connections again
CONNECT_TIMEOUT = 2  # libpq's smallest useful connect_timeout
POOL_TIMEOUT = 2.0


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def _unavailable(reason: str):
    if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class ThrowawayPostgres:
    """A PostgreSQL cluster of this test's own on 127.0.0.1:<free port>, trust authentication."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        if self.bin is None:
            _unavailable("PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin)")
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            _unavailable("runuser is missing: initdb refuses to run as root")
        self.directory = Path(tempfile.mkdtemp(prefix="etamil-outage-"))
        self.data = self.directory / "data"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            shutil.chown(self.data, "postgres")
        self.port = free_port()
        self.running = False
        self._as(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _as(self, *command: str) -> None:
        prefix = ("runuser", "-u", "postgres", "--") if os.geteuid() == 0 else ()
        done = subprocess.run((*prefix, *command), capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='{self.data}' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._as(f"{self.bin}/pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data / "server.log"),
                 "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast``: every session is ended (the clients see the connection close), as a restart
        by a package upgrade or an operator does."""
        if self.running:
            self._as(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
            self.running = False

    def close(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def private_pg():
    server = ThrowawayPostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


class ReadyWatch:
    """Polls ``/ready`` every 20 ms on a thread of its own: (time, status) of each answer."""

    def __init__(self, port: int):
        self.port = port
        self.seen: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ReadyWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = int(get(self.port, "/ready")[0].split()[1])
                self.seen.append((time.monotonic(), status))
            except OSError:
                pass
            self._stop.wait(0.02)

    def first(self, status: int, after: float) -> float | None:
        return next((at for at, seen in self.seen if at >= after and seen == status), None)


SERVER_ENV = {
    "ETAMIL_DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    "ETAMIL_DB_POOL_TIMEOUT": str(POOL_TIMEOUT),
}


def test_postgresql_restarted_under_load(gunicorn, private_pg):
    env = {"LEDGER_PG": private_pg.dsn, **SERVER_ENV}
    server = gunicorn(ledger.SOURCE, processes=2, name=ledger.NAME, env=env).wait_ready()
    workers = server.wait_for_workers(2)
    writes = ledger.Writes("outage")
    assert exchange(server.port, writes(10**6).raw)[0] == "HTTP/1.1 201 Created"  # the table exists

    def mixed(index: int):
        return writes(index) if index % 2 == 0 else get_request("/accounts/outage/balance")

    with ReadyWatch(server.port) as ready, LoadGen(server.port, mixed, connections=8, duration=OUTAGE + 10) as load:
        load.wait_for(200)
        down_at = time.monotonic()
        private_pg.stop("fast")
        stopped_at = time.monotonic()
        time.sleep(OUTAGE)
        private_pg.start()
        up_at = time.monotonic()  # pg_ctl -w returns once it accepts connections
        summary = load.wait(OUTAGE + 40)
        time.sleep(0.5)
    attempts = load.attempts()

    statuses = {attempt.status for attempt in attempts if attempt.outcome == "answered"}
    failed = [attempt for attempt in attempts if attempt.outcome == "answered" and attempt.status == 503]
    slowest_failure = max((attempt.latency for attempt in failed), default=0.0)
    first_failure = min((attempt.finished for attempt in failed), default=None)
    ready_down = ready.first(503, down_at)
    ready_up = ready.first(200, up_at)
    after_recovery = [attempt for attempt in attempts if attempt.began >= up_at + RECOVERY]
    first_ok_after = min((a.finished for a in attempts if a.ok and a.began >= up_at), default=None)
    bodies = {attempt.body for attempt in failed}
    report(
        "5. PostgreSQL restarted under load",
        f"load: {summary}",
        f"outage: stop took {stopped_at - down_at:.2f} s, down {up_at - down_at:.2f} s in all; "
        f"503 answers {len(failed):,}, slowest {slowest_failure * 1000:.0f} ms",
        f"/ready 503 {0 if ready_down is None or first_failure is None else ready_down - first_failure:+.3f} s after "
        f"the first failed request ({len(ready.seen):,} polls)",
        f"first 2xx {0 if first_ok_after is None else first_ok_after - up_at:.2f} s after the database was back; "
        f"/ready 200 again after {0 if ready_up is None else ready_up - up_at:.2f} s",
        f"after recovery + {RECOVERY:.0f} s: {summarise(after_recovery)}",
    )
    assert summary.losses == 0, load.losses()[:5]
    assert statuses <= {200, 201, 503}, statuses  # never a 500 for a database that is down
    assert failed, "the outage was not seen by any request"
    for body in bodies:
        assert json.loads(body)["error"].startswith("Database unavailable: "), body
    assert slowest_failure < CONNECT_TIMEOUT + POOL_TIMEOUT + 5, "a request waited far past the timeouts"
    assert ready_down is not None and ready_down < up_at, "/ready never said 503 during the outage"
    assert ready_down - first_failure < 1.0, "/ready waited for its probe instead of the failed request"
    assert first_ok_after is not None and first_ok_after - up_at < RECOVERY
    assert ready_up is not None and ready_up - up_at < RECOVERY
    assert after_recovery and all(attempt.ok for attempt in after_recovery), summarise(after_recovery)
    assert server.wait_for_workers(2) == workers, "a worker was restarted"
    counts = ledger.check_rows(ledger.postgres_rows(private_pg.dsn, "outage"), writes,
                               load.writes_ok() | {f"w-{10**6}"}, load.writes_lost())
    print(f"  rows: {counts}")


class Blackhole:
    """Accepts TCP connections on a free loopback port and never answers (keeps them open)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


BLACKHOLE_PROGRAM = """
வழி பெறு, "/db" {{
    தளம்_இணை போச்குரசீகுல், "postgresql://postgres@127.0.0.1:{port}/postgres";
    தளம்_வினா "SELECT 1 AS one", [], r;
    பதில் 200, "never", {{}};
}}
வழி பெறு, "/fast" {{ பதில் 200, "fast", {{"Content-Type": "text/plain"}}; }}
"""


def test_a_blackhole_database_fails_requests_within_the_connect_timeout(gunicorn):
    hole = Blackhole()
    try:
        server = gunicorn(BLACKHOLE_PROGRAM.format(port=hole.port), processes=1, env=SERVER_ENV).wait_ready()
        workers = server.wait_for_workers(1)
        count = 8
        with ReadyWatch(server.port) as ready, LoadGen(server.port, get_request("/db"), connections=count,
                                                       count=count * 2, timeout=60) as load:
            fast = LoadGen(server.port, get_request("/fast"), connections=2, duration=CONNECT_TIMEOUT * 2).start()
            summary = load.wait(120)
            fast_summary = fast.wait(30)
            time.sleep(0.3)
        attempts = load.attempts()
        report(
            "5b. A blackhole database",
            f"/db: {summary}",
            f"/fast meanwhile: {fast_summary}",
            f"connections the blackhole accepted: {len(hole.accepted)}; /ready: "
            f"{sorted({status for _, status in ready.seen})}",
        )
        assert summary.losses == 0 and summary.statuses == {503: count * 2}, summary
        assert all(json.loads(a.body)["error"].startswith("Database unavailable: ") for a in attempts)
        assert "cannot connect to PostgreSQL" in attempts[0].body.decode()
        assert max(attempt.latency for attempt in attempts) < CONNECT_TIMEOUT + 5  # bounded, not forever
        assert fast_summary.statuses == {200: fast_summary.requests} and fast_summary.losses == 0
        assert 503 in {status for _, status in ready.seen}
        assert server.wait_for_workers(1) == workers
    finally:
        hole.close()


def test_the_driver_sends_the_timeouts(private_pg, monkeypatch):
    """What libpq is told: connect, TCP user and statement timeouts and keepalives; a statement
    past the statement timeout is a 503-kind failure (the database is up: /ready not told)."""
    from etamil_server.base.errors import DatabaseUnavailable
    from etamil_server.config import load_database_settings
    from etamil_server.host.db.drivers.postgres import PostgresDriver

    settings = load_database_settings({"ETAMIL_DB_STATEMENT_TIMEOUT": "0.5", "ETAMIL_DB_TCP_USER_TIMEOUT": "7",
                                       "ETAMIL_DB_CONNECT_TIMEOUT": "3"})
    connection = PostgresDriver().connect(private_pg.dsn, settings)
    try:
        parameters = connection._raw.get_dsn_parameters()
        assert parameters["connect_timeout"] == "3"
        assert parameters["tcp_user_timeout"] == "7000"
        assert parameters["keepalives_idle"] == "5"
        assert parameters["options"] == "-c statement_timeout=500"
        assert connection.query("SHOW statement_timeout", []) == [{"statement_timeout": "500ms"}]
        with pytest.raises(DatabaseUnavailable) as slow:
            connection.query("SELECT pg_sleep(5)", [])
        assert not slow.value.down and "statement timeout" in slow.value.message
        assert connection.query("SELECT 1 AS one", [])[0]["one"] == 1  # the connection is still good
    finally:
        connection.close()
    own = PostgresDriver().connect(private_pg.dsn + "?options=-c%20statement_timeout%3D1234", settings)
    try:
        assert own.query("SHOW statement_timeout", []) == [{"statement_timeout": "1234ms"}]  # the program's wins
    finally:
        own.close()
