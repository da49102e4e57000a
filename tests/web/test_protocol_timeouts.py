"""Slowloris and slow readers at the protocol: the header timeout, the send timeout, and
``close_after_response`` (the shedding of web/balance.py); the sweep's ``check_timeouts`` is called with chosen clock values."""

from __future__ import annotations

from protocol_fakes import GET, Harness, response_bodies


def test_headers_trickled_byte_by_byte_get_408_at_the_header_timeout():
    h = Harness(header_timeout=3, read_timeout=30)
    h.feed(b"GET / HTTP/1.1\r\nHost: t\r\n")
    for second in range(1, 4):
        h.hub.clock = float(second)
        h.feed(b"X")  # a byte now and then restarts nothing
        h.protocol.check_timeouts(float(second))
    assert h.out == b""
    h.protocol.check_timeouts(3.5)
    assert h.out.startswith(b"HTTP/1.1 408 ")
    assert h.transport.eof_written  # half-closed, then closed after the linger
    assert h.responder.handled == []
    h.close()


def test_a_method_word_trickled_letter_by_letter_counts_for_the_header_timeout():
    h = Harness(header_timeout=2)
    h.feed(b"G")
    h.protocol.check_timeouts(1.0)
    h.feed(b"E")
    h.protocol.check_timeouts(2.5)
    assert h.out.startswith(b"HTTP/1.1 408 ")
    h.close()


def test_the_header_timeout_does_not_cut_a_slow_body():
    h = Harness(header_timeout=2, read_timeout=10)
    h.feed(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
    h.protocol.check_timeouts(5.0)
    assert h.out == b""
    h.feed(b"cd")
    assert response_bodies(h.out) == [b"POST / abcd"]
    h.close()


def test_a_zero_header_timeout_leaves_only_the_read_timeout():
    h = Harness(header_timeout=0, read_timeout=10)
    h.feed(b"GET / HTTP/1.1\r\n")
    h.protocol.check_timeouts(9.0)
    assert h.out == b""
    h.protocol.check_timeouts(11.0)
    assert h.out.startswith(b"HTTP/1.1 408 ")
    h.close()


def test_a_peer_that_reads_nothing_is_cut_off_after_the_send_timeout():
    h = Harness(send_timeout=5, keepalive_timeout=1000)
    h.feed(GET)
    h.transport.buffered = len(h.out)  # nothing of the answer was read
    h.protocol.check_timeouts(1.0)
    h.protocol.check_timeouts(5.5)
    assert not h.transport.closed
    h.protocol.check_timeouts(6.5)
    assert h.transport.closed
    h.close()


def test_a_slow_but_steady_reader_is_not_cut_off():
    h = Harness(send_timeout=5, keepalive_timeout=1000)
    h.feed(GET)
    size = len(h.out)
    for second in range(1, 20):
        h.transport.buffered = max(1, size - second)  # one byte read per second
        h.protocol.check_timeouts(float(second))
    assert not h.transport.closed
    h.close()


def test_a_zero_send_timeout_waits_forever():
    h = Harness(send_timeout=0, keepalive_timeout=10_000)
    h.feed(GET)
    h.transport.buffered = 10
    for second in range(0, 1000, 100):
        h.protocol.check_timeouts(float(second))
    assert not h.transport.closed
    h.close()


def test_close_after_response_makes_the_next_answer_the_last(h):
    h.feed(GET)
    h.protocol.close_after_response()
    h.settle()
    assert not h.ended  # an idle connection is not cut: its next request is answered
    h.feed(b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response_bodies(h.out) == [b"GET /a?x=1 ", b"GET /next "]
    assert h.responder.keep_alive_seen == [True, False]
    assert h.ended


def test_close_after_response_lets_the_running_request_finish_with_connection_close(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    h.protocol.close_after_response()
    assert not h.transport.closed
    h.responder.finish()
    h.settle()
    assert response_bodies(h.out) == [b"done /slow", b"GET /b "]
    assert h.responder.keep_alive_seen == [True, False]
    assert h.ended


def test_reading_pauses_when_queued_bodies_grow_past_the_body_limit():
    h = Harness(max_body=10, max_pipeline=100)
    post = b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabcdef"
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n" + post)
    assert h.transport.reading
    h.feed(post)
    assert not h.transport.reading  # 12 queued body bytes > max_body
    h.responder.finish()
    h.settle()
    assert h.transport.reading
    assert len(response_bodies(h.out)) == 3
    h.close()


def test_internal_faults_go_to_the_error_log(h, server_log, capsys):
    def broken(request):
        raise RuntimeError("boom")

    h.responder.handle = broken
    h.feed(GET)
    assert h.out.startswith(b"HTTP/1.1 500 ")
    assert "etamil-server: request handling failed: RuntimeError: boom" in capsys.readouterr().err


def test_a_close_after_a_response_lingers_until_the_client_closes_too(h):
    # closing at once on input still unread would reset the connection and could destroy the
    # answer before the client reads it: half-close, drop what comes, close on the client's EOF
    h.feed(b"GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert h.transport.eof_written and not h.transport.closed
    h.feed(b"GET /more HTTP/1.1\r\nHost: t\r\n\r\n")  # pipelined behind it: dropped
    assert len(h.responder.handled) == 1
    assert h.protocol.eof_received() is None  # the transport closes now


def test_a_lingering_connection_closes_by_itself_after_a_while():
    h = Harness()
    h.feed(b"GET /a HTTP/1.0\r\n\r\n")
    assert h.ended and not h.transport.closed
    h.settle(2.1)
    assert h.transport.closed
    h.close()
