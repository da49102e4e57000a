"""``etamil --server``: the reference's synchronous server, kept as the compatibility baseline
(HOST.md §4.5, §4.14, §4.15, §7.11).

One accept loop on the calling thread; ``ETAMIL_WORKERS`` worker threads (default 2 x CPUs,
minimum 1) each take one connection from an unbounded queue, read one request with the reference's
reader (including its 1 MiB truncation defect: this mode reproduces upstream), answer it and close.
JSON log lines go to stdout; handler errors to stderr. Timers run on one thread each, first one
interval after start. SIGINT keeps its default action (the process dies at once), as upstream.

Interface: :func:`serve_reference` (the CLI calls it after printing ``✓ Parsing complete`` and
type-checking); it returns an exit status only when start-up fails, otherwise it never returns
(``வெளியேறு(n)`` in a handler or timer ends the process with ``n``).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from ..base.errors import EtamilExit, SourceError, io_error_text
from ..base.terminal import complain, exit_now, say
from ..host.services import HOST_SERVICES
from ..lang.loader import LoadError, Program, load_path
from ..lang.shape import program_shape
from ..runtime.context import RunContext
from . import banners, logs
from .app import App, StartupError
from .logs import ERROR_LOG
from .request import BadRequestLine, parse_reference_request
from .response import error_body, error_response, serialize

REQUEST_LIMIT = 1024 * 1024  # 1 MiB, header block included (§4.5)
CHUNK = 4096
_USIZE = re.compile(r"\+?[0-9]+")
_USIZE_MAX = 2**64 - 1

# ------------------------------------------------------------------------------ console output




def rfc3339_utc(nanoseconds: int) -> str:
    """RFC 3339 in UTC with ``+00:00`` and 0, 3, 6 or 9 fractional digits, as few as needed."""
    seconds, nanos = divmod(nanoseconds, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        fraction = ""
    elif nanos % 1_000_000 == 0:
        fraction = f".{nanos // 1_000_000:03d}"
    elif nanos % 1_000 == 0:
        fraction = f".{nanos // 1_000:06d}"
    else:
        fraction = f".{nanos:09d}"
    return text + fraction + "+00:00"


class JsonLog:
    """One JSON object per line: timestamp, level, message, then context and/or error (§7.11)."""

    def __init__(self, stream: Any = None):
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, level: str, message: str, context: dict | None = None, error: dict | None = None) -> None:
        entry: dict[str, Any] = {"timestamp": rfc3339_utc(time.time_ns()), "level": level, "message": message}
        if context is not None:
            entry["context"] = context
        if error is not None:
            entry["error"] = error
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            stream = self.stream or sys.stdout
            stream.write(line + "\n")
            stream.flush()

    def info(self, message: str, context: dict | None = None) -> None:
        self.write("INFO", message, context)


# ------------------------------------------------------------------------------ settings and binding


def parse_usize(text: str) -> int | None:
    """Rust's unsigned integer parsing: optional ``+``, ASCII digits, no overflow."""
    if not _USIZE.fullmatch(text):
        return None
    value = int(text)
    return value if value <= _USIZE_MAX else None


def worker_count() -> int:
    """``ETAMIL_WORKERS`` (0 becomes 1), else 2 x the CPUs this process may use (8 if unknown)."""
    configured = parse_usize(os.environ.get("ETAMIL_WORKERS", ""))
    if configured is not None:
        return max(1, configured)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 0
    return 2 * cpus if cpus else 8


def bind_listener(host: str, port: int) -> socket.socket:
    """Resolve ``{host}:{port}`` and bind the first address that works (SO_REUSEADDR, as Rust)."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    last_error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM):
        listener = socket.socket(family, kind, proto)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(128)
            return listener
        except OSError as exc:
            listener.close()
            last_error = exc
    raise last_error or OSError("could not resolve to any addresses")


def bind_error_text(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return f"failed to lookup address information: {exc.strerror}"
    return io_error_text(exc)


# ------------------------------------------------------------------------------ the reader (§4.5)


def content_length(head: bytes) -> int:
    """The first header line named ``content-length`` (any case, trimmed) whose trimmed value is
    an unsigned integer; 0 when there is none."""
    for line in head.decode("utf-8", errors="replace").split("\n"):
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == "content-length":
            parsed = parse_usize(value.strip())
            if parsed is not None:
                return parsed
    return 0


def read_reference_request(conn: socket.socket) -> bytes | None:
    """The bytes of one request, or None when the connection is to be closed without a response
    (client closed before the header block ended, or 1 MiB arrived without it). A body that
    would take the request past 1 MiB is cut there: upstream defect, reproduced on purpose."""
    received = bytearray()
    while True:
        chunk = conn.recv(CHUNK)
        if not chunk:
            return None
        received += chunk
        end = received.find(b"\r\n\r\n")
        if end >= 0:
            break
        if len(received) > REQUEST_LIMIT:
            return None
    wanted = min(end + 4 + content_length(bytes(received[:end])), REQUEST_LIMIT)
    while len(received) < wanted:
        chunk = conn.recv(CHUNK)
        if not chunk:
            break
        received += chunk
    return bytes(received)


# ------------------------------------------------------------------------------ serving


class SyncServer:
    def __init__(self, app: App, listener: socket.socket, log: JsonLog, workers: int):
        self.app = app
        self.listener = listener
        self.log = log
        self.workers = workers
        self.connections: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()

    def start_threads(self) -> None:
        for _ in range(self.workers):
            threading.Thread(target=self._worker, daemon=True, name="etamil-worker").start()
        for timer in self.app.timers:
            threading.Thread(target=self._timer, args=(timer,), daemon=True, name="etamil-timer").start()

    def accept_forever(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError as exc:
                self.log.write("WARN", f"Connection error: {io_error_text(exc)}")
                continue
            self.connections.put(conn)

    def _worker(self) -> None:
        while True:
            conn = self.connections.get()
            try:
                self.serve_connection(conn)
            except EtamilExit as exc:
                exit_now(exc.status)  # வெளியேறு in a handler or tick ends the server
            except Exception as exc:  # never lose a worker to a defect
                ERROR_LOG.error("❌ Handler execution error: %s", exc)
            finally:
                conn.close()

    def serve_connection(self, conn: socket.socket) -> None:
        request_id = f"req-{time.time_ns():x}"
        self.log.info("Incoming request", {"request_id": request_id})
        try:
            raw = read_reference_request(conn)
        except OSError:
            return
        if raw is None:
            return
        try:
            request = parse_reference_request(raw)
        except BadRequestLine as exc:
            self.log.write(
                "ERROR",
                "Failed to parse HTTP request",
                error={"code": "HTTP_PARSE_ERROR", "message": exc.message},
            )
            self._send(conn, error_response(400, error_body(exc.message)))
            return
        dispatch = self.app.dispatch(request)
        if dispatch.route is None:
            response = dispatch.response
        else:
            response = self.app.run_route(dispatch, request, RunContext(services=HOST_SERVICES))
        self._send(conn, response)

    @staticmethod
    def _send(conn: socket.socket, response: Any) -> None:
        try:
            conn.sendall(serialize(response, mode="reference", keep_alive=False))
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _timer(self, timer: Any) -> None:
        while True:
            time.sleep(timer.seconds)
            try:
                timer.run(RunContext(services=HOST_SERVICES))
            except EtamilExit as exc:
                exit_now(exc.status)  # வெளியேறு in a handler or tick ends the server


def serve_reference(
    program_path: str | None, host: str, port: int, *, program: Program | None = None
) -> int:
    """Serve ``program_path`` as ``etamil --server`` does (or ``program`` when the caller already
    loaded it, e.g. from stdin). Returns 1 when start-up fails (the message is on stderr);
    otherwise serves until the process is killed."""
    if program is None:
        try:
            program = load_path(program_path or "")
        except LoadError as exc:
            complain(f"✗ {exc}")
            return 1
    logs.configure()  # handler errors and timer failures: bare lines on stderr, as the reference
    log = JsonLog()
    say(banners.SYNC_TITLE)
    say()
    if not program_shape(program).has_routes:
        say(banners.OLD_MODEL_NOTICE)
    try:
        app = App.from_program(
            program, mode="reference", on_register=lambda method, path: log.info(f"Route registered: {method} {path}")
        )
    except StartupError as exc:
        complain(f"✗ {exc}")
        return 1
    except SourceError as exc:  # nested past what this implementation compiles
        complain(f"✗ {exc.message}")
        return 1
    try:
        listener = bind_listener(host, port)
    except OSError as exc:
        complain(f"❌ Server error: {bind_error_text(exc)}")
        return 1
    workers = worker_count()
    sys.stdout.write(banners.sync_banner(app, host, port))  # ends with its empty line
    sys.stdout.flush()
    log.info("eTamil HTTP Server started successfully")
    say(f"🧵 Worker threads: {workers}")
    say()
    server = SyncServer(app, listener, log, workers)
    for timer in app.timers:
        say(banners.timer_line(timer.index, timer.seconds))
    _keep_default_sigint()
    server.start_threads()
    server.accept_forever()
    return 0  # not reached


def _keep_default_sigint() -> None:
    """Upstream does not handle Ctrl-C: the default action kills the process (no traceback)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:  # not the main thread (tests): nothing to change
        pass
