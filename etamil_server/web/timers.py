"""Timers (``இடைவெளி``) run once per interval per *server*, not once per worker process.

The choice: leadership by an exclusive ``flock`` on a lock file shared by the workers of one
server. Every worker tries to take the lock (without waiting) about once a second; the one that
holds it runs every timer, the others run none. When the leader dies — crash, SIGKILL, recycling —
the kernel drops its lock and another worker takes over within a second; a leader that drains
lets go once its running ticks have finished, so ticks never overlap across processes. Nothing
has to be elected or heartbeaten, there is no master-side code, and it works the same for one
process (``etamil serve``) and for many (gunicorn).

Why not pin the timers to "worker 1" from the master's hooks: workers are replaced (HUP, TTOU,
max_requests, crashes) and the arbiter's worker numbers are not stable, so the pinned worker
would have to be tracked across replacements; the lock does that for free.

The schedule survives a change of leader: the leader writes each timer's next due time (wall
clock) into a small state file beside the lock, and a new leader continues from it. A timer's
first run is one interval after the server started (the first leader's start); after each run,
the next is one interval after that run *finished* (HOST.md §4.12).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ..base.errors import EtamilExit
from .logs import ERROR_LOG


class Leadership:
    """An exclusive, non-blocking ``flock`` on ``path`` (held while the file stays open)."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor drops the lock


def state_paths(server_id: str, directory: str | None = None) -> tuple[str, str]:
    """The lock file and the schedule file of the server ``server_id``."""
    base = os.path.join(directory or tempfile.gettempdir(), f"etamil-timers-{server_id}")
    return base + ".lock", base + ".json"


def remove_state(server_id: str, directory: str | None = None) -> None:
    """Forget a server's timer files (the master does this when it exits)."""
    for path in state_paths(server_id, directory):
        try:
            os.unlink(path)
        except OSError:
            pass


class TimerRunner:
    """Runs the timers of one app when this process is the leader.

    ``submit(run)`` runs ``run(ctx)`` on the executor and returns an asyncio future (the VM
    pool's ``submit``); ``on_exit(status)`` is called when a tick calls ``வெளியேறு``."""

    def __init__(
        self,
        timers: list[Any],
        loop: asyncio.AbstractEventLoop,
        submit: Callable[..., asyncio.Future],
        server_id: str,
        directory: str | None = None,
        on_exit: Callable[[int], None] | None = None,
    ):
        self.timers = list(timers)
        self.loop = loop
        self.submit = submit
        self.on_exit = on_exit
        lock_path, self.state_path = state_paths(server_id, directory)
        self.leadership = Leadership(lock_path)
        self.running: set[int] = set()  # timer indexes with a tick in flight
        self.handles: dict[int, asyncio.TimerHandle] = {}
        self.next_due: dict[str, float] = {}
        self.stopped = False

    @property
    def leader(self) -> bool:
        return self.leadership.held

    # ------------------------------------------------------------------ the sweep calls these

    def poll(self) -> None:
        """Try to become the leader (about once a second, from the server's sweep)."""
        if self.stopped or not self.timers or self.leadership.held:
            return
        if self.leadership.try_acquire():
            self._start_leading()

    def stop(self) -> None:
        """Stop scheduling; give up leadership once the ticks in flight have finished."""
        self.stopped = True
        for handle in self.handles.values():
            handle.cancel()
        self.handles.clear()
        if not self.running:
            self.leadership.release()

    def replace(self, timers: list[Any]) -> None:
        """A reloaded program: its timers take over the schedule (keyed by position and interval)."""
        for handle in self.handles.values():
            handle.cancel()
        self.handles.clear()
        self.timers = list(timers)
        if self.leadership.held and not self.stopped:
            self._start_leading()

    # ------------------------------------------------------------------ leading

    def _start_leading(self) -> None:
        self.next_due = self._load_state()
        now = time.time()
        changed = False
        for timer in self.timers:
            key = _key(timer)
            if key not in self.next_due:
                self.next_due[key] = now + timer.seconds
                changed = True
            if timer.index not in self.running:
                self._schedule(timer)
        if changed:
            self._save_state()

    def _schedule(self, timer: Any) -> None:
        delay = max(0.0, self.next_due[_key(timer)] - time.time())
        self.handles[timer.index] = self.loop.call_later(delay, self._fire, timer)

    def _fire(self, timer: Any) -> None:
        self.handles.pop(timer.index, None)
        if self.stopped:
            return
        self.running.add(timer.index)
        future = self.submit(timer.run, 0)
        future.add_done_callback(lambda done: self._tick_done(timer, done))

    def _tick_done(self, timer: Any, future: asyncio.Future) -> None:
        self.running.discard(timer.index)
        exit_status = _exit_status(future)
        if exit_status is not None and self.on_exit is not None:
            self.on_exit(exit_status)
            return
        if self.stopped:
            if not self.running:
                self.leadership.release()
            return
        if timer not in self.timers:
            return  # replaced by a reload meanwhile
        self.next_due[_key(timer)] = time.time() + timer.seconds
        self._save_state()
        self._schedule(timer)

    # ------------------------------------------------------------------ the shared schedule

    def _load_state(self) -> dict[str, float]:
        try:
            with open(self.state_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}

    def _save_state(self) -> None:
        temporary = f"{self.state_path}.{os.getpid()}"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(self.next_due, handle)
            os.replace(temporary, self.state_path)
        except OSError as exc:  # a full disk must not stop the timers
            ERROR_LOG.warning("etamil-server: cannot save the timer schedule: %s", exc)


def _key(timer: Any) -> str:
    return f"{timer.index}:{timer.seconds}"


def _exit_status(future: asyncio.Future) -> int | None:
    """The status of a ``வெளியேறு`` raised by the tick, if it raised one."""
    if future.cancelled():
        return None
    exc = future.exception()
    if isinstance(exc, EtamilExit):
        return exc.status
    if exc is not None:
        ERROR_LOG.error("etamil-server: timer tick failed: %r", exc)
    return None
