"""One access-log line per answered request (``ETAMIL_ACCESS_LOG``: ``-`` for stdout, or a file),
in the common log format with the duration and the request id appended, or as JSON lines
(``ETAMIL_LOG_FORMAT=json``).

    127.0.0.1 - - [27/Nov/2026:10:15:30 +0000] "GET /orders/7 HTTP/1.1" 200 131 0.000412 3f9a0c1d2e4b-1a
    {"time": "2026-11-27T10:15:30.123+00:00", "remote": "127.0.0.1", "method": "GET", ...,
     "request_id": "3f9a0c1d2e4b-1a"}

In the text format the request line is quoted, so a ``"``, a backslash or a control character in
the target is written as ``\\xHH`` (as nginx does) and the line always splits back into its
fields; the request id has no spaces (``web/request_ids.py``). The duration runs from the request
taken to its response serialised, in seconds.

Lines are buffered and handed to the ``etamil.access`` logger (``web/logs.py``, which knows where
they go) by the server's sweep about once a second, as one record: a logging call per request
would cost more than serving a small one.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from .logs import ACCESS_LOG

_UNSAFE_IN_QUOTES = re.compile(r'["\\\x00-\x1f\x7f]')


def _escape(text: str) -> str:
    if _UNSAFE_IN_QUOTES.search(text) is None:
        return text
    return _UNSAFE_IN_QUOTES.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class AccessLog:
    def __init__(self, fmt: str = "text"):
        self.json = fmt == "json"
        self.lines: list[str] = []
        self._second = -1  # the whole second the cached stamps are for
        self._stamp = ""

    def _stamp_for(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC)
            self._stamp = moment.strftime("%Y-%m-%dT%H:%M:%S" if self.json else "%d/%b/%Y:%H:%M:%S +0000")
            self._second = second
        if self.json:
            return f"{self._stamp}.{int((now - second) * 1000):03d}+00:00"
        return self._stamp

    def __call__(self, request: Any, response: Any, size: int, peer: str | None, seconds: float) -> None:
        stamp = self._stamp_for(time.time())
        remote = peer or "-"
        if self.json:
            record = {
                "time": stamp,
                "remote": remote,
                "method": request.method,
                "target": request.target,
                "version": request.http_version,
                "status": response.status,
                "bytes": size,
                "seconds": round(seconds, 6),
                "request_id": request.request_id,
            }
            self.lines.append(json.dumps(record, ensure_ascii=False))
        else:
            line = f'{remote} - - [{stamp}] "{request.method} {_escape(request.target)} HTTP/{request.http_version}"'
            self.lines.append(f"{line} {response.status} {size} {seconds:.6f} {request.request_id or '-'}")

    def flush(self) -> None:
        """Write what was logged since the last flush (the sweep calls this)."""
        if not self.lines:
            return
        lines, self.lines = self.lines, []
        ACCESS_LOG.info("\n".join(lines))

    def close(self) -> None:
        self.flush()
