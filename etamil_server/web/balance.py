"""Spreading connections over the workers that share one listening socket.

All workers wake when connections arrive, and whichever wakes first would take a whole burst
(measured: wrk's 100 connections split 93 / 7, so one worker queued on its database pool while
the other idled). Each worker therefore publishes its number of open connections in a small table
of memory shared by the workers of one server (made by the master before it forks), and takes
*turns*: it accepts while it has no more than the least loaded other worker plus ``SLACK`` (plus a
quarter of that worker's count, see *Turns that grow*). It decides once the other events of the
same wake-up are handled (``web/server.py``), so the closes among them already lower its own count.

Measured with ``bench/balance_probe.py`` (fresh servers; a burst of 1,000 connections closed
together, as wrk closes them at the end of a run; then 64 new keep-alive clients counted per
worker with ``ss``): with only the rule above, 12 of 20 servers split within 40/24, several 64/0.
After the burst each worker has ~500 connections to close, which takes it tens of ms (longer when
the machine is loaded and it is descheduled); the first worker done saw the other still
publishing hundreds and took every newcomer. Hence:

* **Hold while a count falls.** A worker publishes when it last closed a connection. One that is
  more than ``HOLD_GAP`` plus a ``HOLD_SHARE``-th (a quarter) of its count below a worker that
  closed within ``FALLING`` (or that closed connections itself that recently: a burst ended, the
  other's closes may not have begun) leaves the waiting connections alone until the counts
  settle, for at most ``HOLD_LIMIT``, and says so in the table; the worker it waits for does not
  lose patience with it meanwhile. (The threshold is the one of the old turns, four turns of
  ``SLACK`` plus a sixteenth: tied to the grown turns it would never be passed, and no worker
  would hold.)
* **Patience.** A worker that declines looks again a millisecond later. If the least loaded
  worker has taken no connection (nor held) for ``PATIENCE``, it is stuck in a long handler or
  starved of CPU: the decliner takes all that waits, and does not wait for that worker again
  until it publishes anything. A stuck worker publishes nothing, so it never counts as falling or
  holding: it delays a new connection by ``PATIENCE`` at most. (10 ms was too short on a loaded
  2-core machine: a live worker is often descheduled for 15–50 ms.)
* **Turns of ``SLACK`` = 4.** With turns of one connection, 64 newcomers needed dozens of
  hand-overs between the workers, each a wake-up of a process that may be descheduled.
* **Turns that grow** by a quarter (``TURN_SHARE``) of the other's count. A hand-over waits for
  the other worker's next loop iteration, and a worker serving 350 busy connections iterates
  every 10-20 ms; with turns growing by a sixteenth, 1,000 connections opened at once (wrk's
  start) took 300-400 ms to be accepted, and their first requests waited that long in the queue:
  p99 of a 4 s wrk -c1000 run 180-258 ms, of a 16 s run 52-60 ms. With a quarter they are
  accepted in about 150 ms (p99 of 4 s runs 53-74 ms); a worker is then at most a quarter
  ahead, which shedding evens out. Not while a count may still be falling (a close within
  ``FALLING``, by either worker): such a count is partly connections about to close, and a
  quarter of it handed one worker the other's share too: after a burst closed, 64 newcomers
  split 44/20 or 42/22 in 2 of 20 servers (77 of 80 within 40/24 in four runs of
  ``bench/balance_probe.py``). While counts settle, turns grow by a sixteenth
  (``SETTLING_TURN_SHARE``), as before: 140 of 140 within 40/24 in seven runs, worst 39/25.
* **Shedding.** Whatever still goes wrong (a worker stuck while the other took its share, a hold
  that ran out, connections of different lifetimes) is corrected after the fact: once a second
  (the sweep) a worker more than ``SHED_MARGIN`` (or an eighth) above the least loaded other asks
  half its lead of recently active keep-alive connections to close after their next response;
  their clients reconnect and the accept rule puts them on the other worker. Not while a count is
  falling or a worker holds (the table is in flux), and not toward a worker whose sweep has not
  beaten within ``ALIVE`` (the reconnections would come back).

With all four, on a 2-core machine loaded by other work (load average 11–13): 20 and 19 of 20
fresh servers within 40/24 at once in two runs, and 20 of 20 after two seconds of requests in both
(the figures and the command are in docs/INTERNALS.md).

Rejected, from measurements: asking the kernel how many connections are really open on the port
(``sock_diag``: sockets in CLOSE_WAIT are the stale part of a count) costs 16 ms per dump on this
machine (it walks the whole established-socket hash), far too slow for an accept decision.
``SO_REUSEPORT`` (one listening socket per worker, spread by a hash of the addresses) ignores load:
64 connections land binomially, 41/23 or worse in 3.3% of servers, so 20 of 20 within 40/24 only
half the time; a stuck worker's queue waits for it; and a draining worker would have to close its
socket, which resets the connections queued on it (Linux does not move them). The shared queue
loses nothing on a drain.

Without a table (one process) every waiting connection is accepted at once.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Callable
from typing import NamedTuple

SLOTS = 64
PATIENCE = 0.05  # seconds a worker lets others take the waiting connections before it does
SLACK = 4  # connections a worker may be ahead of the least loaded other (each hand-over costs wake-ups)
TURN_SHARE = 4  # ... plus the other's count divided by this (a quarter): see "Turns that grow" above
SETTLING_TURN_SHARE = 16  # ... by this (a sixteenth) while a count may still be falling
FALLING = 0.05  # seconds since its last close during which a worker's count may still be falling
HOLD_GAP = 16  # a worker holds only when more than this below a falling one, plus ...
HOLD_SHARE = 4  # ... the falling one's count divided by this (a quarter)
HOLD_LIMIT = 0.25  # seconds a worker waits at most for a falling count to settle
SHED_MARGIN = 8  # connections above the least loaded other a worker tolerates before shedding
ALIVE = 1.5  # seconds since a worker's last beat (its once-a-second sweep) for it to count as serving
UNLIMITED = 1 << 30  # "as many as are waiting" (the caller caps it at its batch)

_NS = 1_000_000_000
# the fields of a slot, each a signed 64-bit word (aligned: written and read whole)
_PID, _CONNECTIONS, _CLOSED_AT, _HELD_AT, _BEAT_AT = range(5)
_FIELDS = 5


class Other(NamedTuple):
    """What a worker published: connections, and the monotonic nanoseconds of its last close,
    of its last decision to hold, and of its last beat (0: never)."""

    connections: int
    closed_at: int
    held_at: int
    beat_at: int


class LoadTable:
    """Per worker slot, in shared memory: pid, open connections and three moments (monotonic
    nanoseconds, the same clock in every process). A slot with pid 0 is free."""

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, SLOTS * _FIELDS * 8)  # anonymous and shared: survives fork
        self._view = memoryview(self._memory).cast("q")

    def claim(self, slot: int) -> None:
        base = _FIELDS * slot
        view = self._view
        for field in range(1, _FIELDS):
            view[base + field] = 0
        view[base + _PID] = os.getpid()

    def publish(self, slot: int, connections: int) -> None:
        self._view[_FIELDS * slot + _CONNECTIONS] = connections

    def closed(self, slot: int, connections: int, now: int) -> None:
        base = _FIELDS * slot
        self._view[base + _CONNECTIONS] = connections
        self._view[base + _CLOSED_AT] = now

    def held(self, slot: int, now: int) -> None:
        self._view[_FIELDS * slot + _HELD_AT] = now

    def beat(self, slot: int, now: int) -> None:
        self._view[_FIELDS * slot + _BEAT_AT] = now

    def release(self, slot: int) -> None:
        """This worker stops accepting (draining or gone): others must not wait for it."""
        base = _FIELDS * slot
        for field in range(_FIELDS):
            self._view[base + field] = 0

    def forget(self, pid: int) -> None:
        """In the master: a worker died (perhaps without releasing its slot)."""
        for slot in range(SLOTS):
            if self._view[_FIELDS * slot + _PID] == pid:
                self.release(slot)

    def least_other(self, slot: int) -> Other | None:
        """The live worker other than ``slot`` with the fewest connections; None when there is none."""
        view = self._view
        least = None
        for other in range(SLOTS):
            base = _FIELDS * other
            if other != slot and view[base + _PID]:
                count = view[base + _CONNECTIONS]
                if least is None or count < least[0]:
                    least = (count, base)
        if least is None:
            return None
        base = least[1]
        return Other(least[0], view[base + _CLOSED_AT], view[base + _HELD_AT], view[base + _BEAT_AT])


class Share:
    """One worker's place in a :class:`LoadTable`, and its accept and shed decisions.

    The decisions read the clock given (monotonic nanoseconds), so tests can move time."""

    def __init__(self, table: LoadTable, number: int, clock: Callable[[], int] = time.monotonic_ns):
        self.table = table
        self.slot = number % SLOTS
        self.clock = clock
        self._declined_since: int | None = None  # when this worker began leaving connections to others
        self._least_seen = 0
        self._hold_started: int | None = None  # when this worker began waiting for a falling count
        self._closed_at = 0
        self._stuck: Other | None = None  # the least loaded other as it was when found stuck
        table.claim(self.slot)

    # ------------------------------------------------------------------ publishing

    def publish(self, connections: int) -> None:
        """The count went up (or an adoption finished)."""
        self.table.publish(self.slot, connections)

    def closed(self, connections: int) -> None:
        """A connection closed: the new count, and the moment (others see the count falling)."""
        self._closed_at = now = self.clock()
        self.table.closed(self.slot, connections, now)

    def beat(self) -> None:
        """This worker's sweep ran: it is serving (others may shed connections toward it)."""
        self.table.beat(self.slot, self.clock())

    def release(self) -> None:
        self.table.release(self.slot)

    def least_other(self) -> int | None:
        other = self.table.least_other(self.slot)
        return None if other is None else other.connections

    # ------------------------------------------------------------------ deciding

    def allowance(self, connections: int) -> int:
        """How many waiting connections to accept now, this worker having ``connections`` (open
        or being adopted); 0: leave them to the others for now and look again shortly."""
        other = self.table.least_other(self.slot)
        if other is None:
            self._declined_since = self._hold_started = None
            return UNLIMITED
        now = self.clock()
        falling = FALLING * _NS
        settling = now - other.closed_at < falling or now - self._closed_at < falling
        # a count that may still fall is partly connections about to close: a turn grown by a
        # quarter of it would hand this worker their share too
        turn = SLACK + other.connections // (SETTLING_TURN_SHARE if settling else TURN_SHARE)
        room = other.connections + turn - connections + 1
        if room <= 0:
            self._hold_started = None
            return self._patient(other, now)
        self._declined_since = None
        if other.connections - connections > HOLD_GAP + other.connections // HOLD_SHARE and settling:
            # well below a worker whose count is falling, or just done closing connections
            # ourselves (a burst ended: the other has its share of closes, perhaps not begun)
            if self._hold_started is None:
                self._hold_started = now
            if now - self._hold_started < HOLD_LIMIT * _NS:
                self.table.held(self.slot, now)
                return 0
            return room  # it keeps falling: trust the count after all (until it stops)
        self._hold_started = None
        return room

    def _patient(self, other: Other, now: int) -> int:
        """Busier than the least loaded other: leave the connections to it, unless it has taken
        none (and held none back) for ``PATIENCE``: then it is stuck, take a batch."""
        if other == self._stuck:
            return UNLIMITED  # still stuck (it has published nothing since): do not wait again
        self._stuck = None
        if self._declined_since is None or other.connections > self._least_seen:
            self._declined_since = now  # (again) the others are taking them
        self._least_seen = other.connections
        patience = PATIENCE * _NS
        if now - self._declined_since < patience or now - other.held_at < patience:
            return 0
        self._declined_since = None
        self._stuck = other
        return UNLIMITED

    def may_accept(self, connections: int) -> bool:
        """Whether this worker would accept a connection now (an :meth:`allowance` above 0)."""
        return self.allowance(connections) > 0

    def excess(self, connections: int) -> int:
        """How many keep-alive connections this worker should ask to reconnect (0 mostly): half
        its lead over the least loaded other when that passes ``SHED_MARGIN``, while the table
        is settled and the other serves."""
        other = self.table.least_other(self.slot)
        if other is None:
            return 0
        now = self.clock()
        lead = connections - other.connections
        if lead <= max(SHED_MARGIN, other.connections // 8):
            return 0
        flux = FALLING * _NS
        if now - other.closed_at < flux or now - self._closed_at < flux or now - other.held_at < PATIENCE * _NS:
            return 0  # a count is still settling: it is not the one it will be
        if self._hold_started is not None or now - other.beat_at > ALIVE * _NS:
            return 0  # its reconnections would come back here
        return lead // 2
