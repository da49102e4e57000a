"""Request ids: the client's ``X-Request-Id`` when it is safe to repeat, else one made here.

A client's (or a proxy's) id is kept when it is at most :data:`MAX_LENGTH` characters of
``[A-Za-z0-9._:-]``: it then goes into a response header and into log lines as it is, so anything
else (spaces, quotes, CR/LF, other scripts, a huge value) is replaced by a generated id rather
than escaped. A generated id is this process's random prefix and a counter (``3f9a0c1d2e4b-1a``):
unique across the workers of a server and across restarts without a system call or a lock per
request (``itertools.count`` is atomic under the GIL, so handler threads may take ids too).
"""

from __future__ import annotations

import itertools
import re
import secrets

HEADER = "X-Request-Id"
HEADER_LOWER = HEADER.lower()
MAX_LENGTH = 128
_SAFE = re.compile(rf"[A-Za-z0-9._:\-]{{1,{MAX_LENGTH}}}")


def acceptable(value: str) -> bool:
    """Whether a client's id may be used as it is."""
    return _SAFE.fullmatch(value) is not None


class RequestIds:
    """One per process (made after the fork: the prefix must differ between workers)."""

    def __init__(self, prefix: str | None = None):
        self.prefix = (prefix if prefix is not None else secrets.token_hex(6)) + "-"
        self._counter = itertools.count(1)

    def new(self) -> str:
        return f"{self.prefix}{next(self._counter):x}"

    def for_request(self, headers: list[tuple[str, str]]) -> str:
        """The id of a request with these header lines (the last ``X-Request-Id`` counts)."""
        found = None
        for name, value in headers:
            if len(name) == 12 and name.lower() == HEADER_LOWER:
                found = value
        if found is not None:
            found = found.strip(" \t")
            if _SAFE.fullmatch(found) is not None:
                return found
        return f"{self.prefix}{next(self._counter):x}"
