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

The inline budget (``ETAMIL_INLINE_BUDGET_MS``): a handler that cannot block runs inline on the
event loop, where a long run would hold up every other connection of the worker. The responder
arms such a run with :meth:`Watchdog.arm_inline`; once it has run past the budget the watchdog
appends a :class:`~etamil_server.runtime.context.BudgetMark` to its ``stop``, the run raises
``OverBudget`` at its next check, and the responder drops what it produced (its printed text is
held back, its response variables and uploads live in its context) and runs it again on the
executor with what is left of the deadline. That is safe because such a handler reaches nothing
outside the run but its printed text: no database, file, network, process or sleep (the compiler's
``blocking``), and the non-blocking builtins only read (the clock, the environment, random keys,
the signing secret); of the two others, ``வெளியேறு`` ends the process (a run that reached it is
not abandoned) and ``ரெடிஸ்_பிரி`` closes the run's own Redis connection, which only a blocking
handler can have opened.

The watchdog ticks every half budget while inline runs are coming (it counts them: one integer
increment per run) and every 25 ms after a second without any, so an idle worker does not wake
hundreds of times a second; the first runaway after a quiet second holds the loop 25 ms at most
before the watchdog looks at it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..host.services import HOST_SERVICES
from ..runtime.context import BudgetMark, RunContext

T = TypeVar("T")


class Watchdog:
    """Stops runs that pass their deadline (see the module docstring).

    No lock on the hot path: :meth:`arm` gives the context a fresh ``stop`` list for the run and
    registers that list; the compiled code reads ``ctx.stop`` when the run (or a function) starts.
    A stop the watchdog appends just after the run ended lands in a list nobody reads any more,
    so it can never leak into the next run on the same context."""

    def __init__(self, deadline: float, interval: float | None = None, budget: float = 0.0):
        self.deadline = deadline
        self.interval = interval if interval is not None else min(0.1, max(deadline / 10, 0.005))
        #: seconds an inline run may hold the event loop (0: no budget)
        self.budget = budget
        self.fast_interval = min(self.interval, budget / 2) if budget else self.interval
        self.quiet_interval = min(self.interval, _QUIET_TICK) if budget else self.interval
        self.inline_runs = 0  # inline runs armed so far: the watchdog ticks fast while it moves
        self._inline: tuple[list, float, float] | None = None  # (stop, budget spent at, started)
        self._armed: dict[int, tuple[list, float]] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def arm(self, ctx: RunContext, deadline: float | None = None) -> float:
        """Watch a run; without a deadline it is only registered, so :meth:`stop_all` reaches it.
        Returns the time it was armed (``time.monotonic``)."""
        seconds = self.deadline if deadline is None else deadline
        now = time.monotonic()
        if seconds:
            ctx.deadline_seconds = seconds
            at = now + seconds
        else:
            at = _NEVER
        stop = ctx.stop = []
        if self._thread is None:
            self._start()
        self._armed[id(ctx)] = (stop, at)
        return now

    def disarm(self, ctx: RunContext) -> None:
        self._armed.pop(id(ctx), None)

    def arm_inline(self, ctx: RunContext) -> None:
        """Watch a run on the event loop: its deadline, and its budget (see the module docstring).
        One inline run at a time: they all run on the loop's thread."""
        now = self.arm(ctx)
        if self.budget:
            self._inline = (ctx.stop, now + self.budget, now)
            self.inline_runs += 1

    def disarm_inline(self, ctx: RunContext) -> None:
        self._inline = None
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
        interval = self.quiet_interval
        seen = 0
        busy_until = 0.0
        while not self._stopping.wait(interval):
            now = time.monotonic()
            inline = self._inline  # one read: the loop thread replaces it meanwhile
            if inline is not None:
                stop, spent_at, started = inline
                if now >= spent_at and not stop:
                    stop.append(BudgetMark(started))
            for stop, at in list(self._armed.values()):  # a snapshot: runs come and go meanwhile
                if now >= at and not stop:
                    stop.append("deadline")
            if self.inline_runs != seen:
                seen = self.inline_runs
                busy_until = now + _BUSY_SPELL
            interval = self.fast_interval if now < busy_until or inline is not None else self.quiet_interval


_NEVER = float("inf")
_BUSY_SPELL = 1.0  # seconds of fast ticks after the last inline run seen
_QUIET_TICK = 0.025  # the tick of a worker without inline runs lately, when there is a budget


class VmPool:
    def __init__(self, size: int, threads: int, deadline: float, loop: asyncio.AbstractEventLoop,
                 inline_budget: float = 0.0):
        """``inline_budget``: seconds a handler may run inline on the loop before it is moved to
        the executor (0: never moved)."""
        self.size = max(1, size)
        self.loop = loop
        self.deadline = deadline
        self.threads = max(1, threads)
        self.executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="etamil-handler")
        self.watchdog = Watchdog(deadline, budget=inline_budget)
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
