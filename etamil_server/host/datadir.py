"""The data directory: how far a program's file names may reach (ETAMIL_DATA_DIR).

A handler's file builtins take their paths from the program, and a program builds them from
request values: without a fence, ``../../etc/passwd``, an absolute path or a symlink planted in a
writable directory reaches anything the server's user may read or write. With ETAMIL_DATA_DIR set,
:func:`confined` turns every such name into the path to open: relative names are taken inside the
directory, and the real path (``..`` and every symlink resolved) must lie inside the directory's
own real path. A name that leads out fails like an unreadable file, with an ``OSError`` whose text
names neither the directory nor where the name led, so the callers' existing error messages apply
and an error body shows only the name the program gave.

Unset (the default), names are used as given, relative to the working directory, as the
reference does. What is resolved is checked when the file is opened; a symlink swapped in between
the check and the open (only a program that can run commands could make one) is not caught.
"""

from __future__ import annotations

import errno
import os
from functools import lru_cache

#: The text of the refusal (rendered "…  (os error 13)" like any other I/O failure).
OUTSIDE = "Permission denied: outside the data directory"


class OutsideDataDirectory(PermissionError):
    """A file name that resolves outside ETAMIL_DATA_DIR."""

    def __init__(self) -> None:
        super().__init__(errno.EACCES, OUTSIDE)


@lru_cache(maxsize=4)
def _real_directory(configured: str) -> str:
    return os.path.realpath(configured)


def data_directory() -> str | None:
    """The real path of ETAMIL_DATA_DIR (``config.FileSettings.data_dir``), or ``None`` when it
    is unset or empty. Read from the environment at each call, a dictionary lookup, rather than
    once: a worker and ``etamil run`` see the variable the same way."""
    configured = os.environ.get("ETAMIL_DATA_DIR")
    if not configured:
        return None
    return _real_directory(configured)


def confined(path: str) -> str:
    """The path to open for the program's file name ``path``.

    Raises :class:`OutsideDataDirectory` (an ``OSError``) when a data directory is set and the
    name resolves outside it, and ``ValueError`` for a name with a NUL byte (as ``open`` would)."""
    directory = data_directory()
    if directory is None:
        return path
    if "\0" in path:
        raise ValueError("embedded null byte")
    real = os.path.realpath(os.path.join(directory, path))
    if real != directory and not real.startswith(directory.rstrip(os.sep) + os.sep):
        raise OutsideDataDirectory()
    return real
