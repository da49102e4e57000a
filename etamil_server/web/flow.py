"""Flow control of one connection, both ways.

* Writing: the transport calls ``pause_writing`` when its buffer passes the high-water mark and
  ``resume_writing`` when it drained; while paused the protocol answers nothing more.
* Reading: pipelined requests wait in the protocol's queue while an earlier one runs; past
  ``max_backlog`` requests, or ``max_backlog_bytes`` of their bodies, reading pauses until the
  queue is empty (a client cannot make us hold an unbounded backlog).
* Slow readers: a peer that leaves our answer unread holds its memory. :meth:`FlowControl.stalled`
  says when written bytes have sat in the transport's buffer with no progress for
  ``send_timeout`` seconds (the sweep then aborts the connection); 0 turns that off.

Progress is measured as bytes handed to the transport minus bytes still buffered, so a peer that
reads slowly but steadily is never taken for a stalled one.
"""

from __future__ import annotations

import asyncio
import socket
import struct

# SO_LINGER on, zero seconds: close() resets the connection and drops the unsent bytes at once
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class FlowControl:
    __slots__ = (
        "transport",
        "max_backlog",
        "max_backlog_bytes",
        "send_timeout",
        "writing_paused",
        "reading_paused",
        "written",
        "_sent_seen",
        "_stuck_since",
    )

    def __init__(self, max_backlog: int, max_backlog_bytes: int, send_timeout: float):
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set by connection_made
        self.max_backlog = max(1, max_backlog)
        self.max_backlog_bytes = max_backlog_bytes
        self.send_timeout = send_timeout
        self.writing_paused = False
        self.reading_paused = False
        self.written = 0  # bytes handed to the transport so far
        self._sent_seen = -1
        self._stuck_since: float | None = None

    def write(self, data: bytes) -> None:
        self.written += len(data)
        self.transport.write(data)

    # ------------------------------------------------------------------ reading

    def backlog_grew(self, requests: int, body_bytes: int) -> None:
        """The queue now holds ``requests`` requests with ``body_bytes`` of bodies."""
        if not self.reading_paused and (requests >= self.max_backlog or body_bytes >= self.max_backlog_bytes):
            self.reading_paused = True
            self.transport.pause_reading()

    def backlog_drained(self, may_read: bool) -> None:
        """The queue is empty: read again if we had paused (and ``may_read``: input is still
        parsed on this connection)."""
        if self.reading_paused and may_read:
            self.reading_paused = False
            self.transport.resume_reading()

    def read_to_discard(self) -> None:
        """Lingering after a refusal: read (and drop) what the client still sends."""
        if self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()

    # ------------------------------------------------------------------ writing

    def stalled(self, now: float) -> bool:
        """True when written bytes have waited unread for ``send_timeout`` seconds or more. Called
        by the sweep (about once a second), which gives the measure its granularity."""
        if not self.send_timeout:
            return False
        buffered = self.transport.get_write_buffer_size()
        if not buffered:
            self._stuck_since = None
            return False
        sent = self.written - buffered
        if self._stuck_since is None or sent != self._sent_seen:
            self._stuck_since = now  # first seen waiting, or the peer read something since
            self._sent_seen = sent
            return False
        return now - self._stuck_since >= self.send_timeout

    def cut_off(self) -> None:
        """Reset the connection of a peer that reads nothing. A plain close (even the transport's
        abort) would leave the kernel holding the unsent bytes, megabytes per connection, for as
        long as it retries the peer; a reset frees them now."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
            except OSError:
                pass  # already gone: nothing is held
        self.transport.abort()
