"""What the pool and the session need from a driver.

A *driver* opens connections for one canonical database type; a *connection* runs statements
with eTamil values in and eTamil values out, and raises :class:`EtamilError` with the spec's
messages for every failure (never a driver exception).
"""

from __future__ import annotations

import os
import select
from typing import Any, Protocol

from ....config import DatabaseSettings

Row = dict[str, Any]


class Connection(Protocol):
    def execute(self, sql: str, params: list) -> int:
        """Run one statement; the number of rows affected."""

    def query(self, sql: str, params: list) -> list[Row]:
        """Run one statement; its rows as records."""

    def rollback(self) -> bool:
        """``ROLLBACK``, ignoring errors (HOST.md §5.9); False when the connection is broken."""

    def looks_alive(self) -> bool:
        """A local check, no round trip: False when the server is known to have gone away."""

    def ping(self) -> bool:
        """A cheap round trip; False when the connection does not work."""

    def close(self) -> None:
        """Close, ignoring errors."""

    def abandon(self) -> None:
        """Forget the connection in a forked child without touching the server session."""


class Driver(Protocol):
    name: str  # the canonical type this driver serves, for messages

    def connect(self, text: str, settings: DatabaseSettings) -> Connection: ...

    def is_private(self, text: str) -> bool:
        """A connection text whose database exists only inside its connection (never pooled)."""


#: Connections abandoned after a fork. They stay referenced so that their finalizers never run
#: in the child (a finalizer could close or terminate a session the parent still uses).
GRAVEYARD: list[Any] = []


def socket_is_quiet(fd: int) -> bool:
    """True when an idle client socket has nothing to read. A server that closed the connection
    (restart, pg_terminate_backend, wait_timeout) makes it readable: EOF or a final error."""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def neutralise_fd(fd: int) -> None:
    """Point ``fd`` at /dev/null in this process only. The child then no longer holds the
    parent's socket open, and nothing written on it by mistake (a Terminate message from a
    library that does not check the process) can reach the server; the parent is untouched."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)
