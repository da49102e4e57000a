"""Flow control of one connection: the backlog pausing reads, and stalled writes."""

from __future__ import annotations

import socket
import struct

from etamil_server.web.flow import FlowControl


class Transport:
    def __init__(self):
        self.reading = True
        self.buffered = 0
        self.data = b""

    def pause_reading(self):
        self.reading = False

    def resume_reading(self):
        self.reading = True

    def write(self, data):
        self.data += data

    def get_write_buffer_size(self):
        return self.buffered

    def get_extra_info(self, name, default=None):
        return self.socket if name == "socket" else default

    def abort(self):
        self.aborted = True


class Socket:
    def __init__(self):
        self.options = []

    def setsockopt(self, level, name, value):
        self.options.append((level, name, value))


def flow(**changes) -> tuple[FlowControl, Transport]:
    options = {"max_backlog": 3, "max_backlog_bytes": 100, "send_timeout": 5.0} | changes
    control = FlowControl(**options)
    control.transport = transport = Transport()
    return control, transport


def test_reading_pauses_at_the_backlog_and_resumes_when_drained():
    control, transport = flow()
    control.backlog_grew(2, 0)
    assert transport.reading
    control.backlog_grew(3, 0)
    assert not transport.reading
    control.backlog_drained(may_read=False)
    assert not transport.reading  # e.g. after a refusal: nothing more is parsed
    control.backlog_drained(may_read=True)
    assert transport.reading


def test_reading_pauses_on_queued_body_bytes():
    control, transport = flow()
    control.backlog_grew(1, 100)
    assert not transport.reading


def test_writes_are_counted_and_a_buffer_without_progress_is_stalled():
    control, transport = flow()
    control.write(b"x" * 50)
    assert transport.data == b"x" * 50 and control.written == 50
    assert not control.stalled(0.0)  # empty buffer
    transport.buffered = 50
    assert not control.stalled(1.0)
    assert not control.stalled(5.5)
    assert control.stalled(6.0)


def test_progress_restarts_the_stall_clock():
    control, transport = flow()
    control.write(b"x" * 50)
    transport.buffered = 50
    control.stalled(0.0)
    transport.buffered = 40
    assert not control.stalled(4.0)
    assert not control.stalled(8.0)
    assert control.stalled(9.0)


def test_a_cut_off_resets_the_connection_so_the_kernel_drops_the_unsent_bytes():
    control, transport = flow()
    transport.socket = Socket()
    control.cut_off()
    assert transport.aborted
    assert transport.socket.options == [(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))]
