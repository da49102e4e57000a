"""Several hosts on one machine, for tests/e2e/test_multihost.py and bench/multihost.py.

Each host is a network namespace joined to the root namespace by a veth pair (its own address,
its own state directory, its own copy of the program), running ``gunicorn -c conf/etamil.py``.
The root namespace holds what the hosts share: a private PostgreSQL cluster listening on the
root ends of the veth pairs, and nginx with ``conf/nginx.conf`` (only its upstream servers and its
listen address rewritten) on loopback. Names and addresses are unique per run; :meth:`Cluster.close`
removes every namespace, link, process and directory, also after a failure.

Needs root, ``ip`` (iproute2), nginx and PostgreSQL's server binaries; :func:`missing` says what is
not there.
"""

from __future__ import annotations

import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from e2e_helpers import REPO, ClientThreads, children, process_title, read_response

CONF = REPO / "conf" / "etamil.py"
NGINX_CONF = REPO / "conf" / "nginx.conf"
HOST_PORT = 8080
WAIT = 40


def nginx_fail_timeout() -> float:
    """conf/nginx.conf's ``fail_timeout``: how long nginx leaves a host alone after a refusal."""
    found = re.search(r"fail_timeout=(\d+)s", NGINX_CONF.read_text(encoding="utf-8"))
    return float(found.group(1)) if found else 10.0


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def missing() -> str | None:
    """Why namespaces and the shared services cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_NET_ADMIN"
    for tool in ("ip", "nginx", "runuser"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} is not installed (.ci/packages.sh installs nginx and iproute2)"
    if _pg_bin() is None:
        return "PostgreSQL's server binaries are not installed"
    probe = f"emhp{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def request(address: str, port: int, raw: bytes, timeout: float = 5.0):
    """One request on a fresh connection: (status line, headers, body)."""
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.sendall(raw)
        status, headers, body, _ = read_response(sock, bytearray())
    return status, headers, body


def get(address: str, port: int, target: str):
    return request(address, port, f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())


class Host:
    """One namespace and its gunicorn."""

    def __init__(self, cluster: Cluster, name: str, root_address: str, address: str):
        self.cluster = cluster
        self.name = name
        self.namespace = f"{cluster.tag}{name}"
        self.root_link = f"{cluster.tag}{name}0"
        self.root_address = root_address  # the root namespace's end: PostgreSQL listens here
        self.address = address  # the host's own address: gunicorn listens here
        self.directory = cluster.directory / f"host-{name}"
        self.directory.mkdir()
        self.process: subprocess.Popen | None = None
        self.log = self.directory / "gunicorn.log"
        _run("ip", "netns", "add", self.namespace)
        cluster.namespaces.append(self.namespace)
        peer = f"{cluster.tag}{name}1"
        _run("ip", "link", "add", self.root_link, "type", "veth", "peer", "name", peer)
        cluster.links.append(self.root_link)
        _run("ip", "link", "set", peer, "netns", self.namespace)
        _run("ip", "addr", "add", f"{root_address}/30", "dev", self.root_link)
        _run("ip", "link", "set", self.root_link, "up")
        inside = ("ip", "netns", "exec", self.namespace)
        _run(*inside, "ip", "addr", "add", f"{address}/30", "dev", peer)
        _run(*inside, "ip", "link", "set", peer, "up")
        _run(*inside, "ip", "link", "set", "lo", "up")

    @property
    def program(self) -> Path:
        return self.directory / "ledger_api.qmz"

    def deploy(self, source: str) -> None:
        """Put a (new) version of the program on this host's disk."""
        self.program.write_text(source, encoding="utf-8")

    def start(self, env: dict[str, str] | None = None) -> Host:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith(("ETAMIL_", "LEDGER_"))
        }
        environment.update(
            {
                "PYTHONPATH": str(REPO),
                "PYTHONUNBUFFERED": "1",
                "ETAMIL_PROGRAM": str(self.program),
                "ETAMIL_BIND": f"{self.address}:{HOST_PORT}",
                "ETAMIL_PROCESSES": "2",
                "ETAMIL_STATE_DIR": str(self.directory),
                "ETAMIL_GRACEFUL_TIMEOUT": "15",
                # above nginx's upstream keepalive_timeout (conf/nginx.conf): nginx closes an idle
                # connection before a draining worker would
                "ETAMIL_DRAIN_GRACE": "5",
                "LEDGER_PG": self.cluster.database_url(self),
                "HOST_NAME": self.name,
            }
        )
        environment.update(env or {})
        self.processes = int(environment["ETAMIL_PROCESSES"])
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, sys.executable, "-m", "gunicorn", "-c", str(CONF)],
                cwd=self.directory, stdout=log, stderr=subprocess.STDOUT, env=environment,
            )
        return self

    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process is not None else []

    def booted_workers(self) -> list[int]:
        booted = []
        for pid in self.workers():
            try:
                if "busy," in process_title(pid):
                    booted.append(pid)
            except OSError:
                pass
        return booted

    def wait_ready(self, exclude: set[int] = frozenset()) -> Host:
        """Until every worker (none of ``exclude``) runs its loop and /ready answers 200."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"host {self.name}: gunicorn exited {self.process.returncode}:\n{self.output}")
            booted = set(self.booted_workers())
            count = self.processes
            if len(booted) == count and not booted & set(exclude) and len(self.workers()) == count:
                try:
                    if get(self.address, HOST_PORT, "/ready")[0] == "HTTP/1.1 200 OK":
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"host {self.name} did not become ready:\n{self.output}")

    def reload(self) -> None:
        """A rolling deploy's step: HUP (the program on disk is compiled again), until the new
        workers serve."""
        old = set(self.workers())
        self.process.send_signal(signal.SIGHUP)
        self.wait_ready(exclude=old)

    def stop(self, timeout: float = WAIT) -> int:
        """TERM: the staged drain, then the master exits."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    @property
    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


class Cluster:
    """Hosts in namespaces, one private PostgreSQL, nginx in front."""

    def __init__(self, hosts: tuple[str, ...] = ("a", "b")):
        self.tag = f"emh{os.getpid() % 10000:04d}{random.randrange(16**2):02x}"  # ≤ 15 with a suffix
        self.directory = Path(tempfile.mkdtemp(prefix="etamil-multihost-"))
        os.chmod(self.directory, 0o755)
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.hosts: dict[str, Host] = {}
        self.pg_data = self.directory / "pg"
        self.pg_port = 0
        self.nginx: subprocess.Popen | None = None
        self.nginx_port = 0
        self.database = "ledger"
        try:
            base = self._free_subnet()
            for number, name in enumerate(hosts):
                root, inside = f"{base}.{number * 4 + 1}", f"{base}.{number * 4 + 2}"
                self.hosts[name] = Host(self, name, root, inside)
            self._start_postgres()
            self._start_nginx()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ addresses

    @staticmethod
    def _free_subnet() -> str:
        """A 10.x.y.0/24 no interface of this machine uses (parallel runs pick others)."""
        used = _run("ip", "-4", "-o", "addr")
        for _ in range(100):
            base = f"10.{random.randrange(200, 250)}.{random.randrange(256)}"
            if f" {base}." not in used:
                return base
        raise RuntimeError("no free 10.x.y.0/24 subnet")

    def database_url(self, host: Host) -> str:
        return f"postgresql://postgres@{host.root_address}:{self.pg_port}/{self.database}"

    @property
    def admin_dsn(self) -> str:
        first = next(iter(self.hosts.values()))
        return f"host={first.root_address} port={self.pg_port} dbname={self.database} user=postgres"

    # ------------------------------------------------------------------ PostgreSQL

    def _start_postgres(self) -> None:
        pg_bin = _pg_bin()
        self.pg_data.mkdir()
        shutil.chown(self.pg_data, "postgres")
        as_postgres = ("runuser", "-u", "postgres", "--")
        _run(*as_postgres, f"{pg_bin}/initdb", "-D", str(self.pg_data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8")
        with open(self.pg_data / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.write("host all all 10.0.0.0/8 trust\n")
        addresses = ",".join(host.root_address for host in self.hosts.values())
        self.pg_port = _free_port(next(iter(self.hosts.values())).root_address)
        options = (f"-c listen_addresses='{addresses}' -p {self.pg_port} -c unix_socket_directories='{self.pg_data}' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _run(*as_postgres, f"{pg_bin}/pg_ctl", "-D", str(self.pg_data), "-o", options, "-l",
             str(self.pg_data / "server.log"), "-w", "-t", "30", "start")
        self._pg_started = True
        _run(*as_postgres, f"{pg_bin}/createdb", "-h", next(iter(self.hosts.values())).root_address,
             "-p", str(self.pg_port), "-U", "postgres", self.database)

    def _stop_postgres(self) -> None:
        if getattr(self, "_pg_started", False):
            subprocess.run(["runuser", "-u", "postgres", "--", f"{_pg_bin()}/pg_ctl", "-D", str(self.pg_data),
                            "-m", "immediate", "-w", "stop"], capture_output=True)
            self._pg_started = False

    def sql(self, statement: str, args: tuple = ()) -> list[tuple]:
        import psycopg2

        connection = psycopg2.connect(self.admin_dsn, connect_timeout=5)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement, args)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    # ------------------------------------------------------------------ nginx

    def _nginx_site(self) -> str:
        """conf/nginx.conf with our hosts as its upstream servers and a loopback listen address."""
        lines = []
        upstream_done = False
        for line in NGINX_CONF.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("server ") and ":" in stripped.split()[1] and stripped.endswith(";"):
                if not upstream_done:
                    options = " ".join(stripped.rstrip(";").split()[2:])
                    for host in self.hosts.values():
                        lines.append(f"    server {host.address}:{HOST_PORT} {options};")
                    upstream_done = True
                continue
            if stripped.startswith("listen "):
                line = f"    listen 127.0.0.1:{self.nginx_port};"
            lines.append(line)
        if not upstream_done:
            raise RuntimeError("conf/nginx.conf has no upstream server lines")
        return "\n".join(lines) + "\n"

    def _start_nginx(self) -> None:
        self.nginx_port = _free_port("127.0.0.1")
        directory = self.directory / "nginx"
        directory.mkdir()
        os.chmod(directory, 0o777)
        (directory / "site.conf").write_text(self._nginx_site(), encoding="utf-8")
        temp = " ".join(f"{kind}_temp_path {directory}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (directory / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n"
            f"events {{ worker_connections 4096; }}\n"
            f"http {{\n  access_log off;\n  {temp}\n  include {directory}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        _run("nginx", "-t", "-q", "-p", str(directory), "-c", str(directory / "nginx.conf"))
        self.nginx = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.nginx_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen")

    @property
    def nginx_errors(self) -> str:
        try:
            return (self.directory / "nginx" / "error.log").read_text(encoding="utf-8", errors="replace")[:3000]
        except OSError:
            return ""

    # ------------------------------------------------------------------ the end

    def close(self) -> None:
        for host in self.hosts.values():
            try:
                host.kill()
            except Exception:  # noqa: BLE001 - the rest must be cleaned up anyway
                pass
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        self._stop_postgres()
        for namespace in self.namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        for link in self.links:  # gone with their peers; in case a namespace was not made
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


class WriteLoad(ClientThreads):
    """Closed-loop keep-alive clients through nginx: each POSTs entries with unique notes (and,
    every fourth request, a GET), recording every answer. A failure is anything but a 2xx —
    a refused or broken connection included: nginx itself never stops."""

    patience = WAIT  # this module's (slower: namespaces, nginx)

    def __init__(self, port: int, clients: int = 6):
        self.port = port
        super().__init__(clients)
        self.answered: list[str] = []  # notes of writes answered 2xx
        self.sent: list[str] = []
        self.reads = 0
        self.failures: list[str] = []

    @property
    def ok(self) -> int:
        return len(self.answered) + self.reads

    def _client(self, number: int) -> None:
        sock: socket.socket | None = None
        buffer = bytearray()
        done = 0
        while not self.stopping.is_set():
            if sock is None:
                try:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
                except OSError as exc:
                    with self.lock:
                        self.failures.append(f"connect: {exc!r}")
                    time.sleep(0.05)
                    continue
                buffer = bytearray()
            done += 1
            note = None
            if done % 4 == 0:
                raw = b"GET /gst?amount=1000&rate=18 HTTP/1.1\r\nHost: ledger\r\n\r\n"
            else:
                note = f"{number}-{uuid.uuid4().hex}"
                body = f'{{"amount": "{done % 997}.{done % 100:02d}", "note": "{note}"}}'.encode()
                raw = (f"POST /accounts/client{number}/entries HTTP/1.1\r\nHost: ledger\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                with self.lock:
                    self.sent.append(note)
            try:
                sock.sendall(raw)
                status, headers, body, _ = read_response(sock, buffer)
            except OSError as exc:
                with self.lock:
                    self.failures.append(f"{'POST' if note else 'GET'}: {type(exc).__name__}: {exc}")
                sock.close()
                sock = None
                continue
            with self.lock:
                if status.split()[1].startswith("2"):
                    if note is None:
                        self.reads += 1
                    else:
                        self.answered.append(note)
                else:
                    self.failures.append(f"{'POST' if note else 'GET'}: {status}: {body[:200]!r}")
            if headers.get("connection") == "close":
                sock.close()
                sock = None
        if sock is not None:
            sock.close()
