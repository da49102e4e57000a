"""The per-run context of a program: what one run (a CLI run, one request, one timer tick, a REPL
session) owns while it executes: its output and input streams, its database leases, its uploads,
its deadline.

Compiled code calls the methods below for host statements. One context serves one run at a time;
the server keeps a pool of them per worker process (``web/vmpool.py``) and calls :meth:`reset`
between requests, so a context always goes back clean.

The runtime knows nothing of the host: whoever makes a context hands it the host's services
(:class:`HostServices`: console input, files, database sessions, the end of a run). The command,
the REPL and the server pass ``etamil_server.host.services.HOST_SERVICES``; a context made without
them runs pure programs, and a host statement in it fails with a clear error.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any, Protocol, TextIO

from ..base import errors
from ..base.numbers import FAST_CONTEXT
from .values import display


class DbSessionLike(Protocol):
    """What a run asks of its database session (``host/db/session.py``)."""

    def connect(self, type_name: str, connection_text: str) -> None: ...

    def disconnect(self, type_name: str) -> None: ...

    def execute(self, sql: str, params: Any) -> None: ...

    def query(self, sql: str, params: Any) -> list: ...

    def try_execute(self, sql: str, params: Any) -> Any: ...

    def try_query(self, sql: str, params: Any) -> Any: ...

    def release_all(self) -> None: ...


class HostServices(Protocol):
    """The host operations a run's statements reach (HOST.md §3.2, §5, §6.1)."""

    def read_line(self, stream: Any) -> str: ...

    def file_open(self, path: str, mode: str) -> None: ...

    def file_append_line(self, path: str, text: str) -> None: ...

    def file_read(self, path: str) -> str: ...

    def csv_count(self, path: str) -> Decimal: ...

    def db_session(self) -> DbSessionLike: ...

    def end_run(self, ctx: RunContext) -> None:
        """Close what the run opened outside its database session (a Redis connection)."""
        ...


class NoHostServices:
    """The services of a context made without any: every host statement fails, naming itself."""

    @staticmethod
    def _missing(what: str) -> errors.EtamilError:
        return errors.EtamilError(
            f"{what} — இந்த இயக்கத்தில் புரவலர் சேவைகள் இல்லை  "
            "(this run was given no host services: files, console input and databases)"
        )

    def read_line(self, stream: Any) -> str:
        raise self._missing("உள்ளிடு (input)")

    def file_open(self, path: str, mode: str) -> None:
        raise self._missing("கோப்பு_திற (file open)")

    def file_append_line(self, path: str, text: str) -> None:
        raise self._missing("கோப்பு_எழுது (file write)")

    def file_read(self, path: str) -> str:
        raise self._missing("கோப்பு_படி (file read)")

    def csv_count(self, path: str) -> Decimal:
        raise self._missing("தரவுரை_படி (csv read)")

    def db_session(self) -> DbSessionLike:
        raise self._missing("தளம் (database)")

    def end_run(self, ctx: RunContext) -> None:
        return None


NO_HOST_SERVICES = NoHostServices()


class BudgetMark:
    """What the server's watchdog appends to ``stop`` when a run on the event loop has had its
    budget (``web/vmpool.py``): ``started`` is when the run began (``time.monotonic``)."""

    __slots__ = ("started",)

    def __init__(self, started: float):
        self.started = started


class OverBudget(BaseException):
    """Raised by :meth:`RunContext.stopped` for a :class:`BudgetMark`: not a program error but a
    signal to whoever ran it (the server runs the handler again off the event loop). A
    BaseException, so that no ``except Exception`` on the way swallows it."""

    def __init__(self, started: float):
        super().__init__(started)
        self.started = started


class HeldOutput:
    """A run's printed text held back until the run ends (a run that may be abandoned and run
    again must not have printed twice). Quacks like the text stream :meth:`RunContext.print`
    writes to; :meth:`pass_on` writes what was held to the real stream, :meth:`drop` forgets it."""

    __slots__ = ("parts", "write")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def flush(self) -> None:
        return None  # the text goes out once, in pass_on

    def pass_on(self, stream: TextIO) -> None:
        if self.parts:
            stream.write("".join(self.parts))
            stream.flush()
            self.parts.clear()

    def drop(self) -> None:
        self.parts.clear()


class RunContext:
    """State of one run. ``stop`` is a list: anything appended to it stops the run at the next
    loop iteration or function call (how deadlines are enforced without a per-step clock read)."""

    def __init__(self, stdout: TextIO | None = None, stdin: TextIO | None = None,
                 services: HostServices | None = None):
        self.services: HostServices = services if services is not None else NO_HOST_SERVICES
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stop: list[Any] = []
        self.stop_message: str | None = None
        self._db: DbSessionLike | None = None
        self.uploads: list[tuple[dict[str, Any], bytes]] = []  # multipart files of the request
        self.deadline_seconds: float | None = None
        self.response: dict[str, Any] = {}  # the response_* globals (HOST.md §4.7)
        self.redis: Any = None  # the run's Redis connection (HOST.md §7.1), closed by release()
        # Each context owns its copy: decimal flags are per context object, and contexts run in
        # different threads at once.
        self.decimal_context = FAST_CONTEXT.copy()

    # ---------------------------------------------------------------- lifecycle
    def reset(self) -> None:
        """Forget everything of the previous run (leases must already be released)."""
        self.stop.clear()
        self.stop_message = None
        self.uploads = []
        self.deadline_seconds = None
        self.response = {}

    def release(self) -> None:
        """Give back every database lease (rolled back) — end of a run, request or tick."""
        if self._db is not None:
            db, self._db = self._db, None
            db.release_all()
        self.services.end_run(self)

    def stopped(self) -> None:
        """Called by compiled code when ``stop`` is non-empty: raises ``DeadlineExceeded`` (or
        :class:`OverBudget` for the server's :class:`BudgetMark`)."""
        reason = self.stop[0] if self.stop else None
        if type(reason) is BudgetMark:
            raise OverBudget(reason.started)
        message = self.stop_message or (
            "நிரல் நேர வரம்பைத் தாண்டியது  (the program ran past its deadline"
            + (f" of {self.deadline_seconds:g} s)" if self.deadline_seconds else ")")
        )
        raise errors.DeadlineExceeded(message)

    # ---------------------------------------------------------------- console (HOST.md §3)
    def print(self, value: Any) -> None:
        out = self.stdout
        out.write(display(value) + "\n")
        out.flush()

    def input(self) -> str:
        return self.services.read_line(self.stdin)

    # ---------------------------------------------------------------- files (HOST.md §6.1)
    def file_open(self, path: Any, mode: str) -> None:
        self.services.file_open(display(path), mode)

    def file_close(self, path: Any) -> None:
        return None  # nothing observable (HOST.md §6.1)

    def file_write(self, path: Any, data: Any) -> None:
        self.services.file_append_line(display(path), display(data))

    def file_read(self, path: Any) -> str:
        return self.services.file_read(display(path))

    def csv_read(self, path: Any) -> Decimal:
        return self.services.csv_count(display(path))

    # ---------------------------------------------------------------- databases (HOST.md §5)
    @property
    def db(self) -> DbSessionLike:
        if self._db is None:
            self._db = self.services.db_session()
        return self._db

    def db_connect(self, type_name: str, connection: Any) -> None:
        self.db.connect(type_name, display(connection))

    def db_disconnect(self, type_name: str) -> None:
        self.db.disconnect(type_name)

    def db_execute(self, sql: Any, params: Any) -> None:
        self.db.execute(display(sql), params)

    def db_query(self, sql: Any, params: Any) -> list:
        return self.db.query(display(sql), params)
