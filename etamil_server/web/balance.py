"""Spreading connections over the workers that share one listening socket.

All workers wake when connections arrive, and whichever wakes first would take a whole burst
(measured: wrk's 100 connections split 93 / 7, so one worker queued on its database pool while
the other idled). Each worker therefore publishes its number of open connections in a small table
of memory shared by the workers of one server (made by the master before it forks), and accepts
only while it has no more than the least loaded other worker, plus one (plus a sixteenth). A worker that declines
looks again a millisecond later; if the least loaded worker has not taken a connection for
``PATIENCE`` seconds (it is stuck in a long handler, or starved of CPU), it accepts anyway.

Without a table (one process) every waiting connection is accepted at once.
"""

from __future__ import annotations

import mmap
import os

SLOTS = 64
PATIENCE = 0.01  # seconds a worker lets others take the waiting connections before it does
SLACK = 1


class LoadTable:
    """(pid, open connections) per worker slot, in shared memory. A slot with pid 0 is free."""

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, SLOTS * 2 * 4)  # anonymous and shared: survives fork
        self._view = memoryview(self._memory).cast("i")

    def claim(self, slot: int) -> None:
        view = self._view
        view[2 * slot + 1] = 0
        view[2 * slot] = os.getpid()

    def publish(self, slot: int, connections: int) -> None:
        self._view[2 * slot + 1] = connections

    def release(self, slot: int) -> None:
        """This worker stops accepting (draining or gone): others must not wait for it."""
        view = self._view
        view[2 * slot] = 0
        view[2 * slot + 1] = 0

    def forget(self, pid: int) -> None:
        """In the master: a worker died (perhaps without releasing its slot)."""
        view = self._view
        for slot in range(SLOTS):
            if view[2 * slot] == pid:
                view[2 * slot] = 0
                view[2 * slot + 1] = 0

    def least_other(self, slot: int) -> int | None:
        """The fewest connections among the other live workers; None when there is none."""
        view = self._view
        least = None
        for other in range(SLOTS):
            if other != slot and view[2 * other]:
                count = view[2 * other + 1]
                if least is None or count < least:
                    least = count
        return least


class Share:
    """One worker's place in a :class:`LoadTable`."""

    def __init__(self, table: LoadTable, number: int):
        self.table = table
        self.slot = number % SLOTS
        table.claim(self.slot)

    def publish(self, connections: int) -> None:
        self.table.publish(self.slot, connections)

    def least_other(self) -> int | None:
        return self.table.least_other(self.slot)

    def may_accept(self, connections: int) -> bool:
        least = self.table.least_other(self.slot)
        # the slack grows with the load, so that a burst of a thousand connections is taken in
        # turns of dozens, not one by one (each turn waits for a loop iteration of the other)
        return least is None or connections <= least + SLACK + least // 16

    def release(self) -> None:
        self.table.release(self.slot)
