"""Timers (``இடைவெளி``) run once per interval per *cluster*, not once per worker or per host.

Two levels of leadership:

* **On one host**, an exclusive ``flock`` on a lock file shared by the workers of one server.
  Every worker tries to take it (without waiting) about once a second; the holder is the host's
  leader. When it dies — crash, SIGKILL, recycling — the kernel drops its lock and another worker
  takes over within a second; a leader that drains lets go once its running ticks have finished,
  so ticks never overlap across processes. Nothing has to be elected or heartbeaten, there is no
  master-side code, and it works the same for one process (``etamil serve``) and for many.
* **Across hosts**, when the program connects to PostgreSQL: the host's leader also takes a
  PostgreSQL advisory lock (``host/db/advisory.py``) on a connection of its own, and runs the
  timers only while it holds it. The database the program's own ``தளம்_இணை`` names is used, so
  the hosts that share that database are the cluster; the lock key comes from the program's file
  name, so two different programs on one database do not exclude each other. If the lock's
  connection breaks, leadership is lost (the timers stop) until it is taken again, by this host
  or another. Only one connection per host is spent on it (the flock decides who holds it).
  Programs on SQLite, or whose PostgreSQL connection text is only known when they run, keep the
  per-host leadership (logged at start when the program has timers).

Why not pin the timers to "worker 1" from the master's hooks: workers are replaced (HUP, TTOU,
max_requests, crashes) and the arbiter's worker numbers are not stable, so the pinned worker
would have to be tracked across replacements; the lock does that for free.

The schedule survives a change of leader: the leader records each timer's next due time — in a
small state file beside the lock file, or, across hosts, in the database's
``etamil_timer_schedule`` table in the database's clock — and a new leader continues from it. A
timer's first run is one interval after the server started (the first leader's start); after
each run, the next is one interval after that run *finished* (HOST.md §4.12). When a tick starts,
its next due time is first recorded as one interval from its start, so a leader that dies in the
middle of a tick cannot make its successor run the same tick again at once; a timer that is
overdue when a leader takes over (it was due while nobody led) runs at once, once.

Everything that touches the database runs on one thread of the runner's own, in order; the loop
never waits for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..base.errors import EtamilExit
from .logs import ERROR_LOG

if TYPE_CHECKING:  # psycopg2 is imported only by programs that use PostgreSQL
    from ..host.db.advisory import AdvisoryLeadership


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


class FileSchedule:
    """The schedule of one host's server: wall-clock due times in a JSON file."""

    def __init__(self, path: str):
        self.path = path

    def load(self) -> dict[str, float]:
        """Seconds until each timer is due (negative: overdue)."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        now = time.time()
        return {str(k): float(v) - now for k, v in data.items() if isinstance(v, int | float)}

    def save(self, seconds_by_key: dict[str, float]) -> None:
        now = time.time()
        temporary = f"{self.path}.{os.getpid()}"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump({key: now + seconds for key, seconds in seconds_by_key.items()}, handle)
            os.replace(temporary, self.path)
        except OSError as exc:  # a full disk must not stop the timers
            ERROR_LOG.warning("etamil-server: cannot save the timer schedule: %s", exc)


def cluster_leadership(app: Any, environ: Any = None) -> AdvisoryLeadership | None:
    """The cluster-wide lock for ``app``'s timers, on the PostgreSQL database the program connects
    to: a ``தளம்_இணை`` at the top of the prelude (it runs before every tick) if there is one,
    else the first other one, whose connection text is known without running the program and is
    not empty (an empty text is how a program says "not configured", e.g. in the branch of a
    program that can also run on SQLite). None (per-host timers) when there is none, with a
    warning when the program has timers and connects to PostgreSQL."""
    connects = getattr(app, "postgres_connects", None) or []
    if not app.timers or not connects:
        return None
    environ = os.environ if environ is None else environ
    for _line, _column, recipe, _top in connects:
        if recipe is not None and recipe.text(environ).strip():
            from ..host.db import pool as db_pool
            from ..host.db.advisory import AdvisoryLeadership, program_key

            name = os.path.basename(app.path or "") or "<stdin>"
            return AdvisoryLeadership(recipe.text(environ), program_key(name), db_pool.get_pool().settings, name)
    unknown = [(line, column) for line, column, recipe, _top in connects if recipe is None]
    if not unknown:
        return None  # every PostgreSQL connection text is empty here: the program runs without it
    line, column = unknown[0]
    ERROR_LOG.warning(
        "etamil-server: timers run once per host, not once per cluster: the PostgreSQL connection text "
        "at line %s, column %s is only known when the program runs (use literal text or சூழல்(\"NAME\", "
        "\"fallback\"))", line, column,
    )
    return None


class TimerRunner:
    """Runs the timers of one app when this process is the leader.

    ``submit(run)`` runs ``run(ctx)`` on the executor and returns an asyncio future (the VM
    pool's ``submit``); ``on_exit(status)`` is called when a tick calls ``வெளியேறு``.
    ``cluster``: the PostgreSQL advisory lock that makes the timers once per cluster (None: once
    per host)."""

    def __init__(
        self,
        timers: list[Any],
        loop: asyncio.AbstractEventLoop,
        submit: Callable[..., asyncio.Future],
        server_id: str,
        directory: str | None = None,
        on_exit: Callable[[int], None] | None = None,
        cluster: AdvisoryLeadership | None = None,
    ):
        self.timers = list(timers)
        self.loop = loop
        self.submit = submit
        self.on_exit = on_exit
        lock_path, self.state_path = state_paths(server_id, directory)
        self.leadership = Leadership(lock_path)  # this host
        self.cluster = cluster  # all hosts
        self.schedule = FileSchedule(self.state_path)
        self.leading = False
        self.running: set[int] = set()  # timer indexes with a tick in flight
        self.handles: dict[int, asyncio.TimerHandle] = {}
        self.next_due: dict[str, float] = {}  # loop clock
        self.stopped = False
        self._released = False
        self._thread: ThreadPoolExecutor | None = None
        self._polling = False  # a cluster poll is in flight
        self._last_problem: str | None = None

    @property
    def leader(self) -> bool:
        return self.leading

    # ------------------------------------------------------------------ the sweep calls these

    def poll(self) -> None:
        """Try to become the leader, or check that we still are (about once a second)."""
        if self.stopped or not self.timers:
            return
        if not self.leadership.held and not self.leadership.try_acquire():
            return
        if self.cluster is None:
            if not self.leading:
                self._start_leading(self.schedule.load())
            return
        if self._polling:
            return
        self._polling = True
        if self.leading:
            self._in_thread(self.cluster.still_held, self._checked, default=False)
        else:
            self._in_thread(self._acquire_cluster, self._acquired)

    def stop(self) -> None:
        """Stop scheduling; give up leadership once the ticks in flight have finished."""
        self.stopped = True
        self._cancel_handles()
        if not self.running:
            self._release()

    def replace(self, timers: list[Any]) -> None:
        """A reloaded program: its timers take over the schedule (keyed by position and interval)."""
        self._cancel_handles()
        self.timers = list(timers)
        if self.leading and not self.stopped:
            now = self.loop.time()
            self._start_leading({key: due - now for key, due in self.next_due.items()})

    # ------------------------------------------------------------------ cluster (on the thread)

    def _in_thread(self, work: Callable[[], Any], then: Callable[[Any], None] | None = None,
                   default: Any = None) -> None:
        """Run ``work`` on the runner's database thread, then ``then(result)`` on the loop. A
        database problem is logged (once until it changes) and gives ``default``."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="etamil-timer-lock")
        try:
            future = self.loop.run_in_executor(self._thread, self._guarded, work, default)
        except RuntimeError:  # the thread is shut down: we are stopping
            return
        if then is not None:
            future.add_done_callback(lambda done: then(done.result()) if not done.cancelled() else None)

    def _guarded(self, work: Callable[[], Any], default: Any) -> Any:
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - whatever the database says, the timers carry on
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._last_problem:
                self._last_problem = problem
                ERROR_LOG.warning("etamil-server: the timers' PostgreSQL lock: %s", problem)
            return default
        return result

    def _acquire_cluster(self) -> dict[str, float] | None:
        assert self.cluster is not None
        if not self.cluster.try_acquire():
            return None
        self._last_problem = None
        return self._guarded(self.cluster.load_schedule, {})

    def _acquired(self, schedule: dict[str, float] | None) -> None:
        self._polling = False
        if schedule is None:
            return
        if self.stopped:
            self._release()
            return
        ERROR_LOG.info("etamil-server: this process runs the timers for every host (pid %s)", os.getpid())
        self._start_leading(schedule)

    def _checked(self, held: bool) -> None:
        self._polling = False
        if not held and self.leading:
            self._lose()

    def _lose(self) -> None:
        """The lock's connection broke (or the lock is gone): stop until it is taken again."""
        ERROR_LOG.warning("etamil-server: timer leadership lost (the connection holding the lock broke)")
        self.leading = False
        self._cancel_handles()

    def _store(self, key: str, seconds: float) -> None:
        """Record that timer ``key`` is next due ``seconds`` from now."""
        if self.cluster is None:
            now = self.loop.time()
            due = {k: v - now for k, v in self.next_due.items()}
            due[key] = seconds
            self.schedule.save(due)
        else:
            cluster = self.cluster
            self._in_thread(lambda: cluster.save_due(key, seconds))

    # ------------------------------------------------------------------ leading

    def _start_leading(self, remaining: dict[str, float]) -> None:
        self.leading = True
        now = self.loop.time()
        fresh = []
        for timer in self.timers:
            key = _key(timer)
            left = remaining.get(key)
            if left is None:
                left = float(timer.seconds)  # the first run: one interval after the start
                fresh.append(key)
            self.next_due[key] = now + max(0.0, left)
        for key in fresh:
            self._store(key, self.next_due[key] - now)
        for timer in self.timers:
            if timer.index not in self.running:
                self._schedule(timer)

    def _schedule(self, timer: Any) -> None:
        delay = max(0.0, self.next_due[_key(timer)] - self.loop.time())
        self.handles[timer.index] = self.loop.call_later(delay, self._fire, timer)

    def _fire(self, timer: Any) -> None:
        self.handles.pop(timer.index, None)
        if self.stopped or not self.leading:
            return
        if self.cluster is None:
            self._store(_key(timer), float(timer.seconds))
            self._start_tick(timer)
            return
        cluster = self.cluster

        def confirm() -> bool:
            # the lock first: a leader whose connection broke must not run the tick
            if not cluster.still_held():
                return False
            self._guarded(lambda: cluster.save_due(_key(timer), float(timer.seconds)), None)
            return True

        self._in_thread(confirm, lambda held: self._start_tick(timer) if held else self._lose_if_leading(), False)

    def _lose_if_leading(self) -> None:
        if self.leading:
            self._lose()

    def _start_tick(self, timer: Any) -> None:
        if self.stopped or not self.leading or timer not in self.timers:
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
        current = timer in self.timers  # else replaced by a reload meanwhile
        if self.leading and current:
            # recorded even when stopping: the next leader must not run this tick again
            self.next_due[_key(timer)] = self.loop.time() + timer.seconds
            self._store(_key(timer), float(timer.seconds))
        if self.stopped:
            if not self.running:
                self._release()
            return
        if self.leading and current:
            self._schedule(timer)

    def _cancel_handles(self) -> None:
        for handle in self.handles.values():
            handle.cancel()
        self.handles.clear()

    def _release(self) -> None:
        """Give up both locks (once): the cluster's after what is queued for it (the schedule)."""
        if self._released:
            return
        self._released = True
        self.leading = False
        if self.cluster is not None and self._thread is not None:
            cluster = self.cluster
            self._in_thread(cluster.close)
            self._thread.shutdown(wait=False)  # what is queued still runs; the thread then ends
        elif self.cluster is not None:
            self.cluster.close()
        self.leadership.release()


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
