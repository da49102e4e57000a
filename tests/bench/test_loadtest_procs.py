"""Reading processes from /proc: the tree, memory, CPU, listening sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from bench.loadtest_procs import (
    CLOCK_TICKS,
    ProcessGroup,
    children,
    cpu_delta,
    parse_stat,
    pids_listening_on,
    read_stat,
    rss_bytes,
)

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


def test_parse_stat_survives_a_title_with_spaces_and_parentheses():
    line = "4242 (etamil: worker (1) ) S 4200 4242 4242 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 1 0 100 0 0"
    stat = parse_stat(line)
    assert stat.pid == 4242 and stat.ppid == 4200
    assert stat.cpu_seconds == pytest.approx(300 / CLOCK_TICKS)


def test_this_process_has_a_stat_and_a_resident_size():
    stat = read_stat(os.getpid())
    assert stat is not None and stat.ppid == os.getppid()
    assert rss_bytes(os.getpid()) > 1024 * 1024


def test_a_process_that_does_not_exist_reads_as_nothing():
    assert read_stat(2**22 + 12345) is None
    assert rss_bytes(2**22 + 12345) is None


def test_children_and_group_find_a_child_and_label_it():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in children(os.getpid())
        group = ProcessGroup(os.getpid())
        assert child.pid in group.members()
        assert group.label(os.getpid()) == "master"
        assert group.label(child.pid).startswith("worker ")
        assert group.rss()[child.pid] > 0
    finally:
        child.kill()
        child.wait()


def test_cpu_delta_counts_work_done_in_between_and_newcomers_from_zero():
    group = ProcessGroup(os.getpid(), with_children=False)
    before = group.cpu()
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    used = cpu_delta(before, group.cpu())
    assert used[os.getpid()] > 0.05
    assert cpu_delta({}, {7: 1.5}) == {7: 1.5}


def test_the_holders_of_a_listening_port_are_found():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert os.getpid() in pids_listening_on(port)
    assert os.getpid() not in pids_listening_on(port)
