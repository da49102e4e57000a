"""The reliability suite's load generator: many HTTP/1.1 clients on loopback, on an asyncio loop
of their own (a background thread), that stop by themselves and account for every attempt.

Every attempt ends in exactly one outcome:

    answered     a complete response came back (its status, headers and body are kept)
    refused      the connect was refused: nothing was listening (fine once the listener closed);
                 nothing was written
    unconnected  another connect failure (a timeout, a reset during the handshake, no file
                 descriptor left): nothing was written
    loss         the request was written on an open connection and no complete answer came back
                 (closed, reset, or nothing within ``timeout``): what the suite counts as lost

A loss says how it ended (``error``), how many answers its connection had carried before it
(``reused``; 0 with nothing received means the connection may never have left the kernel's
listen queue), the client port of its connection (``local_port``: which worker held it, see
``bench.loadtest_procs.connection_owners``) and when that connection was made (``connected``).
Each attempt has its phase (the label of :meth:`LoadGen.mark` when it was taken), its latency
(from the first byte
written to the last byte read) and, for a write, the key it carries (``Planned.write``, e.g. the
unique note of a ledger entry) so a test can compare what was answered 2xx with what a database
holds.

Two shapes of load:

* closed loop (default): ``connections`` clients, each on a keep-alive connection, sending the
  next request as soon as the last answer is in (a new connection when the server closes it);
* open loop (``schedule=``): one request per scheduled moment (seconds from the start), each on
  a connection of its own, sent at its moment whatever the server is doing.

A generator stops by itself: after ``duration`` seconds, ``count`` attempts or its schedule (one
of them is required; ``LIMIT`` caps the time), or when the test calls :meth:`LoadGen.stop`.
Closed-loop clients can be added while it runs (:meth:`LoadGen.add_connections`, a ramp). Responses are parsed
by ``bench.loadtest_client.read_answer`` (the load test's client).
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.loadtest_client import NoAnswer, close_quietly, new_loop, read_answer, request_bytes
from bench.loadtest_spike import percentile

ANSWERED, REFUSED, UNCONNECTED, LOSS = "answered", "refused", "unconnected", "loss"
OUTCOMES = (ANSWERED, REFUSED, UNCONNECTED, LOSS)
LIMIT = 300.0  # seconds: no generator runs longer, whatever it was asked
PAUSE_AFTER_REFUSAL = 0.02  # a refused port answers at once: do not spin


@dataclass(frozen=True)
class Planned:
    """One request to send: its bytes and, for a write, the key that identifies it afterwards."""

    raw: bytes
    write: str | None = None


RequestSource = bytes | Planned | Callable[[int], "Planned | bytes"]


@dataclass
class Attempt:
    """What happened to one planned request. Times are ``time.monotonic()`` values."""

    index: int  # in the order the requests were taken (0, 1, ...)
    client: int  # which client sent it
    phase: str  # the label of :meth:`LoadGen.mark` current when it was taken
    write: str | None
    began: float
    finished: float = 0.0
    outcome: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    reused: int = 0  # answers its connection carried before it
    local_port: int | None = None
    connected: float | None = None  # when its connection was established (None: never)
    raw: bytes = field(default=b"", repr=False)  # the request, until it is recorded

    @property
    def latency(self) -> float | None:
        """Seconds from the request's first byte to its answer's last; None when unanswered."""
        return self.finished - self.began if self.outcome == ANSWERED else None

    @property
    def ok(self) -> bool:
        return self.outcome == ANSWERED and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Summary:
    """The figures every scenario prints."""

    requests: int
    answered: int
    ok: int  # answered 2xx
    losses: int
    refused: int
    unconnected: int
    statuses: dict[int, int]
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    duration: float

    def __str__(self) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f} ms"

        statuses = ", ".join(f"{status} x{count:,}" for status, count in sorted(self.statuses.items()))
        rate = self.answered / self.duration if self.duration > 0 else 0.0
        return (
            f"requests {self.requests:,} · answered {self.answered:,} ({statuses or 'none'}) · losses {self.losses:,}"
            f" · refused {self.refused:,} · unconnected {self.unconnected:,} · p50 {ms(self.p50_ms)}"
            f" · p99 {ms(self.p99_ms)} · max {ms(self.max_ms)} · {self.duration:.2f} s ({rate:,.0f} answers/s)"
        )


def summarise(attempts: Sequence[Attempt]) -> Summary:
    """The figures of any selection of attempts (a phase, a window of time ...)."""
    counts = collections.Counter(attempt.outcome for attempt in attempts)
    latencies = [attempt.latency * 1000 for attempt in attempts if attempt.latency is not None]
    statuses = collections.Counter(attempt.status for attempt in attempts if attempt.outcome == ANSWERED)
    duration = max((a.finished for a in attempts), default=0.0) - min((a.began for a in attempts), default=0.0)
    return Summary(
        requests=len(attempts),
        answered=counts[ANSWERED],
        ok=sum(1 for attempt in attempts if attempt.ok),
        losses=counts[LOSS],
        refused=counts[REFUSED],
        unconnected=counts[UNCONNECTED],
        statuses=dict(statuses),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=None),
        duration=max(0.0, duration),
    )


def _source(request: RequestSource) -> Callable[[int], Planned]:
    if isinstance(request, bytes):
        fixed = Planned(request)
        return lambda index: fixed
    if isinstance(request, Planned):
        return lambda index: request

    def planned(index: int) -> Planned:
        made = request(index)
        return made if isinstance(made, Planned) else Planned(made)

    return planned


class LoadGen:
    """A load against ``127.0.0.1:port`` (see the module's docstring).

    ``request``: the bytes of every request, one :class:`Planned`, or a function of the attempt's
    index returning either (a unique write per index). Use it as a context manager (``with
    LoadGen(...) as load:``: started on entry, stopped on exit) or call :meth:`start` and
    :meth:`wait`. Reading its figures while it runs is safe."""

    def __init__(
        self,
        port: int,
        request: RequestSource,
        *,
        connections: int = 4,
        duration: float | None = None,
        count: int | None = None,
        schedule: Sequence[float] | None = None,
        timeout: float = 30.0,  # seconds for a connect, and for an answer once the request is sent
        host: str = "127.0.0.1",
    ):
        if duration is None and count is None and schedule is None:
            raise ValueError("a load generator stops by itself: give it a duration, a count or a schedule")
        self.port = port
        self.host = host
        self.make = _source(request)
        self.connections = connections
        self.duration = min(duration if duration is not None else LIMIT, LIMIT)
        self.count = count if schedule is None else len(schedule)
        self.schedule = sorted(schedule) if schedule is not None else None
        self.timeout = timeout
        self.phase = ""
        self._attempts: list[Attempt] = []
        self._counts: collections.Counter = collections.Counter()  # by outcome, kept as they end
        self._error: BaseException | None = None  # a failure of the generator itself
        self._taken = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._finished = threading.Event()
        self._loop = new_loop()
        self._thread = threading.Thread(target=self._run, name="loadgen", daemon=True)
        self._clients = 0
        self._tasks: set[asyncio.Task] = set()
        self.started = 0.0

    # ------------------------------------------------------------------ control (any thread)

    def start(self) -> LoadGen:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __enter__(self) -> LoadGen:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> Summary:
        """Stop early: no new request is taken; those on their way finish (or time out)."""
        self._stopping.set()
        return self.wait()

    def wait(self, timeout: float | None = None) -> Summary:
        """Until the generator has stopped by itself (or was stopped); its summary."""
        limit = timeout if timeout is not None else self.duration + self.timeout + 30
        self._finished.wait(limit)
        if not self._finished.is_set():
            raise AssertionError(f"the load generator did not stop within {limit:.0f} s")
        self._thread.join(5)
        if self._error is not None:
            raise AssertionError(f"the load generator failed: {self._error!r}") from self._error
        return self.summary()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._finished.is_set()

    def mark(self, phase: str) -> None:
        """Label the attempts taken from now on (``attempts(phase=...)`` selects them)."""
        self.phase = phase

    def add_connections(self, count: int) -> None:
        """More closed-loop clients on a running generator (a ramp)."""
        if self.schedule is not None:
            raise ValueError("an open-loop (scheduled) load has no clients to add")
        self._loop.call_soon_threadsafe(self._spawn, count)

    def wait_for(self, answered: int, timeout: float = 30.0) -> int:
        """Until at least ``answered`` attempts were answered (or ``timeout``); how many were."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.count_of(ANSWERED)
            if done >= answered or not self.running:
                return done
            time.sleep(0.01)
        return self.count_of(ANSWERED)

    # ------------------------------------------------------------------ results (any thread)

    def attempts(self, phase: str | None = None) -> list[Attempt]:
        """Every finished attempt (of ``phase``, when given), in the order they finished."""
        with self._lock:
            found = list(self._attempts)
        return found if phase is None else [attempt for attempt in found if attempt.phase == phase]

    def count_of(self, outcome: str) -> int:
        with self._lock:
            return self._counts[outcome]

    def losses(self) -> list[Attempt]:
        return [attempt for attempt in self.attempts() if attempt.outcome == LOSS]

    def summary(self, phase: str | None = None) -> Summary:
        return summarise(self.attempts(phase))

    def writes_ok(self) -> set[str]:
        """The write keys answered 2xx (these must be in the database)."""
        return {attempt.write for attempt in self.attempts() if attempt.write is not None and attempt.ok}

    def writes_lost(self) -> set[str]:
        """The write keys written with no complete answer: the server may or may not have applied them."""
        return {a.write for a in self.attempts() if a.write is not None and a.outcome == LOSS}

    def writes_unsent(self) -> set[str]:
        """The write keys never written (refused, unconnected) or answered other than 2xx:
        none of them may be in the database."""
        return {
            a.write for a in self.attempts() if a.write is not None and a.outcome != LOSS and not a.ok
        }

    # ------------------------------------------------------------------ the loop (its thread)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by wait(), not lost in a thread
            self._error = exc
        finally:
            self._loop.close()
            self._finished.set()

    async def _main(self) -> None:
        if self.schedule is not None:
            await self._open_loop()
            return
        self._spawn(self.connections)
        # clients may be added later (a ramp): until the generator is done, even with none
        while self._tasks or self._going():
            if self._tasks:
                done, _ = await asyncio.wait(list(self._tasks), timeout=0.1)
                failures = [task.exception() for task in done if not task.cancelled() and task.exception()]
                if failures:  # a client that failed (not an outcome: a bug) ends the run
                    await self._cancel_clients()
                    raise failures[0]
            else:
                await asyncio.sleep(0.05)

    async def _cancel_clients(self) -> None:
        """Cancel the other clients and collect what they raised. An exception left unretrieved
        is logged, traceback and all, from this thread when the loop closes; Python 3.11 parses
        source lines to format a traceback, and doing so here while the test's thread did too
        broke the interpreter's parser state for the rest of the session (a SystemError, "AST
        constructor recursion depth mismatch", at pytest's next import)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, count: int) -> None:
        for _ in range(count):
            task = self._loop.create_task(self._client(self._clients))
            self._clients += 1
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _going(self) -> bool:
        if self.count is not None and self._taken >= self.count:
            return False
        return not self._stopping.is_set() and time.monotonic() - self.started < self.duration

    def _take(self, client: int) -> Attempt | None:
        """The next request to send, or None when the generator is done."""
        if not self._going():
            return None
        index = self._taken
        self._taken += 1
        planned = self.make(index)
        return Attempt(index, client, self.phase, planned.write, time.monotonic(), raw=planned.raw)

    def _record(self, attempt: Attempt, outcome: str, **details) -> None:
        attempt.finished = time.monotonic()
        attempt.outcome = outcome
        for name, value in details.items():
            setattr(attempt, name, value)
        attempt.raw = b""  # thousands of attempts are kept: not their requests
        with self._lock:
            self._attempts.append(attempt)
            self._counts[outcome] += 1

    async def _connect(self, attempt: Attempt):
        """(reader, writer), or None with ``attempt`` recorded as refused or unconnected."""
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        except ConnectionRefusedError:
            self._record(attempt, REFUSED, error="refused")
        except (TimeoutError, OSError) as exc:
            self._record(attempt, UNCONNECTED, error=f"{type(exc).__name__}: {exc}")
        return None

    async def _client(self, client: int) -> None:
        """A closed-loop client: one connection at a time, one request at a time."""
        attempt = self._take(client)
        while attempt is not None:
            connected = await self._connect(attempt)
            if connected is None:  # nothing was written
                await asyncio.sleep(PAUSE_AFTER_REFUSAL)
                attempt = self._take(client)
                continue
            reader, writer = connected
            port, since = _local_port(writer), time.monotonic()
            answered = 0
            try:
                while attempt is not None:
                    attempt.local_port, attempt.connected = port, since
                    attempt.reused = answered
                    closes = await self._exchange(attempt, reader, writer)
                    if attempt.outcome != ANSWERED:
                        attempt = self._take(client)
                        break
                    answered += 1
                    attempt = self._take(client)
                    if closes:
                        break
            finally:
                await close_quietly(writer)

    async def _exchange(self, attempt: Attempt, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Send ``attempt`` and read its answer; records it. True when the server closes after it."""
        attempt.began = time.monotonic()
        try:
            writer.write(attempt.raw)
            await writer.drain()
            answer = await read_answer(reader, attempt.began + self.timeout)
        except TimeoutError:
            self._record(attempt, LOSS, error=f"no answer within {self.timeout:g} s")
            return True
        except (NoAnswer, OSError, RuntimeError) as exc:
            # RuntimeError: uvloop's write on a transport the server had already reset
            self._record(attempt, LOSS, error=f"{type(exc).__name__}: {exc}")
            return True
        self._record(attempt, ANSWERED, status=answer.status, headers=answer.headers, body=answer.body)
        return answer.closes

    async def _open_loop(self) -> None:
        """Every scheduled request at its moment, on a connection of its own."""
        tasks = []
        for offset in self.schedule or ():
            # uvloop's timers have a resolution of a millisecond and may fire early: never send early
            while (delay := self.started + offset - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            attempt = self._take(len(tasks))
            if attempt is None:
                break
            tasks.append(self._loop.create_task(self._one(attempt)))
        if tasks:
            await asyncio.gather(*tasks)

    async def _one(self, attempt: Attempt) -> None:
        connected = await self._connect(attempt)
        if connected is None:
            return
        reader, writer = connected
        attempt.local_port, attempt.connected = _local_port(writer), time.monotonic()
        try:
            await self._exchange(attempt, reader, writer)
        finally:
            await close_quietly(writer)


def _local_port(writer: asyncio.StreamWriter) -> int | None:
    name = writer.get_extra_info("sockname")
    return name[1] if name else None


def get_request(target: str, *, close: bool = False) -> bytes:
    """The bytes of ``GET target`` (keep-alive unless ``close``)."""
    return request_bytes("GET", target, "127.0.0.1", 0, close=close)


def post_request(target: str, body: bytes, *, content_type: str = "application/json", close: bool = False) -> bytes:
    """The bytes of ``POST target`` with ``body``."""
    connection = "Connection: close\r\n" if close else ""
    head = (
        f"POST {target} HTTP/1.1\r\nHost: reliability\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{connection}\r\n"
    )
    return head.encode("ascii") + body


def report(scenario: str, *lines: object) -> None:
    """Print a scenario's figures (``pytest -s`` shows them; docs/reliability.md records them)."""
    print(f"\n[{scenario}]")
    for line in lines:
        print(f"  {line}")
