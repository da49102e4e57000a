"""The fence on a listening socket (``web/listen_fence.py``), against the real kernel: what was
queued before it is still accepted with its request; what comes after never joins the queue, and
is refused (not reset) once the socket closes."""

from __future__ import annotations

import socket
import sys
import threading
import time

import pytest

from etamil_server.web.listen_fence import refuse_new_connections

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fence is a Linux socket filter")

REQUEST = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


def connect(port: int, timeout: float) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def test_a_connection_queued_before_the_fence_is_accepted_with_its_request(listener):
    client = connect(listener.getsockname()[1], 2)
    client.sendall(REQUEST)
    assert refuse_new_connections(listener)
    conn, _ = listener.accept()
    assert conn.recv(100) == REQUEST
    conn.sendall(b"answer")
    assert client.recv(100) == b"answer"
    conn.close()
    client.close()


def test_after_the_fence_a_new_connection_does_not_join_the_queue(listener):
    port = listener.getsockname()[1]
    assert refuse_new_connections(listener)
    with pytest.raises(TimeoutError):
        connect(port, 0.3)  # its SYN is dropped: no handshake completes
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_a_client_that_came_after_the_fence_is_refused_once_the_socket_closes(listener):
    """What the drain relies on: the client knows nothing was delivered (refused, not reset)."""
    port = listener.getsockname()[1]
    assert refuse_new_connections(listener)
    outcome: list[BaseException | str] = []

    def client() -> None:
        try:
            sock = connect(port, 5)
        except OSError as exc:
            outcome.append(exc)
            return
        outcome.append("connected")
        sock.close()

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.2)  # the client's SYN has been dropped once
    listener.close()
    thread.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionRefusedError), outcome


def test_a_closed_socket_is_not_fenced():
    sock = socket.socket()
    sock.close()
    assert refuse_new_connections(sock) is False
