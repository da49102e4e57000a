"""From a program file to a served app, with the front end's messages (HOST.md §2.4, §2.5, §4.2).

Used by every server entry point: ``etamil serve``, ``etamil --async``, the gunicorn master
(conf/etamil.py compiles the program there, before any fork) and the reload paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..base.recursion import allow_deep_recursion
from ..families import load_families
from ..lang.checker import check
from ..lang.loader import LoadError, Program, load_path
from .app import App, StartupError


class ProgramError(Exception):
    """The program cannot be served; ``lines`` are the ``✗ …`` lines for stderr."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class LoadedApp:
    app: App
    path: str
    files: list[str] = field(default_factory=list)  # every file the program was loaded from

    def stamp(self) -> tuple[tuple[str, float, int], ...]:
        """What changes when a program file is edited (for reload on change)."""
        return file_stamp(self.files)


def file_stamp(files: list[str]) -> tuple[tuple[str, float, int], ...]:
    stamp = []
    for path in files:
        try:
            info = os.stat(path)
            stamp.append((path, info.st_mtime, info.st_size))
        except OSError:
            stamp.append((path, 0.0, -1))
    return tuple(stamp)


def load_app(path: str, *, program: Program | None = None, mode: str = "ours") -> LoadedApp:
    """Load, type-check and compile ``path`` (or an already loaded ``program``).

    Raises :class:`ProgramError` with the messages a user should see."""
    # A server's requests write SQLite files from many threads and processes at once: unless the
    # operator chose otherwise, they share them in write-ahead-log mode (config.DatabaseSettings)
    os.environ.setdefault("ETAMIL_SQLITE_JOURNAL", "wal")
    allow_deep_recursion()  # the master loads here; the workers it forks inherit the limit
    load_families()
    if program is None:
        try:
            program = load_path(path)
        except LoadError as exc:
            raise ProgramError([f"✗ {exc.message}"]) from None
    errors = check(program)
    if errors:
        raise ProgramError([f"✗ {message}" for message in errors])
    try:
        app = App.from_program(program, mode=mode)
    except StartupError as exc:
        raise ProgramError([f"✗ {exc}"]) from None
    files = list(program.files) or ([program.path] if program.path else [])
    return LoadedApp(app, path, files)


def program_label(path: str | None) -> str:
    """How process titles name the program: as it was given."""
    return path or "<stdin>"


def describe(app: Any) -> str:
    """One line about what is served (for logs)."""
    routes = len(app.router.keys())
    timers = len(app.timers)
    return f"{routes} route{'s' if routes != 1 else ''}, {timers} timer{'s' if timers != 1 else ''}"
