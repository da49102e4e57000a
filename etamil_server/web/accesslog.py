"""One access-log line per answered request (``ETAMIL_ACCESS_LOG``: ``-`` for stdout, or a file),
in the common log format with the duration appended, or as JSON lines (``ETAMIL_LOG_FORMAT=json``).

    127.0.0.1 - - [27/Nov/2026:10:15:30 +0000] "GET /orders/7 HTTP/1.1" 200 131 0.000412
    {"time": "2026-11-27T10:15:30.123+00:00", "remote": "127.0.0.1", "method": "GET", ...}

Lines are buffered and handed to the ``etamil.access`` logger (``web/logs.py``, which knows where
they go) by the server's sweep about once a second, as one record: a logging call per request
would cost more than serving a small one.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from .logs import ACCESS_LOG


class AccessLog:
    def __init__(self, fmt: str = "text"):
        self.json = fmt == "json"
        self.lines: list[str] = []
        self._started: dict[int, float] = {}

    def started(self, request: Any) -> None:
        self._started[id(request)] = time.monotonic()

    def __call__(self, request: Any, response: Any, size: int, peer: str | None) -> None:
        began = self._started.pop(id(request), None)
        seconds = time.monotonic() - began if began is not None else 0.0
        now = datetime.now(UTC)
        remote = peer or "-"
        if self.json:
            record = {
                "time": now.isoformat(timespec="milliseconds"),
                "remote": remote,
                "method": request.method,
                "target": request.target,
                "version": request.http_version,
                "status": response.status,
                "bytes": size,
                "seconds": round(seconds, 6),
            }
            self.lines.append(json.dumps(record, ensure_ascii=False))
        else:
            stamp = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
            line = f'{remote} - - [{stamp}] "{request.method} {request.target} HTTP/{request.http_version}"'
            self.lines.append(f"{line} {response.status} {size} {seconds:.6f}")

    def flush(self) -> None:
        """Write what was logged since the last flush (the sweep calls this)."""
        if len(self._started) > 10000:
            self._started.clear()  # requests whose connection went away before an answer
        if not self.lines:
            return
        lines, self.lines = self.lines, []
        ACCESS_LOG.info("\n".join(lines))

    def close(self) -> None:
        self.flush()
