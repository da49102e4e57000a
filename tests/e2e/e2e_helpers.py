"""Helpers for the end-to-end tests (imported by name: conftest.py puts this directory on
sys.path; so does tests/reliability's): gunicorn (``-c conf/etamil.py``) as a subprocess on a free
loopback port, a raw HTTP/1.1 client, a closed-loop load generator that counts failures, a schema
of its own on the test PostgreSQL, and a fake systemd notify socket."""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf" / "etamil.py"
WAIT = 30  # seconds: generous limits for a slow machine, never asserted as timings
PG_DSN = os.environ.get("ETAMIL_TEST_POSTGRES", "host=127.0.0.1 port=5432 dbname=test user=postgres")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_response(sock: socket.socket, buffer: bytearray, head_only: bool = False):
    """(status line, headers lower-cased, body, raw) of the next response on ``sock``."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a complete response head")
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    length = 0 if head_only else int(headers.get("content-length", "0"))
    total = len(head) + 4 + length
    while len(buffer) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a body")
        buffer += chunk
    raw = bytes(buffer[:total])
    del buffer[:total]
    return lines[0], headers, raw[len(head) + 4 :], raw


def exchange(port: int, raw: bytes):
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(raw)
        return read_response(sock, bytearray())


def get(port: int, target: str = "/", extra: str = ""):
    return exchange(port, f"GET {target} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode())


class Gunicorn:
    """``gunicorn -c conf/etamil.py`` serving a program written to ``tmp_path``."""

    def __init__(self, tmp_path: Path, source: str, *, processes: int = 2, env: dict | None = None, name="app.qmz"):
        self.tmp_path = tmp_path
        self.processes = processes
        self.program = tmp_path / name
        self.program.write_text(source, encoding="utf-8")
        self.port = free_port()
        environment = dict(os.environ)
        environment.update(
            {
                "PYTHONPATH": str(REPO),
                "PYTHONUNBUFFERED": "1",
                "ETAMIL_PROGRAM": name,
                "ETAMIL_BIND": f"127.0.0.1:{self.port}",
                "ETAMIL_PROCESSES": str(processes),
                "ETAMIL_STATE_DIR": str(tmp_path),
                "ETAMIL_GRACEFUL_TIMEOUT": "10",
            }
        )
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONF)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err_lines: list[str] = []
        self.out_lines: list[str] = []
        threading.Thread(target=self._pump, args=(self.process.stdout, self.out, self.out_lines), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, None, self.err_lines), daemon=True).start()

    @staticmethod
    def _pump(stream, sink, lines):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            if sink is not None:
                sink.put(line)

    def booted_workers(self) -> list[int]:
        """Workers running their server loop (their sweep has set the busy/conns title)."""
        booted = []
        for pid in self.workers():
            try:
                if "busy," in process_title(pid):
                    booted.append(pid)
            except OSError:
                pass
        return booted

    def wait_ready(self) -> Gunicorn:
        """Until every worker has booted and the server answers /health (a signal sent to a
        worker still booting would be a test of gunicorn's start-up, not of our drain)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited {self.process.returncode}: {self.stderr}")
            try:
                if len(self.booted_workers()) == self.processes and get(self.port, "/health")[0] == "HTTP/1.1 200 OK":
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not become ready: {self.stderr}")

    @property
    def stderr(self) -> str:
        return "\n".join(self.err_lines)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = WAIT) -> int:
        return self.process.wait(timeout)

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def wait_for_workers(self, count: int, exclude: set[int] = frozenset()) -> list[int]:
        """Until exactly ``count`` booted workers run, none of them in ``exclude``."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            pids = self.booted_workers()
            if len(pids) == count and len(self.workers()) == count and not set(pids) & set(exclude):
                return pids
            time.sleep(0.05)
        raise AssertionError(f"expected {count} workers, have {self.workers()}")

    def wait_until_gone(self, pids: set[int]) -> None:
        """Until none of ``pids`` is a worker any more (replaced or retired)."""
        deadline = time.monotonic() + WAIT
        while set(self.workers()) & set(pids):
            if time.monotonic() > deadline:
                raise AssertionError(f"workers {sorted(set(self.workers()) & set(pids))} are still running")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(WAIT)


@contextlib.contextmanager
def servers_in(directory: Path):
    """``start(source, **options)``: a :class:`Gunicorn` serving ``source`` from ``directory``
    (what the ``gunicorn`` fixtures hand a test); every server started is stopped at the end."""
    started: list[Gunicorn] = []

    def start(source: str, **options) -> Gunicorn:
        server = Gunicorn(directory, source, **options)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def children(pid: int) -> list[int]:
    """Live (not zombie) child processes of ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="latin-1") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def process_title(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().split(b"\0")[0].decode("utf-8", "replace")


@contextlib.contextmanager
def postgres_schema(prefix: str = "etamil_e2e_") -> Iterator[tuple[str, str]]:
    """(connection text, schema): a schema of its own on the test PostgreSQL, reached through
    the connection's search_path (the example API's table is called ``entries``), dropped
    afterwards. PostgreSQL absent: the test skips with the reason, or fails when
    ETAMIL_TEST_REQUIRE_SERVICES=1 (CI) says it must be there."""
    import psycopg2
    import pytest

    try:
        admin = psycopg2.connect(PG_DSN, connect_timeout=3)
    except psycopg2.Error as error:
        message = f"PostgreSQL not reachable ({' '.join(str(error).split())[:120]})"
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    admin.autocommit = True
    schema = prefix + uuid.uuid4().hex[:10]
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {schema}")
        yield f"{PG_DSN} options='-c search_path={schema}'", schema
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()


class ClientThreads:
    """Closed-loop client threads, each running ``_client(number)`` until :meth:`stop`; a
    subclass counts what they got in ``ok`` (what :meth:`wait_for` waits for). A context manager:
    the threads start on entry (``started`` is then the monotonic time) and stop on exit."""

    patience = WAIT  # seconds to wait for a count, and for each thread to end

    def __init__(self, clients: int):
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]
        self.started = 0.0

    def __enter__(self):
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.patience)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + self.patience
        while self.ok < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _client(self, number: int) -> None:
        raise NotImplementedError


class Load(ClientThreads):
    """Closed-loop keep-alive clients hitting ``target`` until stopped.

    A request *fails* when the server accepted it and it did not get a whole response: the
    connection broke after the request was written on a connection that had already been
    answered on, or in the middle of a response, or the status was not 200. Connection refusals
    are counted apart (the listener had closed), and so is a reset of a fresh connection before
    any byte came back (``unaccepted``): the kernel had completed the handshake but no worker
    ever accepted the connection before the last listener closed (what the fence of a full stop
    prevents, ``web/listen_fence.py``)."""

    def __init__(self, port: int, target: str = "/", connections: int = 4):
        self.port = port
        self.request = f"GET {target} HTTP/1.1\r\nHost: load\r\n\r\n".encode()
        self.connections = connections
        super().__init__(connections)
        self.ok = 0
        self.failures: list[str] = []
        self.refused = 0
        self.unaccepted = 0
        self.bodies: collections.Counter = collections.Counter()

    def _client(self, number: int) -> None:
        sock: socket.socket | None = None
        answered_on = 0
        buffer = bytearray()
        while not self.stopping.is_set():
            if sock is None:
                try:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
                except ConnectionRefusedError:
                    with self.lock:
                        self.refused += 1
                    time.sleep(0.01)
                    continue
                except OSError as exc:
                    with self.lock:
                        self.failures.append(f"connect: {exc!r}")
                    continue
                answered_on = 0
                buffer = bytearray()
            try:
                sock.sendall(self.request)
                status, headers, body, _ = read_response(sock, buffer)
            except OSError as exc:
                with self.lock:
                    if answered_on == 0 and not buffer and isinstance(exc, ConnectionError):
                        self.unaccepted += 1
                    else:
                        self.failures.append(f"{type(exc).__name__} after {answered_on} on the connection: {exc}")
                sock.close()
                sock = None
                continue
            answered_on += 1
            with self.lock:
                if status == "HTTP/1.1 200 OK":
                    self.ok += 1
                    self.bodies[body] += 1
                else:
                    self.failures.append(f"{status}: {body[:200]!r}")
            if headers.get("connection") == "close":
                sock.close()
                sock = None
        if sock is not None:
            sock.close()


class SlowUpstream:
    """A local HTTP endpoint that answers after ``delay`` seconds: a route that calls it with
    ``வலை_பெறு`` can block (runs on the executor) and stays in flight for a while."""

    def __init__(self, delay: float = 0.05):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.daemon_threads = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeNotifySocket:
    """What systemd's notify socket would receive (``NOTIFY_SOCKET`` for a server under test):
    a unix datagram socket whose messages are collected as {NAME: value} dicts."""

    def __init__(self, directory: Path):
        self.path = str(directory / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
            with self.lock:
                self.messages.append(fields)

    def states(self) -> list[str]:
        """The state words received so far (READY, RELOADING, STOPPING), in order."""
        with self.lock:
            return [name for fields in self.messages for name in fields if name in ("READY", "RELOADING", "STOPPING")]

    def wait_for_count(self, count: int, seconds: float = WAIT) -> list[str]:
        """The states once at least ``count`` have arrived (or the time is up)."""
        deadline = time.monotonic() + seconds
        while len(self.states()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.states()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self.sock.close()
