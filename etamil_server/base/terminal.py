"""Talking to the user of a command and ending its process, one way for every entry point.

:func:`say` writes a line to stdout and :func:`complain` one to stderr (stdout is flushed first, so
the two streams interleave in the order the lines were written, as the reference's do, HOST.md
§2.8). These are the command's own words (banners, ``✗ …`` messages); what a running server logs
goes through ``logging`` instead (``web/logs.py``).

Ending: ``வெளியேறு(n)`` ends the process with ``n`` (fraction dropped; a value that is not a 32-bit
integer gives 1) after flushing stdout and stderr, wherever it is reached: the command's run, a
server handler or a timer tick. The command returns the status to ``sys.exit``; the servers, whose
handler threads and event loop cannot unwind the interpreter cleanly, end at once with
:func:`exit_now`. The operating system keeps the low eight bits of the status either way.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def say(text: str = "") -> None:
    """One line on stdout, flushed."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def complain(text: str) -> None:
    """One line (or several) on stderr, after flushing stdout."""
    sys.stdout.flush()
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def shown_path(path: str) -> str:
    """A file as the command's messages name it: relative to the working directory when it lies
    inside it, else the path as it is."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def exit_status(status: int) -> int:
    """The status ``வெளியேறு(status)`` ends the process with."""
    return status if _INT32_MIN <= status <= _INT32_MAX else 1


def flush_streams() -> None:
    """Flush stdout and stderr, ignoring streams already closed or broken."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def exit_now(status: int) -> NoReturn:
    """Flush, then end the process immediately (no unwinding, no atexit: handler threads of a
    server may still be running, and ``வெளியேறு`` runs no releases)."""
    flush_streams()
    os._exit(exit_status(status) & 0xFF)
