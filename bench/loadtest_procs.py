"""What the load test reads about server processes, straight from /proc (Linux only; no psutil:
three small files are all it takes): the process tree, resident memory, CPU time, and which
processes hold a listening TCP port (to find a server the tool did not start).

Every reader tolerates a process that has just exited (it returns nothing for it): workers get
recycled or respawned in the middle of a measurement and that must not end the run.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat the tool uses."""

    pid: int
    ppid: int
    cpu_seconds: float  # utime + stime


def parse_stat(text: str) -> ProcStat:
    """Parse a /proc/<pid>/stat line. The command name (2nd field) sits in parentheses and may
    itself contain spaces and parentheses (``(etamil: master )``), so split at the last ')'."""
    head, _, tail = text.rpartition(")")
    pid = int(head.split("(", 1)[0])
    fields = tail.split()
    # tail starts at field 3 (state): ppid is field 4, utime 14, stime 15 (1-based, proc(5))
    ppid = int(fields[1])
    ticks = int(fields[11]) + int(fields[12])
    return ProcStat(pid, ppid, ticks / CLOCK_TICKS)


def read_stat(pid: int) -> ProcStat | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return parse_stat(handle.read())
    except (OSError, ValueError, IndexError):
        return None


def rss_bytes(pid: int) -> int | None:
    """Resident set size: the second field of /proc/<pid>/statm, in pages."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def command_line(pid: int) -> str:
    """The process's command line as ps shows it (setproctitle rewrites it into a title)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (a scan of /proc: /proc/<pid>/task/*/children is not in every kernel)."""
    found = []
    for candidate in all_pids():
        stat = read_stat(candidate)
        if stat is not None and stat.ppid == pid:
            found.append(candidate)
    return sorted(found)


_WORKER_TITLE = re.compile(r"\bworker (\d+)\b")


def label_processes(root: int, members: Iterable[int], root_label: str = "master") -> dict[int, str]:
    """``{pid: label}``: the root is "master" (or ``root_label``), the others "worker N" from their
    process title (etamil: worker N ...), else by pid order."""
    labels = {root: root_label}
    rest = sorted(pid for pid in members if pid != root)
    for index, pid in enumerate(rest, start=1):
        match = _WORKER_TITLE.search(command_line(pid))
        labels[pid] = f"worker {match.group(1)}" if match else f"worker {index}"
    return labels


# ------------------------------------------------------------------------------ listening sockets


def _tcp_rows():
    """(local port, remote port, state, inode) of every TCP socket in /proc/net/tcp{,6}."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            local, remote, state, inode = columns[1], columns[2], columns[3], columns[9]
            yield int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), state, inode


def _listening_inodes(port: int) -> set[str]:
    return {inode for local, _, state, inode in _tcp_rows() if state == "0A" and local == port}  # 0A: LISTEN


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` holds (``socket:[inode]`` links in /proc/<pid>/fd)."""
    found = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def connection_owners(port: int, pids: Iterable[int]) -> dict[int, int]:
    """``{client port: pid}`` for the established connections to the server port ``port`` held
    by one of ``pids`` (which worker accepted which client connection, on loopback)."""
    by_inode = {inode: remote for local, remote, state, inode in _tcp_rows() if state == "01" and local == port}
    owners = {}
    for pid in pids:
        for inode in _socket_inodes(pid) & by_inode.keys():
            owners[by_inode[inode]] = pid
    return owners


def pids_listening_on(port: int) -> list[int]:
    """Processes holding a socket that listens on ``port`` (the gunicorn master and every worker
    share one). Empty when there is none or /proc does not let us see other users' fds."""
    targets = _listening_inodes(port)
    if not targets:
        return []
    return sorted(pid for pid in all_pids() if _socket_inodes(pid) & targets)


# ------------------------------------------------------------------------------ a server's processes


@dataclass
class ProcessGroup:
    """The processes of one server: a root (the gunicorn master or the one baseline process) and,
    for a pre-fork server, its children; re-read on every sample so respawned workers count."""

    root: int
    with_children: bool = True
    seen: dict[int, str] = field(default_factory=dict)  # every pid ever sampled -> label

    def members(self) -> list[int]:
        pids = [self.root] + (children(self.root) if self.with_children else [])
        alive = [pid for pid in pids if read_stat(pid) is not None]
        fresh = [pid for pid in alive if pid not in self.seen]
        if fresh:
            root_label = "master" if self.with_children else "server"
            labels = label_processes(self.root, alive, root_label)
            self.seen.update({pid: label for pid, label in labels.items() if pid in fresh})
        return alive

    def label(self, pid: int) -> str:
        return self.seen.get(pid) or "process"

    def rss(self) -> dict[int, int]:
        values = {pid: rss_bytes(pid) for pid in self.members()}
        return {pid: value for pid, value in values.items() if value is not None}

    def cpu(self) -> dict[int, float]:
        stats = {pid: read_stat(pid) for pid in self.members()}
        return {pid: stat.cpu_seconds for pid, stat in stats.items() if stat is not None}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    """CPU seconds each process used between two readings; a process born in between counts
    from 0 (its whole life falls in the interval), one that died in between is lost."""
    return {pid: max(0.0, value - before.get(pid, 0.0)) for pid, value in after.items()}


class RssSampler:
    """Samples a group's RSS on a thread while a load runs: the peak and the last reading per
    process ("under load"), without stopping the load to look."""

    def __init__(self, group: ProcessGroup, interval: float = 0.5):
        self.group = group
        self.interval = interval
        self.peak: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        reading = self.group.rss()
        for pid, value in reading.items():
            self.peak[pid] = max(value, self.peak.get(pid, 0))
        if reading:
            self.last = reading

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        # no reading after the load: "last" is the server under load, not the server afterwards
        self._stop.set()
        self._thread.join()
