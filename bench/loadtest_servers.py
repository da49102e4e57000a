"""The servers under test and the application they serve.

Without a URL the tool starts both itself, one at a time (they never compete for the two cores):
*ours* is ``gunicorn -c conf/etamil.py`` serving examples/ledger_api.qmz, *baseline* is the same
program under ``etamil --server`` with ``ETAMIL_WORKERS=1`` (the reference's synchronous,
one-thread "phase 1" model). Each gets a free loopback port and its own temporary folder for the
SQLite database (``LEDGER_DB``) and the timer state. With a URL the tool measures that running
server instead (ours only); it finds its processes through the listening port when it runs on
this machine.

The routes: *read* is ``GET /accounts/loadtest-read/balance`` (a query over the account's entries,
summed in exact decimals, JSON out), seeded with SEED_ENTRIES entries first; *write* is
``POST /accounts/loadtest-write/entries`` with a JSON body (parsed, validated, one INSERT).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .loadtest_procs import ProcessGroup, pids_listening_on, read_stat
from .loadtest_wrk import Request

REPO = Path(__file__).resolve().parents[1]
PROGRAM = REPO / "examples" / "ledger_api.qmz"
CONF = REPO / "conf" / "etamil.py"
READ_ACCOUNT = "loadtest-read"
WRITE_ACCOUNT = "loadtest-write"
SEED_ENTRIES = 20
START_TIMEOUT = 60.0
STOP_TIMEOUT = 40.0  # above ETAMIL_GRACEFUL_TIMEOUT's default (30 s): a drain is allowed to finish
# variables make puts in its recipes' environment; a server started here must not inherit them
_MAKE_VARIABLES = ("SECONDS", "LEVELS", "SCENARIO", "DURATION", "ETAMIL_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


class ServerError(RuntimeError):
    """A server that would not start, or a URL that does not serve the ledger's routes."""


@dataclass(frozen=True)
class Route:
    name: str  # "read" or "write"
    request: Request
    expect: int  # the status a correct answer has

    @property
    def label(self) -> str:
        return f"{self.request.method} {self.request.path}"


ROUTES = {
    "read": Route("read", Request("GET", f"/accounts/{READ_ACCOUNT}/balance"), 200),
    "write": Route(
        "write",
        Request("POST", f"/accounts/{WRITE_ACCOUNT}/entries", '{"amount": "1250.50", "note": "load test"}',
                "application/json"),
        201,
    ),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def exchange(host: str, port: int, request: Request, timeout: float = 10.0) -> tuple[int, bytes]:
    """One request on its own connection: (status, body)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {"Content-Type": request.content_type} if request.content_type else {}
        connection.request(request.method, request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _MAKE_VARIABLES}
    env.update(extra)
    return env


class Server:
    """One server under test: where it listens, its processes, how it answers, how to stop it."""

    def __init__(self, name: str, title: str, command: list[str] | None, env: dict[str, str] | None,
                 host: str, port: int, *, cwd: Path | None = None, closes_after_response: bool = False,
                 prefork: bool = True, workdir: tempfile.TemporaryDirectory | None = None):
        self.name = name  # "ours" / "baseline": the key in results.json
        self.title = title  # how the report names it
        self.command = command  # None: a running server the tool did not start
        self.env = env
        self.host = host
        self.port = port
        self.cwd = cwd
        self.closes_after_response = closes_after_response
        self.prefork = prefork
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.group: ProcessGroup | None = None
        self.log = tempfile.TemporaryFile()
        self.startup_seconds: float | None = None
        self.exit_status: int | None = None
        self.shown_settings: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def started_here(self) -> bool:
        return self.command is not None

    def describe(self) -> str:
        """The command as the report shows it: repo-relative, with the settings that define it."""
        if self.command is None:
            return f"the running server at {self.url}"
        shown = ["python" if part == sys.executable else part for part in self.command]
        shown = [os.path.relpath(part, REPO) if part.startswith(str(REPO)) else part for part in shown]
        settings = [f"{name}={os.path.relpath(self.env[name], REPO) if name == 'ETAMIL_PROGRAM' else self.env[name]}"
                    for name in self.shown_settings]
        return "`" + " ".join(settings + shown) + "`"

    # ---------------------------------------------------------------- life cycle

    def start(self) -> Server:
        if self.command is None:
            return self.attach()
        began = time.monotonic()
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log, start_new_session=True,  # its own process group: stop() reaches every worker
        )
        self.group = ProcessGroup(self.process.pid, with_children=self.prefork)
        self._wait_ready(began)
        return self

    def attach(self) -> Server:
        """A running server: check that it answers, then find its processes by its port."""
        try:
            status, _ = exchange(self.host, self.port, Request("GET", "/"))
        except OSError as error:
            raise ServerError(f"{self.url} does not answer: {error}") from None
        if status >= 500:
            raise ServerError(f"{self.url} answered GET / with {status}")
        holders = pids_listening_on(self.port) if _is_local(self.host) else []
        if holders:
            roots = [pid for pid in holders if (read_stat(pid) or _NoStat).ppid not in holders]
            self.group = ProcessGroup(roots[0] if roots else holders[0], with_children=True)
        return self

    def _wait_ready(self, began: float) -> None:
        deadline = began + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.title} exited with status {self.process.returncode} while starting:\n"
                                  + self.log_tail())
            try:
                status, _ = exchange(self.host, self.port, Request("GET", "/"), timeout=2)
                if status == 200:
                    self.startup_seconds = time.monotonic() - began
                    if self.prefork:
                        self._wait_for_workers()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise ServerError(f"{self.title} did not answer within {START_TIMEOUT:.0f} s:\n" + self.log_tail())

    def _wait_for_workers(self) -> None:
        """gunicorn answers as soon as one worker is up: wait (a little) for the others."""
        wanted = int(self.env.get("ETAMIL_PROCESSES") or 0) or (os.cpu_count() or 1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(self.group.members()) < wanted + 1:
            time.sleep(0.1)
        time.sleep(0.5)  # let the last one finish its start-up before anything is measured

    def log_tail(self, size: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def terminate(self) -> None:
        """SIGTERM to the root process (gunicorn relays it to its workers: the staged drain)."""
        os.kill(self.process.pid, signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int | None:
        try:
            self.exit_status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_status

    def stop(self) -> None:
        """Stop what the tool started (TERM to its process group, KILL after STOP_TIMEOUT)."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.exit_status = self.process.wait()
        if self.workdir is not None:
            self.workdir.cleanup()
            self.workdir = None

    # ---------------------------------------------------------------- the application

    def prepare(self) -> None:
        """Seed the read route's account and check that both routes answer as the ledger does."""
        for index in range(SEED_ENTRIES):
            seed = Request("POST", f"/accounts/{READ_ACCOUNT}/entries",
                           json.dumps({"amount": f"{100 + index}.25", "note": f"seed {index}"}), "application/json")
            status, body = exchange(self.host, self.port, seed)
            if status != 201:
                raise ServerError(f"{self.url} does not serve examples/ledger_api.qmz: POST {seed.path} answered "
                                  f"{status} {body[:200]!r}")
        for route in ROUTES.values():
            status, body = exchange(self.host, self.port, route.request)
            if status != route.expect:
                raise ServerError(f"{self.url}: {route.label} answered {status} (expected {route.expect}): "
                                  f"{body[:200]!r}")


class _NoStat:
    ppid = -1


def _is_local(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def ours() -> Server:
    """gunicorn -c conf/etamil.py serving the ledger, on a free port, SQLite in a temp dir."""
    workdir = tempfile.TemporaryDirectory(prefix="loadtest-ours-")
    port = free_port()
    env = clean_environment({})
    env.setdefault("ETAMIL_LOG_LEVEL", "warning")
    env.update({
        "ETAMIL_PROGRAM": str(PROGRAM),
        "ETAMIL_BIND": f"127.0.0.1:{port}",
        "ETAMIL_STATE_DIR": workdir.name,
        "LEDGER_DB": str(Path(workdir.name) / "ledger.db"),
    })
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONF)]
    server = Server("ours", "ours (gunicorn + etamil worker)", command, env, "127.0.0.1", port, cwd=REPO,
                    workdir=workdir)
    server.shown_settings = ("ETAMIL_PROGRAM",)
    return server


def baseline() -> Server:
    """etamil --server with ETAMIL_WORKERS=1: one thread, one request per connection."""
    workdir = tempfile.TemporaryDirectory(prefix="loadtest-baseline-")
    port = free_port()
    env = clean_environment({"ETAMIL_WORKERS": "1", "LEDGER_DB": str(Path(workdir.name) / "ledger.db")})
    command = [sys.executable, "-m", "etamil_server", "--server", "--host", "127.0.0.1", "--port", str(port),
               str(PROGRAM)]
    server = Server("baseline", "baseline (etamil --server, ETAMIL_WORKERS=1)", command, env, "127.0.0.1", port,
                    cwd=Path(workdir.name), closes_after_response=True, prefork=False, workdir=workdir)
    server.shown_settings = ("ETAMIL_WORKERS",)
    return server


def running(url: str) -> Server:
    """A server that is already running at ``url`` (http://HOST:PORT)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ServerError(f"ETAMIL_URL must look like http://HOST:PORT, got '{url}'")
    if parts.path not in ("", "/"):
        raise ServerError(f"ETAMIL_URL is the server's root (http://HOST:PORT), got a path: '{url}'")
    return Server("ours", f"ours (running at {parts.hostname}:{parts.port or 80})", None, None, parts.hostname,
                  parts.port or 80)
