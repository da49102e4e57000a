"""The worker class's own decisions (the rest is exercised end to end in tests/e2e)."""

from __future__ import annotations

import os
import types

import pytest
from gunicorn.config import Config

from workers.etamil_worker import EtamilWorker


class Log:
    def __init__(self):
        self.lines = []

    def info(self, text, *args):
        self.lines.append(text % args)

    def close_on_exec(self):
        pass


@pytest.fixture
def worker():
    cfg = Config()
    cfg.set("graceful_timeout", 20)
    cfg.set("keepalive", 7)
    cfg.set("max_requests", 100)
    made = EtamilWorker(1, os.getppid(), [], None, 30, cfg, Log())
    yield made
    made.tmp.close()


def test_gunicorn_flags_win_over_the_environment(worker, monkeypatch):
    monkeypatch.setenv("ETAMIL_GRACEFUL_TIMEOUT", "5")
    monkeypatch.setenv("ETAMIL_KEEPALIVE_TIMEOUT", "2.5")
    monkeypatch.setenv("ETAMIL_MAX_BODY", "2k")
    settings = worker._settings()
    assert settings.drain.graceful_timeout == 20.0
    assert settings.http.keepalive_timeout == 7.0
    assert settings.http.max_body == 2048


def test_the_same_setting_rounded_by_gunicorn_keeps_our_finer_value(worker, monkeypatch):
    monkeypatch.setenv("ETAMIL_GRACEFUL_TIMEOUT", "19.5")
    monkeypatch.setenv("ETAMIL_KEEPALIVE_TIMEOUT", "6.5")
    settings = worker._settings()
    assert settings.drain.graceful_timeout == 19.5
    assert settings.http.keepalive_timeout == 6.5


def fake_server(served):
    server = types.SimpleNamespace(served=served, draining=False, drains=0)

    def begin_drain():
        server.drains += 1
        server.draining = True

    server.begin_drain = begin_drain
    return server


def test_max_requests_starts_a_drain(worker):
    server = fake_server(worker.max_requests - 1)
    worker._watch_limits(server)
    assert server.drains == 0
    server.served = worker.max_requests
    worker._watch_limits(server)
    assert server.drains == 1
    worker._watch_limits(server)
    assert server.drains == 1  # once


def test_an_orphaned_worker_drains(worker):
    worker.ppid = -1
    server = fake_server(0)
    worker._watch_limits(server)
    assert server.drains == 1


def test_a_stop_signal_received_while_booting_is_not_lost(worker):
    import queue
    import signal

    pending = queue.SimpleQueue()
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGTTOU):
        pending.put(signum)
    worker.inherited_signal_queue = pending
    assert worker._signal_received_while_booting() == signal.SIGTERM
    pending.put(signal.SIGTERM)
    pending.put(signal.SIGQUIT)
    assert worker._signal_received_while_booting() == signal.SIGQUIT
    assert worker._signal_received_while_booting() is None
