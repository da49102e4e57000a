"""VM contexts for handlers, the bounded thread pool for handlers that can block, and the deadline
watchdog that stops a handler which runs too long.

One :class:`VmPool` per worker process. A handler run takes a :class:`RunContext` (reset, so it
starts clean), runs, and gives it back. Handlers that cannot block run inline on the event loop
thread (:meth:`VmPool.run_inline`); the others run on the executor (:meth:`VmPool.submit`), whose
thread count bounds how many wait on the outside world at once.

The deadline: the watchdog thread looks at the armed contexts about ten times a second and, for
one past its deadline, appends to ``ctx.stop``; the compiled program checks ``stop`` at every loop
iteration and function call and raises ``DeadlineExceeded`` (the app answers 503). This works the
same for inline and threaded handlers and costs a handler run only a dict insert and delete. A
handler blocked inside a database call cannot check ``stop``; the server answers such a request on
its own shortly after the deadline (``web/server.py``) and the thread finishes when the call does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..host.services import HOST_SERVICES
from ..runtime.context import RunContext

T = TypeVar("T")


class Watchdog:
    """Stops runs that pass their deadline (see the module docstring).

    No lock on the hot path: :meth:`arm` gives the context a fresh ``stop`` list for the run and
    registers that list; the compiled code reads ``ctx.stop`` when the run (or a function) starts.
    A stop the watchdog appends just after the run ended lands in a list nobody reads any more,
    so it can never leak into the next run on the same context."""

    def __init__(self, deadline: float, interval: float | None = None):
        self.deadline = deadline
        self.interval = interval if interval is not None else min(0.1, max(deadline / 10, 0.005))
        self._armed: dict[int, tuple[list, float]] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def arm(self, ctx: RunContext, deadline: float | None = None) -> None:
        """Watch a run; without a deadline it is only registered, so :meth:`stop_all` reaches it."""
        seconds = self.deadline if deadline is None else deadline
        if seconds:
            ctx.deadline_seconds = seconds
            at = time.monotonic() + seconds
        else:
            at = _NEVER
        stop = ctx.stop = []
        if self._thread is None:
            self._start()
        self._armed[id(ctx)] = (stop, at)

    def disarm(self, ctx: RunContext) -> None:
        self._armed.pop(id(ctx), None)

    def stop_all(self, reason: str = "stopping") -> None:
        """Stop every armed run at its next check (the end of a drain)."""
        for stop, _ in list(self._armed.values()):
            if not stop:
                stop.append(reason)

    def close(self) -> None:
        self._stopping.set()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="etamil-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            now = time.monotonic()
            for stop, at in list(self._armed.values()):  # a snapshot: runs come and go meanwhile
                if now >= at and not stop:
                    stop.append("deadline")


_NEVER = float("inf")


class VmPool:
    def __init__(self, size: int, threads: int, deadline: float, loop: asyncio.AbstractEventLoop):
        self.size = max(1, size)
        self.loop = loop
        self.deadline = deadline
        self.threads = max(1, threads)
        self.executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="etamil-handler")
        self.watchdog = Watchdog(deadline)
        self._idle: list[RunContext] = []
        self.in_executor = 0  # runs submitted and not finished (queued or running)
        # contexts made and dropped (the pool was full when they came back): with the idle ones
        # they give the contexts in use, for the metrics; both happen off the usual path (an
        # empty or a full pool), so the lock that keeps them exact across threads costs nothing
        self.created = 0
        self.dropped = 0
        self._counting = threading.Lock()

    # ------------------------------------------------------------------ contexts

    def acquire(self) -> RunContext:
        try:
            ctx = self._idle.pop()
        except IndexError:
            with self._counting:
                self.created += 1
            return RunContext(services=HOST_SERVICES)
        ctx.reset()
        return ctx

    def give_back(self, ctx: RunContext) -> None:
        if len(self._idle) < self.size:
            self._idle.append(ctx)
        else:
            with self._counting:
                self.dropped += 1

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def in_use(self) -> int:
        """Contexts running a handler or a timer tick now."""
        return max(0, self.created - self.dropped - len(self._idle))


    # ------------------------------------------------------------------ running

    def run_inline(self, run: Callable[[RunContext], T], deadline: float | None = None) -> T:
        """Run on the calling (event loop) thread with a pooled context under the deadline."""
        ctx = self.acquire()
        watchdog = self.watchdog
        watchdog.arm(ctx, deadline)
        try:
            return run(ctx)
        finally:
            watchdog.disarm(ctx)
            self.give_back(ctx)

    def submit(self, run: Callable[[RunContext], T], deadline: float | None = None) -> asyncio.Future:
        """Run on the executor; the returned asyncio future resolves on the loop."""
        self.in_executor += 1
        future = self.loop.run_in_executor(self.executor, self._run_threaded, run, deadline)
        future.add_done_callback(self._finished)
        return future

    def _run_threaded(self, run: Callable[[RunContext], T], deadline: float | None) -> T:
        return self.run_inline(run, deadline)

    def _finished(self, _future: asyncio.Future) -> None:
        self.in_executor -= 1

    # ------------------------------------------------------------------ shutting down

    def stop_running(self) -> None:
        """Ask every run still going to stop at its next check."""
        self.watchdog.stop_all()

    def close(self, wait: bool = False) -> None:
        self.watchdog.close()
        self.executor.shutdown(wait=wait, cancel_futures=True)
        with self._counting:
            self.dropped += len(self._idle)
            self._idle.clear()
