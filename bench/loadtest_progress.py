"""Progress while the load test runs: which stage, how long it has left, how long the whole run
has left, so nobody stares at a silent terminal. On a terminal the current line counts down once a
second; elsewhere (CI, a pipe) each stage prints one line when it starts and one with its result.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``: short enough for a status line."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts planned time down: ``planned`` is the sum of every stage's seconds still to come."""

    def __init__(self, planned: float, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.planned = planned
        self.started = time.monotonic()
        self.live = self.stream.isatty()
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            if self.live:
                self.stream.write("\r\x1b[2K")
            self.stream.write(text + "\n")
            self.stream.flush()

    def say(self, text: str) -> None:
        """A line that stays (a stage's result, a notice)."""
        self._write(text)

    def elapsed(self) -> str:
        return duration_text(time.monotonic() - self.started)

    @contextmanager
    def stage(self, what: str, seconds: float) -> Iterator[None]:
        """A stage of ``seconds`` planned seconds; the countdown runs while the block does."""
        after = max(0.0, self.planned - seconds)
        self._write(f"[{self.elapsed()}] {what}: {duration_text(seconds)}, about {duration_text(seconds + after)} "
                    "left in all")
        stop = threading.Event()
        began = time.monotonic()
        ticker = None
        if self.live:
            def tick() -> None:
                while not stop.wait(1.0):
                    left = max(0.0, seconds - (time.monotonic() - began))
                    with self._lock:
                        self.stream.write(f"\r\x1b[2K  … {what}: {duration_text(left)} left, about "
                                          f"{duration_text(left + after)} in all")
                        self.stream.flush()

            ticker = threading.Thread(target=tick, name="progress", daemon=True)
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
                with self._lock:
                    self.stream.write("\r\x1b[2K")
                    self.stream.flush()
            self.planned = after
