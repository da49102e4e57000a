"""sd_notify without a library: one datagram to $NOTIFY_SOCKET."""

from __future__ import annotations

import socket

import pytest

from workers import sdnotify


@pytest.fixture
def receiver(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(5)
    yield sock
    sock.close()


def test_a_message_is_one_datagram_of_lines(receiver):
    assert sdnotify.notify(receiver.getsockname(), "READY=1", "STATUS=serving")
    assert receiver.recv(4096) == b"READY=1\nSTATUS=serving"


def test_an_abstract_socket_address_starts_with_an_at_sign():
    name = f"etamil-test-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("@" + name, "STOPPING=1")
        assert sock.recv(4096) == b"STOPPING=1"


def test_outside_systemd_or_with_the_socket_gone_nothing_fails(tmp_path):
    assert sdnotify.notify(None, "READY=1") is False
    assert sdnotify.notify(str(tmp_path / "gone.sock"), "READY=1") is False
    assert sdnotify.notify("vsock:2:1234", "READY=1") is False


def test_the_address_is_taken_out_of_the_environment():
    environ = {"NOTIFY_SOCKET": "/run/systemd/notify", "OTHER": "x"}
    assert sdnotify.take_address(environ) == "/run/systemd/notify"
    assert environ == {"OTHER": "x"}  # gunicorn, the workers and their programs no longer see it
    assert sdnotify.take_address(environ) is None
