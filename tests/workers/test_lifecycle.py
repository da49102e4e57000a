"""The master's lifecycle as systemd sees it, against a fake arbiter and a fake notify socket:
READY=1 only once a worker reports that it serves, RELOADING=1 on HUP and READY=1 again only
for a worker of the new generation, STOPPING=1 on the stop; and which exits are restarts."""

from __future__ import annotations

import os
import socket
import types

import pytest

from workers import hooks, lifecycle


class Systemd:
    """A fake notify socket, read without waiting."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setblocking(False)
        self.address = path

    def received(self) -> list[str]:
        messages = []
        while True:
            try:
                messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return messages


@pytest.fixture
def systemd(tmp_path):
    made = Systemd(str(tmp_path / "notify.sock"))
    yield made
    made.sock.close()


class FakeArbiter:
    """The few parts of gunicorn's Arbiter the lifecycle touches."""

    def __init__(self):
        self.worker_age = 0
        self.num_workers = 2
        self.WORKERS: dict[int, object] = {}
        self.calls: list[str] = []

    def murder_workers(self):
        self.calls.append("murder")

    def reap_workers(self):
        self.calls.append("reap")

    def stop(self, graceful=True):
        self.calls.append(f"stop graceful={graceful}")

    def spawn(self) -> int:
        self.worker_age += 1
        self.WORKERS[1000 + self.worker_age] = object()
        return self.worker_age


@pytest.fixture
def master(systemd):
    reports = lifecycle.ServingReports()
    state = lifecycle.MasterLifecycle(systemd.address, reports)
    arbiter = FakeArbiter()
    state.attach(arbiter)
    yield state, arbiter
    reports.close()


def states(messages: list[str]) -> list[str]:
    return [message.split("\n", 1)[0] for message in messages]


def test_ready_waits_for_a_worker_that_serves(master, systemd):
    state, arbiter = master
    first, second = arbiter.spawn(), arbiter.spawn()
    for _ in range(3):
        arbiter.murder_workers()  # turns of the master's loop: workers spawned, none serving yet
    assert systemd.received() == []
    state.reports.report(first)  # what a worker does once its listeners are open
    arbiter.murder_workers()
    assert states(systemd.received()) == ["READY=1"]
    state.reports.report(second)
    arbiter.murder_workers()
    assert systemd.received() == []  # once
    assert arbiter.calls.count("murder") == 5  # the arbiter's own work still runs


def test_after_a_reload_only_a_new_worker_makes_it_ready_again(master, systemd):
    state, arbiter = master
    old = arbiter.spawn()
    state.reports.report(old)
    arbiter.murder_workers()
    assert states(systemd.received()) == ["READY=1"]
    state.reloading(arbiter)  # on_reload: before the new workers are spawned
    message = systemd.received()[0]
    assert message.startswith("RELOADING=1\nMONOTONIC_USEC=")
    new = arbiter.spawn()
    state.reports.report(old)  # an old worker's report (late) does not count
    arbiter.reap_workers()  # what the reload's wait loop calls
    assert systemd.received() == []
    state.reports.report(new)
    arbiter.reap_workers()
    assert states(systemd.received()) == ["READY=1"]


def test_stopping_is_told_once_and_nothing_after_it(master, systemd):
    state, arbiter = master
    age = arbiter.spawn()
    arbiter.stop()
    arbiter.stop(False)  # gunicorn calls stop twice on INT/QUIT
    assert states(systemd.received()) == ["STOPPING=1"]
    assert arbiter.calls == ["stop graceful=True", "stop graceful=False"]
    state.reports.report(age)
    arbiter.reap_workers()
    state.reloading(arbiter)
    assert systemd.received() == []


def test_without_systemd_the_states_are_still_kept(master):
    state, arbiter = master
    state.address = None
    state.reports.report(arbiter.spawn())
    arbiter.murder_workers()
    assert state.state == "serving" and state.sent[-1][0] == "READY=1"


def test_which_exits_are_restarts(master):
    state, arbiter = master
    for _ in range(2):
        arbiter.spawn()
    arbiter.WORKERS.popitem()  # a worker died: fewer than wanted, the master replaces it
    assert state.worker_replaced(arbiter)
    arbiter.spawn()
    arbiter.spawn()  # a reload: new workers first, then the old ones exit
    arbiter.WORKERS.popitem()
    assert not state.worker_replaced(arbiter)
    arbiter.num_workers = 1  # TTOU: one fewer wanted
    arbiter.WORKERS = {1: object()}
    assert not state.worker_replaced(arbiter)
    arbiter.num_workers = 2
    arbiter.stop()
    assert not state.worker_replaced(arbiter)  # the stop retires them all


def test_reports_survive_partial_reads_and_never_block():
    reports = lifecycle.ServingReports()
    try:
        for age in range(1, 2001):
            reports.report(age)
        assert reports.collect() == list(range(1, 2001))
        assert reports.collect() == []
        for _ in range(100000):  # far more than a pipe holds: the worker is never blocked
            reports.report(7)
        assert set(reports.collect()) == {7}
    finally:
        reports.close()


def test_on_starting_takes_the_notify_socket_and_post_fork_hands_the_report(monkeypatch, tmp_path):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("ETAMIL_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("ETAMIL_METRICS", raising=False)
    monkeypatch.setattr(hooks, "patch_process_titles", lambda program: None)
    monkeypatch.setattr(hooks, "LIFECYCLE", None)
    monkeypatch.setattr(hooks, "LOAD_TABLE", None)
    monkeypatch.setenv("ETAMIL_SERVER_ID", "restored-after-the-test")
    arbiter = FakeArbiter()
    hooks.on_starting(arbiter)
    try:
        assert "NOTIFY_SOCKET" not in os.environ  # gunicorn's own early READY=1 goes nowhere
        assert hooks.LIFECYCLE.address == str(tmp_path / "notify.sock")
        worker = types.SimpleNamespace()
        hooks.post_fork(types.SimpleNamespace(), worker)
        worker.report_serving(3)
        assert hooks.LIFECYCLE.reports.collect() == [3]
    finally:
        hooks.LIFECYCLE.reports.close()
