"""Process titles that say what each process is doing (``ps``, ``top``).

``etamil: master <program>`` for the gunicorn master and
``etamil: worker N <program> [<busy> busy, <open> conns, <served> served]`` for a worker, refreshed
by the server's sweep about once a second (only written when it changed: a title is a syscall).
"""

from __future__ import annotations

from typing import Any

try:
    from setproctitle import setproctitle as _set
except ImportError:  # pragma: no cover - setproctitle is a dependency; titles are a nicety

    def _set(title: str) -> None:
        return None


def set_title(title: str) -> None:
    _set(title)


def master_title(program: str) -> str:
    return f"etamil: master {program}"


def worker_title(number: int | str, program: str, busy: int, conns: int, served: int, draining: bool = False) -> str:
    state = ", draining" if draining else ""
    return f"etamil: worker {number} {program} [{busy} busy, {conns} conns, {served} served{state}]"


class TitleKeeper:
    """A sweep hook that keeps a worker's title current."""

    def __init__(self, server: Any, number: int | str, program: str):
        self.server = server
        self.number = number
        self.program = program
        self.current = ""

    def __call__(self) -> None:
        server = self.server
        title = worker_title(
            self.number, self.program, server.busy, len(server.connections), server.served, server.draining
        )
        if title != self.current:
            self.current = title
            _set(title)
