"""The gunicorn configuration functions: settings mapping, the program loader in the master,
reload on HUP, process titles, the listeners fenced when the master stops."""

from __future__ import annotations

import socket
import sys
import types

import pytest
from gunicorn import util as gunicorn_util

from etamil_server.config import load_settings
from etamil_server.web.serve import bind_sockets
from workers import hooks

GOOD = 'வழி பெறு, "/" { பதில் 200, "v1"; }\n'
BROKEN = 'வழி பெறு, "/" { பதில் 200, ; }\n'


def test_gunicorn_settings_come_from_our_settings():
    settings = load_settings(
        {
            "ETAMIL_BIND": "127.0.0.1:9001,unix:/tmp/x.sock",
            "ETAMIL_PROCESSES": "3",
            "ETAMIL_GRACEFUL_TIMEOUT": "12.5",
            "ETAMIL_KEEPALIVE_TIMEOUT": "2",
            "ETAMIL_MAX_REQUESTS": "1000",
        }
    )
    values = hooks.gunicorn_settings(settings)
    assert values["bind"] == ["127.0.0.1:9001", "unix:/tmp/x.sock"]
    assert values["workers"] == 3
    assert values["graceful_timeout"] == 13  # gunicorn takes whole seconds
    assert values["keepalive"] == 2
    assert values["max_requests"] == 1000
    assert values["preload_app"] is True
    assert values["worker_class"] == "workers.etamil_worker.EtamilWorker"
    assert values["wsgi_app"] == "workers.hooks:load_program()"


def test_load_program_compiles_in_the_master(tmp_path, monkeypatch):
    program = tmp_path / "p.qmz"
    program.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("ETAMIL_PROGRAM", str(program))
    served = hooks.load_program()
    assert served.loaded.app.router.keys() == ["GET /"]
    with pytest.raises(RuntimeError):
        served()  # gunicorn wants a callable; nothing may call it


def test_a_broken_program_exits_with_the_boot_error_status_and_the_etamil_message(tmp_path, monkeypatch, capsys):
    program = tmp_path / "p.qmz"
    program.write_text(BROKEN, encoding="utf-8")
    monkeypatch.setenv("ETAMIL_PROGRAM", str(program))
    with pytest.raises(SystemExit) as stop:
        hooks.load_program()
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("✗ ")
    assert "Traceback" not in err


def test_no_program_set_is_a_boot_error(monkeypatch, capsys):
    monkeypatch.delenv("ETAMIL_PROGRAM", raising=False)
    with pytest.raises(SystemExit) as stop:
        hooks.load_program()
    assert stop.value.code == 3
    assert "ETAMIL_PROGRAM" in capsys.readouterr().err


class FakeLog:
    def __init__(self):
        self.lines = []

    def info(self, text, *args):
        self.lines.append(("info", text % args))

    def error(self, text, *args):
        self.lines.append(("error", text % args))


def fake_arbiter(served):
    return types.SimpleNamespace(app=types.SimpleNamespace(callable=served), log=FakeLog())


def test_on_reload_swaps_in_the_changed_program(tmp_path, monkeypatch):
    program = tmp_path / "p.qmz"
    program.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("ETAMIL_PROGRAM", str(program))
    arbiter = fake_arbiter(hooks.load_program())
    program.write_text(GOOD.replace('"/"', '"/v2"'), encoding="utf-8")
    hooks.on_reload(arbiter)
    assert arbiter.app.callable.loaded.app.router.keys() == ["GET /v2"]


def test_on_reload_keeps_the_running_version_when_the_edit_is_broken(tmp_path, monkeypatch):
    program = tmp_path / "p.qmz"
    program.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("ETAMIL_PROGRAM", str(program))
    served = hooks.load_program()
    arbiter = fake_arbiter(served)
    program.write_text(BROKEN, encoding="utf-8")
    hooks.on_reload(arbiter)
    assert arbiter.app.callable is served
    assert arbiter.log.lines[0][0] == "error"
    assert "✗ " in arbiter.log.lines[0][1]


def test_process_titles_are_renamed(monkeypatch):
    titles = []
    monkeypatch.setattr(hooks.proctitle, "set_title", titles.append)
    original = gunicorn_util._setproctitle
    try:
        hooks.patch_process_titles("ledger.qmz")
        gunicorn_util._setproctitle("master [etamil]")
        gunicorn_util._setproctitle("worker [etamil]")
    finally:
        gunicorn_util._setproctitle = original
    assert titles == ["etamil: master ledger.qmz", "etamil: worker ledger.qmz"]


class Listener:
    """gunicorn's wrapper of a listening socket (``gunicorn.sock.TCPSocket``)."""

    def __init__(self):
        self.sock = bind_sockets("127.0.0.1", 0)[0]
        self.port = self.sock.getsockname()[1]


def stopping_arbiter(**identity):
    """An arbiter whose stop only records that it ran (the listeners stay open to be probed)."""
    arbiter = types.SimpleNamespace(systemd=False, reexec_pid=0, master_pid=0, LISTENERS=[Listener()], stops=[])
    vars(arbiter).update(identity)
    arbiter.stop = lambda graceful=True: arbiter.stops.append(graceful)
    return arbiter


def joins_the_queue(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
    except TimeoutError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fence is a Linux socket filter")
@pytest.mark.parametrize(
    "identity, fenced",
    [
        ({}, True),
        ({"systemd": True}, False),  # systemd keeps the socket for the next start
        ({"reexec_pid": 4242}, False),  # the new master of a USR2 re-exec serves on it
        ({"master_pid": 4242}, False),  # we are that new master: the old one still holds it
    ],
)
def test_the_master_fences_its_listeners_when_they_die_with_it(identity, fenced):
    arbiter = stopping_arbiter(**identity)
    hooks.fence_listeners_when_stopping(arbiter)
    listener = arbiter.LISTENERS[0]
    assert joins_the_queue(listener.port)  # nothing fenced before the stop
    arbiter.stop(False)
    assert arbiter.stops == [False]
    assert joins_the_queue(listener.port) is not fenced
    listener.sock.close()
