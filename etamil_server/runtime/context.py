"""The per-run context of a program: what one run (a CLI run, one request, one timer tick, a REPL
session) owns while it executes: its output and input streams, its database leases, its uploads,
its deadline.

Compiled code calls the methods below for host statements. One context serves one run at a time;
the server keeps a pool of them per worker process (``web/vmpool.py``) and calls :meth:`reset`
between requests, so a context always goes back clean.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from . import errors
from .numbers import FAST_CONTEXT
from .values import display


class RunContext:
    """State of one run. ``stop`` is a list: anything appended to it stops the run at the next
    loop iteration or function call (how deadlines are enforced without a per-step clock read)."""

    def __init__(self, stdout: TextIO | None = None, stdin: TextIO | None = None):
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stop: list[Any] = []
        self.stop_message: str | None = None
        self._db = None
        self.uploads: list[tuple[dict[str, Any], bytes]] = []  # multipart files of the request
        self.deadline_seconds: float | None = None
        self.response: dict[str, Any] = {}  # the response_* globals (HOST.md §4.7)
        self.redis = None  # the run's Redis connection (HOST.md §7.1), closed by release()
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
        if self.redis is not None:
            from ..host.builtins import close_redis

            close_redis(self)

    def stopped(self) -> None:
        """Called by compiled code when ``stop`` is non-empty."""
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
        from ..host import console

        return console.read_line(self.stdin)

    # ---------------------------------------------------------------- files (HOST.md §6.1)
    def file_open(self, path: Any, mode: str) -> None:
        from ..host import files

        files.file_open(display(path), mode)

    def file_close(self, path: Any) -> None:
        return None  # nothing observable (HOST.md §6.1)

    def file_write(self, path: Any, data: Any) -> None:
        from ..host import files

        files.file_append_line(display(path), display(data))

    def file_read(self, path: Any) -> str:
        from ..host import files

        return files.file_read(display(path))

    def csv_read(self, path: Any):
        from ..host import files

        return files.csv_count(display(path))

    # ---------------------------------------------------------------- databases (HOST.md §5)
    @property
    def db(self):
        if self._db is None:
            from ..host.db.session import DbSession

            self._db = DbSession()
        return self._db

    def db_connect(self, type_name: str, connection: Any) -> None:
        self.db.connect(type_name, display(connection))

    def db_disconnect(self, type_name: str) -> None:
        self.db.disconnect(type_name)

    def db_execute(self, sql: Any, params: Any) -> None:
        self.db.execute(display(sql), params)

    def db_query(self, sql: Any, params: Any) -> list:
        return self.db.query(display(sql), params)
