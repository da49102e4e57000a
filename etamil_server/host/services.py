"""The host's services for a run (``runtime.context.HostServices``): console input, the file
statements, database sessions, and what a run must close at its end.

The command, the REPL and the server hand :data:`HOST_SERVICES` to every ``RunContext`` they make,
which is how the runtime reaches the world without importing the host. The modules that do the
work are imported on first use: ``etamil run`` of a program that never touches a file or a
database must not pay for loading them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class HostServices:
    def read_line(self, stream: Any) -> str:
        from .console import read_line

        return read_line(stream)

    def file_open(self, path: str, mode: str) -> None:
        from .files import file_open

        file_open(path, mode)

    def file_append_line(self, path: str, text: str) -> None:
        from .files import file_append_line

        file_append_line(path, text)

    def file_read(self, path: str) -> str:
        from .files import file_read

        return file_read(path)

    def csv_count(self, path: str) -> Decimal:
        from .files import csv_count

        return csv_count(path)

    def db_session(self) -> Any:
        from .db.session import DbSession

        return DbSession()

    def end_run(self, ctx: Any) -> None:
        if ctx.redis is not None:
            from .builtins import close_redis

            close_redis(ctx)


HOST_SERVICES = HostServices()
