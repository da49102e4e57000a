"""Every setting of the server, in one place.

Each area has one frozen dataclass; :func:`load_settings` reads them all from environment
variables with the ``ETAMIL_`` prefix (conf/etamil.py and ``etamil serve`` both start from it, so
the gunicorn master, its workers and the development server agree). Defaults are right for one
machine. A value that does not parse stops the start with :class:`ConfigError` naming the variable.

Sizes accept a plain byte count or a suffix: ``16k``/``16KiB``, ``1m``/``1MiB``. Booleans accept
1/0, true/false, yes/no, on/off. Durations are seconds (fractions allowed); 0 turns a deadline off
where the setting says so.

``ETAMIL_WORKERS`` is *not* the number of processes: the reference gives it to ``--server`` as its
thread count (HOST.md §2.9), so the pre-fork server's process count is ``ETAMIL_PROCESSES``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

KIB = 1024
MIB = 1024 * 1024


class ConfigError(ValueError):
    """A setting that does not parse; the message names the variable and the bad value."""


# ------------------------------------------------------------------------------ areas


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP protocol: limits and connection timeouts (per connection)."""

    max_body: int = 1 * MIB  # ETAMIL_MAX_BODY: larger bodies get 413, the handler never runs
    max_header: int = 16 * KIB  # ETAMIL_MAX_HEADER: request line + header lines; beyond: 431
    max_target: int = 8 * KIB  # ETAMIL_MAX_TARGET: the request target; beyond: 414
    keepalive_timeout: float = 5.0  # ETAMIL_KEEPALIVE_TIMEOUT: an idle keep-alive connection closes
    read_timeout: float = 30.0  # ETAMIL_READ_TIMEOUT: a started request must arrive whole (else 408)
    #: ETAMIL_HEADER_TIMEOUT: a request line and headers must arrive within this (else 408 and the
    #: connection closes; slowloris); 0 = only the read timeout
    header_timeout: float = 10.0
    #: ETAMIL_SEND_TIMEOUT: a peer that reads nothing of what we wrote for this long is cut off
    #: (slow readers cannot pin response memory); 0 = wait forever
    send_timeout: float = 30.0
    max_pipeline: int = 32  # ETAMIL_MAX_PIPELINE: queued requests per connection before reads pause
    server_header: str = "etamil-server"  # ETAMIL_SERVER_HEADER: the Server header's value
    balance_accept: bool = True  # ETAMIL_BALANCE_ACCEPT: accept one connection at a time (see server.py)


@dataclass(frozen=True)
class ExecutionSettings:
    """How handlers run inside one worker process."""

    executor_threads: int = 64  # ETAMIL_THREADS: threads for handlers that can block
    vm_pool_size: int = 0  # ETAMIL_VM_POOL: VM contexts kept; 0 = executor_threads + 2
    handler_deadline: float = 30.0  # ETAMIL_HANDLER_DEADLINE: past it 503 and the handler stops; 0 = none
    max_concurrency: int = 1000  # ETAMIL_MAX_CONCURRENCY: requests in handling per worker; beyond: 503
    #: ETAMIL_INLINE_BUDGET_MS: a handler that cannot block runs inline on the event loop; past this
    #: many milliseconds it is stopped there and run again on the executor (web/vmpool.py); 0 = never
    inline_budget_ms: float = 5.0

    @property
    def pool_size(self) -> int:
        # one context per executor thread, one for the inline path, one for a timer tick
        return self.vm_pool_size or self.executor_threads + 2


@dataclass(frozen=True)
class DrainSettings:
    """The staged graceful drain on SIGTERM."""

    graceful_timeout: float = 30.0  # ETAMIL_GRACEFUL_TIMEOUT: the master's patience (gunicorn)
    idle_grace: float = 1.0  # ETAMIL_DRAIN_GRACE: an idle keep-alive connection's last chance
    margin: float = 2.0  # ETAMIL_DRAIN_MARGIN: what is left is closed this long before the timeout

    @property
    def deadline(self) -> float:
        """Seconds from the start of the drain until whatever is left is closed."""
        return max(self.graceful_timeout - self.margin, min(self.graceful_timeout, 0.5))


@dataclass(frozen=True)
class ProcessSettings:
    """The process layer: what the gunicorn master is told (and ``etamil serve``)."""

    program: str | None = None  # ETAMIL_PROGRAM: the eTamil program to serve
    bind: tuple[str, ...] = ("127.0.0.1:8080",)  # ETAMIL_BIND: comma-separated HOST:PORT / unix:PATH
    processes: int = 0  # ETAMIL_PROCESSES: worker processes; 0 = one per CPU
    heartbeat_timeout: float = 60.0  # ETAMIL_HEARTBEAT_TIMEOUT: a silent worker is killed (gunicorn timeout)
    max_requests: int = 0  # ETAMIL_MAX_REQUESTS: recycle a worker after this many requests; 0 = never
    max_requests_jitter: int = 0  # ETAMIL_MAX_REQUESTS_JITTER
    backlog: int = 2048  # ETAMIL_BACKLOG: the listen queue
    pidfile: str | None = None  # ETAMIL_PIDFILE
    state_dir: str | None = None  # ETAMIL_STATE_DIR: timer lock and schedule; default: the temp dir

    @property
    def worker_count(self) -> int:
        return self.processes or max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class LogSettings:
    format: str = "text"  # ETAMIL_LOG_FORMAT: "text" (gunicorn's style) or "json" (one object a line)
    level: str = "info"  # ETAMIL_LOG_LEVEL
    access_log: str | None = None  # ETAMIL_ACCESS_LOG: "-" for stdout, a file path, unset for none


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = False  # ETAMIL_METRICS: serve /metrics (Prometheus text, all workers summed)
    directory: str | None = None  # PROMETHEUS_MULTIPROC_DIR: shared by the workers of one server


@dataclass(frozen=True)
class DatabaseSettings:
    """The per-process database connection pool (HOST.md §5.9 plus what production needs)."""

    idle: int = 8  # ETAMIL_DB_IDLE: idle connections kept per database; unparsable -> 8 (HOST.md §2.9)
    pool_max: int = 20  # ETAMIL_DB_POOL_MAX: open connections per database; 0 = no limit (the reference)
    pool_timeout: float = 5.0  # ETAMIL_DB_POOL_TIMEOUT: wait this long for a free connection, then fail
    check_idle: float = 30.0  # ETAMIL_DB_CHECK_IDLE: a connection idle this long is pinged before use
    max_lifetime: float = 3600.0  # ETAMIL_DB_MAX_LIFETIME: close connections older than this; 0 = never
    connect_timeout: float = 5.0  # ETAMIL_DB_CONNECT_TIMEOUT: PostgreSQL/MySQL connect; 0 = none
    #: ETAMIL_DB_STATEMENT_TIMEOUT: PostgreSQL cancels a statement running longer (the session's
    #: ``statement_timeout``, sent when connecting; not behind a transaction-mode pooler, whose
    #: own ``query_timeout`` applies there); 0 = none (``etamil run``, as the reference); servers
    #: (``web/loading.py``) make 30 s, the handler deadline's default, their default
    statement_timeout: float = 0.0
    #: ETAMIL_DB_TCP_USER_TIMEOUT: a PostgreSQL connection whose sent data stays unacknowledged
    #: this long is broken (libpq ``tcp_user_timeout``), with keepalive probes after 5 s of
    #: silence so that waiting for the answer of a vanished server ends too; 0 = the system's
    tcp_user_timeout: float = 10.0
    #: ETAMIL_DB_TRANSACTION_POOLING: PostgreSQL is reached through a pooler in transaction mode
    #: (pgbouncer ``pool_mode = transaction``): parameters are bound on the client and no state
    #: is kept in the server session (host/db/drivers/postgres.py)
    transaction_pooling: bool = False
    #: ETAMIL_SQLITE_JOURNAL: "default" keeps SQLite's rollback journal (as the reference); "wal"
    #: opens SQLite files in write-ahead-log mode, so readers never wait for a writer and writers
    #: of several processes take turns (host/db/drivers/sqlite_gate.py) instead of failing with
    #: "database is locked" or sleeping in SQLite's retry loop. Servers
    #: (``web/loading.py``) make "wal" their default.
    sqlite_journal: str = "default"


@dataclass(frozen=True)
class FileSettings:
    """Where a program's file builtins may reach (host/datadir.py)."""

    #: ETAMIL_DATA_DIR: when set, every file a program names (file statements, கோப்பு_சேமி,
    #: uploads, response files, packages) is taken relative to this directory and must resolve
    #: inside it (``..``, absolute paths and symlinks leading out are refused); unset: the
    #: working directory and anywhere the process may go (the reference's behaviour)
    data_dir: str | None = None


@dataclass(frozen=True)
class LimitSettings:
    """How large a value one run may build (ours: the reference has none). ``runtime/limits.py``
    reads them for every run, the command's and the servers' alike."""

    max_text_bytes: int = 64 * MIB  # ETAMIL_MAX_TEXT_BYTES: the largest text, in memory; 0 = no limit
    max_items: int = 10_000_000  # ETAMIL_MAX_ITEMS: the largest array (items) or record (fields); 0 = no limit


@dataclass(frozen=True)
class Settings:
    http: HttpSettings = field(default_factory=HttpSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    drain: DrainSettings = field(default_factory=DrainSettings)
    process: ProcessSettings = field(default_factory=ProcessSettings)
    log: LogSettings = field(default_factory=LogSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    files: FileSettings = field(default_factory=FileSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)

    def with_process(self, **changes) -> Settings:
        """A copy with some process settings changed (what command-line flags do)."""
        return replace(self, process=replace(self.process, **changes))


# ------------------------------------------------------------------------------ reading


_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgG]?)(?:i?[bB])?\s*$")
_SIZE_FACTORS = {"": 1, "k": KIB, "m": MIB, "g": 1024 * MIB}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_size(name: str, text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"{name}: expected a size in bytes (like 1048576, 16k or 1MiB), got '{text}'")
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]


def _parse_int(name: str, text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got '{text}'") from None
    if value < 0:
        raise ConfigError(f"{name}: expected a number of at least 0, got '{text}'")
    return value


def _parse_seconds(name: str, text: str) -> float:
    return _parse_duration(name, text, "seconds")


def _parse_milliseconds(name: str, text: str) -> float:
    return _parse_duration(name, text, "milliseconds")


def _parse_duration(name: str, text: str, unit: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a number of {unit}, got '{text}'") from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name}: expected a number of {unit} of at least 0, got '{text}'")
    return value


def _parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}: expected on/off (1/0, true/false, yes/no), got '{text}'")


def _parse_choice(choices: tuple[str, ...]):
    def parse(name: str, text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in choices:
            raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got '{text}'")
        return lowered

    return parse


def _parse_binds(name: str, text: str) -> tuple[str, ...]:
    binds = tuple(part.strip() for part in text.split(",") if part.strip())
    if not binds:
        raise ConfigError(f"{name}: expected HOST:PORT[,HOST:PORT...], got '{text}'")
    return binds


def _parse_text(name: str, text: str) -> str | None:
    return text or None


def _parse_idle(name: str, text: str) -> int:
    # HOST.md §2.9: the reference parses an unsigned integer and falls back to 8, never failing
    return int(text) if re.fullmatch(r"\+?[0-9]+", text) else DatabaseSettings.idle


# (dataclass, field, variable, parser) — the whole table of variables, in one readable place
_VARIABLES = (
    (HttpSettings, "max_body", "ETAMIL_MAX_BODY", _parse_size),
    (HttpSettings, "max_header", "ETAMIL_MAX_HEADER", _parse_size),
    (HttpSettings, "max_target", "ETAMIL_MAX_TARGET", _parse_size),
    (HttpSettings, "keepalive_timeout", "ETAMIL_KEEPALIVE_TIMEOUT", _parse_seconds),
    (HttpSettings, "read_timeout", "ETAMIL_READ_TIMEOUT", _parse_seconds),
    (HttpSettings, "header_timeout", "ETAMIL_HEADER_TIMEOUT", _parse_seconds),
    (HttpSettings, "send_timeout", "ETAMIL_SEND_TIMEOUT", _parse_seconds),
    (HttpSettings, "max_pipeline", "ETAMIL_MAX_PIPELINE", _parse_int),
    (HttpSettings, "server_header", "ETAMIL_SERVER_HEADER", lambda name, text: text.strip()),
    (HttpSettings, "balance_accept", "ETAMIL_BALANCE_ACCEPT", _parse_bool),
    (ExecutionSettings, "executor_threads", "ETAMIL_THREADS", _parse_int),
    (ExecutionSettings, "vm_pool_size", "ETAMIL_VM_POOL", _parse_int),
    (ExecutionSettings, "handler_deadline", "ETAMIL_HANDLER_DEADLINE", _parse_seconds),
    (ExecutionSettings, "max_concurrency", "ETAMIL_MAX_CONCURRENCY", _parse_int),
    (ExecutionSettings, "inline_budget_ms", "ETAMIL_INLINE_BUDGET_MS", _parse_milliseconds),
    (DrainSettings, "graceful_timeout", "ETAMIL_GRACEFUL_TIMEOUT", _parse_seconds),
    (DrainSettings, "idle_grace", "ETAMIL_DRAIN_GRACE", _parse_seconds),
    (DrainSettings, "margin", "ETAMIL_DRAIN_MARGIN", _parse_seconds),
    (ProcessSettings, "program", "ETAMIL_PROGRAM", _parse_text),
    (ProcessSettings, "bind", "ETAMIL_BIND", _parse_binds),
    (ProcessSettings, "processes", "ETAMIL_PROCESSES", _parse_int),
    (ProcessSettings, "heartbeat_timeout", "ETAMIL_HEARTBEAT_TIMEOUT", _parse_seconds),
    (ProcessSettings, "max_requests", "ETAMIL_MAX_REQUESTS", _parse_int),
    (ProcessSettings, "max_requests_jitter", "ETAMIL_MAX_REQUESTS_JITTER", _parse_int),
    (ProcessSettings, "backlog", "ETAMIL_BACKLOG", _parse_int),
    (ProcessSettings, "pidfile", "ETAMIL_PIDFILE", _parse_text),
    (ProcessSettings, "state_dir", "ETAMIL_STATE_DIR", _parse_text),
    (LogSettings, "format", "ETAMIL_LOG_FORMAT", _parse_choice(("text", "json"))),
    (LogSettings, "level", "ETAMIL_LOG_LEVEL", _parse_choice(("debug", "info", "warning", "error"))),
    (LogSettings, "access_log", "ETAMIL_ACCESS_LOG", _parse_text),
    (MetricsSettings, "enabled", "ETAMIL_METRICS", _parse_bool),
    (MetricsSettings, "directory", "PROMETHEUS_MULTIPROC_DIR", _parse_text),
    (DatabaseSettings, "idle", "ETAMIL_DB_IDLE", _parse_idle),
    (DatabaseSettings, "pool_max", "ETAMIL_DB_POOL_MAX", _parse_int),
    (DatabaseSettings, "pool_timeout", "ETAMIL_DB_POOL_TIMEOUT", _parse_seconds),
    (DatabaseSettings, "check_idle", "ETAMIL_DB_CHECK_IDLE", _parse_seconds),
    (DatabaseSettings, "max_lifetime", "ETAMIL_DB_MAX_LIFETIME", _parse_seconds),
    (DatabaseSettings, "connect_timeout", "ETAMIL_DB_CONNECT_TIMEOUT", _parse_seconds),
    (DatabaseSettings, "statement_timeout", "ETAMIL_DB_STATEMENT_TIMEOUT", _parse_seconds),
    (DatabaseSettings, "tcp_user_timeout", "ETAMIL_DB_TCP_USER_TIMEOUT", _parse_seconds),
    (DatabaseSettings, "transaction_pooling", "ETAMIL_DB_TRANSACTION_POOLING", _parse_bool),
    (DatabaseSettings, "sqlite_journal", "ETAMIL_SQLITE_JOURNAL", _parse_choice(("default", "wal"))),
    (FileSettings, "data_dir", "ETAMIL_DATA_DIR", _parse_text),
    (LimitSettings, "max_text_bytes", "ETAMIL_MAX_TEXT_BYTES", _parse_size),
    (LimitSettings, "max_items", "ETAMIL_MAX_ITEMS", _parse_int),
)

_AREAS = {
    HttpSettings: "http",
    ExecutionSettings: "execution",
    DrainSettings: "drain",
    ProcessSettings: "process",
    LogSettings: "log",
    MetricsSettings: "metrics",
    DatabaseSettings: "database",
    FileSettings: "files",
    LimitSettings: "limits",
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (``os.environ`` by default); unset variables keep defaults."""
    env = os.environ if environ is None else environ
    changes: dict[type, dict[str, object]] = {area: {} for area in _AREAS}
    for area, name, variable, parse in _VARIABLES:
        text = env.get(variable)
        if text is not None:
            changes[area][name] = parse(variable, text)
    areas = {_AREAS[area]: area(**values) for area, values in changes.items()}
    settings = Settings(**areas)
    if settings.execution.executor_threads < 1:
        raise ConfigError("ETAMIL_THREADS: expected at least 1 thread, got '0'")
    return settings


def load_database_settings(environ: Mapping[str, str] | None = None) -> DatabaseSettings:
    """Only the database settings: the connection pool reads these when a program first connects
    (a bad unrelated variable must not stop a command-line run from reaching its database)."""
    return _load_area(DatabaseSettings, environ)


def load_limit_settings(environ: Mapping[str, str] | None = None) -> LimitSettings:
    """Only the limits: every run reads them (``runtime/limits.py``), the command's too, where the
    other settings are never read."""
    return _load_area(LimitSettings, environ)


def _load_area(area: type, environ: Mapping[str, str] | None):
    env = os.environ if environ is None else environ
    values = {name: parse(variable, env[variable]) for owner, name, variable, parse in _VARIABLES
              if owner is area and variable in env}
    return area(**values)


def documented_variables() -> list[tuple[str, str, object]]:
    """(variable, area.field, default) for every variable: the README's table is generated from it."""
    defaults = {area: {f.name: f.default for f in fields(area)} for area in _AREAS}
    return [
        (variable, f"{_AREAS[area]}.{name}", defaults[area][name]) for area, name, variable, _ in _VARIABLES
    ]
