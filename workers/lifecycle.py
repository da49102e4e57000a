"""The master's view of the server's life, told to systemd: ``READY=1`` once a worker serves,
``RELOADING=1`` on HUP (then ``READY=1`` again once a worker of the new generation serves),
``STOPPING=1`` when the master starts stopping its workers (the drain).

A worker reports that it serves (its listeners are open, its loop runs) by writing its age — the
arbiter's spawn counter, which only grows — to a pipe the master made before any fork
(:class:`ServingReports`: 8 bytes, one atomic write, never blocking). The master reads the pipe
on every turn of its loop (at least once a second) and while it waits for old workers during a
reload. After a HUP only a worker younger than the reload counts, so ``READY=1`` means the
reloaded program is being served.

gunicorn's arbiter has no hook for "every turn" or "stopping", so :meth:`MasterLifecycle.attach`
wraps three of its methods on the instance: ``murder_workers`` (called once per loop turn),
``reap_workers`` (also called while a reload waits) and ``stop`` (every way of stopping goes
through it). :meth:`MasterLifecycle.worker_replaced` tells the metrics whether a worker that
exited is one the master must replace (a restart) or one it retired (reload, TTOU, the stop).
"""

from __future__ import annotations

import os
import struct
import time
from typing import Any

from . import sdnotify

_RECORD = struct.Struct("<Q")


class ServingReports:
    """A pipe from the workers to the master, made in the master before any fork."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # not inherited across exec, only across fork
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._partial = b""

    def report(self, age: int) -> None:
        """In a worker: "I serve". Never blocks (the master reads at least once a second; a
        full pipe, which would take thousands of unread reports, drops this one)."""
        try:
            os.write(self._write, _RECORD.pack(age))
        except OSError:
            pass

    def collect(self) -> list[int]:
        """In the master: the ages reported since the last call."""
        data = self._partial
        while True:
            try:
                chunk = os.read(self._read, 4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        whole = len(data) - len(data) % _RECORD.size
        self._partial = data[whole:]
        return [age for (age,) in _RECORD.iter_unpack(data[:whole])]

    def close(self) -> None:
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass


class MasterLifecycle:
    def __init__(self, notify_address: str | None, reports: ServingReports):
        self.address = notify_address
        self.reports = reports
        self.state = "starting"  # starting | serving | reloading | stopping
        self.ready_after = 0  # a report from a worker this old or older does not make us ready
        self.sent: list[tuple[str, ...]] = []  # what was told to systemd (for the logs and tests)

    # ------------------------------------------------------------------ wiring

    def attach(self, arbiter: Any) -> None:
        """Wrap the arbiter's per-turn, reap and stop methods (see the module docstring)."""
        murder_workers, reap_workers, stop = arbiter.murder_workers, arbiter.reap_workers, arbiter.stop

        def murder_workers_and_poll() -> None:
            self.poll()
            murder_workers()

        def reap_workers_and_poll() -> None:
            reap_workers()
            self.poll()

        def stop_and_tell(graceful: bool = True) -> None:
            self.stopping()
            stop(graceful)

        arbiter.murder_workers = murder_workers_and_poll
        arbiter.reap_workers = reap_workers_and_poll
        arbiter.stop = stop_and_tell

    # ------------------------------------------------------------------ events

    def poll(self) -> None:
        """Read the workers' reports; ``READY=1`` when one of the current generation serves."""
        ages = self.reports.collect()
        if self.state in ("starting", "reloading") and any(age > self.ready_after for age in ages):
            self.state = "serving"
            self._tell("READY=1", "STATUS=serving")

    def reloading(self, arbiter: Any) -> None:
        """HUP (``on_reload``, before the new workers are spawned)."""
        if self.state == "stopping":
            return
        self.poll()  # reports already written are about the old generation
        self.ready_after = arbiter.worker_age
        self.state = "reloading"
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._tell("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}", "STATUS=reloading: new workers starting")

    def stopping(self) -> None:
        """The master stops its workers (TERM: the staged drain; QUIT/INT: at once)."""
        if self.state == "stopping":
            return
        self.state = "stopping"
        self._tell("STOPPING=1", "STATUS=stopping: workers draining")

    def worker_replaced(self, arbiter: Any) -> bool:
        """In ``child_exit`` (the worker already removed): will the master start another in its
        place? Not when it is stopping, nor for a worker retired by a reload or TTOU (the others
        are already as many as wanted)."""
        return self.state != "stopping" and len(arbiter.WORKERS) < arbiter.num_workers

    def _tell(self, *lines: str) -> None:
        self.sent.append(lines)
        sdnotify.notify(self.address, *lines)
