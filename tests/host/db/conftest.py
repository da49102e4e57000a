"""Fixtures for the database tests: real servers, no mocks.

PostgreSQL and MariaDB tests run when the servers answer and skip with a one-line reason
otherwise; with ETAMIL_TEST_REQUIRE_SERVICES=1 (CI) an unreachable server fails instead.
Servers: ETAMIL_TEST_POSTGRES (libpq string) and ETAMIL_TEST_MYSQL (URL); .ci/services.sh
starts the local ones. ``pgbouncer`` is a private PgBouncer in transaction pooling mode in front of
the test PostgreSQL (the Debian package; .ci/packages.sh installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import replace

import pytest

from etamil_server.config import DatabaseSettings
from etamil_server.host.db.pool import ConnectionPool
from etamil_server.host.db.session import DbSession

PG_DSN = os.environ.get("ETAMIL_TEST_POSTGRES", "host=127.0.0.1 port=5432 dbname=test user=postgres")
MYSQL_URL = os.environ.get("ETAMIL_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")
REQUIRE_SERVICES = os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1"

#: short waits so that a failing test fails quickly; the values under test are set per test
TEST_SETTINGS = DatabaseSettings(
    idle=8, pool_max=20, pool_timeout=10.0, check_idle=30.0, max_lifetime=3600.0, connect_timeout=3.0
)


def _unavailable(what: str, error: Exception) -> None:
    reason = " ".join(str(error).split())[:160]
    message = f"{what} not reachable ({reason}); start it with .ci/services.sh"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    import psycopg2

    try:
        psycopg2.connect(PG_DSN, connect_timeout=3).close()
    except psycopg2.Error as error:
        _unavailable("PostgreSQL", error)
    return PG_DSN


@pytest.fixture(scope="session")
def pg_params(pg_dsn) -> dict[str, str]:
    """The test server's connection parameters (host, port, user, dbname ...)."""
    from psycopg2.extensions import parse_dsn

    params = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "dbname": "test"}
    params.update(parse_dsn(pg_dsn))
    return params


@pytest.fixture
def pg_via_proxy(pg_params, tcp_proxy):
    """(proxy, connection text): the test server reached through a :class:`TcpProxy`."""
    proxy = tcp_proxy(pg_params["host"], int(pg_params["port"]))
    others = " ".join(f"{key}={value}" for key, value in pg_params.items() if key not in ("host", "port"))
    return proxy, f"host=127.0.0.1 port={proxy.port} {others}"


class PgBouncer:
    """``pgbouncer`` with its own configuration in a temporary directory, on a free port, in
    transaction pooling mode with ``pool_size`` server connections (one by default: every client
    shares it, so any session state a driver leaves behind would meet the next client)."""

    def __init__(self, params: dict[str, str], pool_size: int = 1):
        self.directory = tempfile.mkdtemp(prefix="etamil-pgbouncer-")
        self.port = _free_port()
        self.user = params["user"]
        self.dbname = params["dbname"]
        as_root = os.geteuid() == 0  # pgbouncer refuses to run as root; it can switch users
        lines = [
            "[databases]",
            f"* = host={params['host']} port={params['port']}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {self.directory}/userlist.txt",
            "pool_mode = transaction",
            f"default_pool_size = {pool_size}",
            "max_client_conn = 200",
            "query_wait_timeout = 20",
            "server_reset_query =",
            "ignore_startup_parameters = extra_float_digits,options",
            f"logfile = {self.directory}/pgbouncer.log",
        ] + (["user = postgres"] if as_root else [])
        config = os.path.join(self.directory, "pgbouncer.ini")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        with open(os.path.join(self.directory, "userlist.txt"), "w", encoding="utf-8") as handle:
            handle.write(f'"{self.user}" ""\n')
        if as_root:
            shutil.chown(self.directory, "postgres")
        self.process = subprocess.Popen(["pgbouncer", config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.dsn = f"host=127.0.0.1 port={self.port} dbname={self.dbname} user={self.user}"
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited {self.process.returncode}: {self.process.stderr.read()!r}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pgbouncer did not listen within 15 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _need_pgbouncer() -> None:
    if shutil.which("pgbouncer") is None:
        message = "pgbouncer is not installed (apt-get install pgbouncer; .ci/packages.sh does it)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def pgbouncer(pg_params):
    """A private PgBouncer (transaction pooling, one server connection) before the test server."""
    _need_pgbouncer()
    bouncer = PgBouncer(pg_params)
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="session")
def pgbouncer_wide(pg_params):
    """The same with four server connections (for clients that each pin one)."""
    _need_pgbouncer()
    bouncer = PgBouncer(pg_params, pool_size=4)
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="session")
def mysql_url() -> str:
    from etamil_server.base.errors import EtamilError
    from etamil_server.host.db.drivers.mysql import MysqlDriver

    try:
        MysqlDriver().connect(MYSQL_URL, TEST_SETTINGS).close()
    except EtamilError as error:
        _unavailable("MariaDB/MySQL", error)
    return MYSQL_URL


@pytest.fixture
def make_pool():
    """Pools with test settings (``make_pool(idle=0, pool_max=2, ...)``), closed afterwards."""
    pools: list[ConnectionPool] = []

    def make(**changes) -> ConnectionPool:
        pool = ConnectionPool(replace(TEST_SETTINGS, **changes))
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close_all()


@pytest.fixture
def pool(make_pool) -> ConnectionPool:
    return make_pool()


@pytest.fixture
def new_session(pool):
    """Sessions on ``pool`` (or another given pool), released afterwards."""
    sessions: list[DbSession] = []

    def make(on: ConnectionPool | None = None) -> DbSession:
        session = DbSession(pool=on if on is not None else pool)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.release_all()


@pytest.fixture
def table() -> str:
    """A table name no other test (or engineer sharing the server) uses."""
    return "etamil_t_" + uuid.uuid4().hex[:12]


@pytest.fixture
def pg_admin(pg_dsn):
    """A plain psycopg2 connection outside the pool: terminates backends, drops tables."""
    import psycopg2

    connection = psycopg2.connect(pg_dsn)
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture
def pg_table(pg_admin, table):
    yield table
    with pg_admin.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.fixture
def mysql_table(mysql_url, table):
    yield table
    from etamil_server.host.db.drivers.mysql import MysqlDriver

    connection = MysqlDriver().connect(mysql_url, TEST_SETTINGS)
    connection.execute(f"DROP TABLE IF EXISTS {table}", [])
    connection.close()


# ------------------------------------------------------------------------------ a TCP proxy


class _Pair:
    """One proxied connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None):
        self.client = client
        self.upstream = upstream
        self.severed = False


class TcpProxy:
    """Stands between the client and a real server so a test can make the server vanish:

    * ``stop()``  — the database is down: listening stops, open connections are closed;
    * ``start()`` — it is back (same port);
    * ``sever()`` — the server side of every open connection is gone but the client's socket
      stays quiet until the client sends something (a half-dead connection); new connections
      still work;
    * ``hang()``  — from now on accept connections but never answer.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self.hanging = False
        self._listener: socket.socket | None = None
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self.start()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.hanging:
                with self._lock:
                    self._pairs.append(_Pair(client, None))
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream)
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, False), daemon=True).start()

    @staticmethod
    def _pump(pair: _Pair, from_client: bool) -> None:
        source, sink = (pair.client, pair.upstream) if from_client else (pair.upstream, pair.client)
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if pair.severed and not from_client:
                return  # the server side is gone; the client hears nothing until it speaks
            if not data or pair.severed:
                break  # whatever the client sends now meets a closed connection
            try:
                sink.sendall(data)
            except OSError:
                break
        _close(source)
        _close(sink)

    def stop(self) -> None:
        if self._listener is not None:
            _close(self._listener)
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _close(pair.client)
            if pair.upstream is not None:
                _close(pair.upstream)

    def sever(self) -> None:
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            pair.severed = True
            if pair.upstream is not None:
                _close(pair.upstream)

    def hang(self) -> None:
        self.hanging = True


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


@pytest.fixture
def tcp_proxy():
    proxies: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        proxy = TcpProxy((host, port))
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()
