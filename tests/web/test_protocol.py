"""The HTTP protocol fed raw bytes through a fake transport: split reads, pipelining, limits,
malformed input, chunked bodies, Expect, keep-alive, timeouts and the drain."""

from __future__ import annotations

import pytest
from protocol_fakes import GET, Harness, response_bodies


def test_a_simple_request_is_answered_and_the_connection_stays_open(h):
    h.feed(GET)
    assert response_bodies(h.out) == [b"GET /a?x=1 "]
    assert not h.transport.closed
    request = h.responder.handled[0]
    assert (request.path, request.query, request.http_version) == ("/a", "x=1", "1.1")
    assert request.headers == [("Host", "t")]


def test_split_reads_byte_by_byte_make_one_request(h):
    raw = b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
    h.feed(*[raw[i : i + 1] for i in range(len(raw))])
    assert response_bodies(h.out) == [b"POST /p hello"]
    assert len(h.responder.handled) == 1


def test_header_names_and_values_keep_their_spelling_and_utf8(h):
    h.feed("GET / HTTP/1.1\r\nHost: t\r\nX-Name: வணக்கம்\r\n\r\n".encode())
    assert h.responder.handled[0].headers == [("Host", "t"), ("X-Name", "வணக்கம்")]


def test_pipelined_requests_are_answered_in_order(h):
    h.feed(GET + b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n" + b"GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response_bodies(h.out) == [b"GET /a?x=1 ", b"GET /b ", b"GET /c "]


def test_a_slow_request_holds_back_the_ones_pipelined_behind_it(h):
    h.feed(b"GET /slow1 HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    assert h.out == b""
    assert [r.target for r in h.responder.handled] == ["/slow1"]
    h.responder.finish()
    h.settle()
    assert response_bodies(h.out) == [b"done /slow1", b"GET /fast "]


def test_connection_close_is_honoured_and_nothing_after_it_is_answered(h):
    h.feed(b"GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response_bodies(h.out) == [b"GET /a "]
    assert b"Connection: close" in h.out
    assert h.ended
    assert len(h.responder.handled) == 1


def test_http_1_0_closes_unless_keep_alive_is_asked_for(h):
    h.feed(b"GET /a HTTP/1.0\r\n\r\n")
    assert h.ended
    assert h.responder.handled[0].http_version == "1.0"
    other = Harness()
    other.feed(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert not other.ended
    assert other.responder.keep_alive_seen == [True]
    other.close()


def test_chunked_bodies_are_decoded(h):
    h.feed(b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", b"lo\r\n3\r\n wo\r\n0\r\n\r\n")
    assert response_bodies(h.out) == [b"POST /c hello wo"]


def test_a_body_over_the_limit_gets_413_and_the_handler_never_runs():
    h = Harness(max_body=10)
    h.feed(b"POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 413 ")
    assert h.responder.handled == []
    assert h.transport.eof_written  # half-closed: the client can still read the answer
    h.feed(b"more body bytes are read and dropped")
    assert h.out.count(b"HTTP/1.1") == 1
    h.close()


def test_a_body_at_the_limit_is_accepted():
    h = Harness(max_body=10)
    h.feed(b"POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789")
    assert response_bodies(h.out) == [b"POST /ok 0123456789"]
    h.close()


def test_a_chunked_body_growing_over_the_limit_gets_413():
    h = Harness(max_body=8)
    h.feed(b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", b"5\r\nworld\r\n0\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 413 ")
    assert h.responder.handled == []
    h.close()


def test_headers_over_the_limit_get_431():
    h = Harness(max_header=200)
    h.feed(b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Long: " + b"a" * 300 + b"\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 431 ")
    assert h.responder.handled == []
    h.close()


def test_an_endless_header_line_is_cut_off_before_it_ends():
    h = Harness(max_header=100, max_target=100)
    h.feed(b"GET / HTTP/1.1\r\nHost: t\r\nX-Endless: ")
    for _ in range(20):
        h.feed(b"b" * 4096)
    assert h.out.startswith(b"HTTP/1.1 431 ")
    h.close()


def test_a_long_target_gets_414():
    h = Harness(max_target=50)
    h.feed(b"GET /" + b"x" * 60 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 414 ")
    h.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"GET / HTTP/1.1\n\n",
    ],
)
def test_malformed_or_ambiguous_framing_gets_400(h, raw):
    h.feed(raw)
    assert h.out.startswith(b"HTTP/1.1 400 "), h.out
    assert h.responder.handled == []


def test_custom_and_lower_case_methods_reach_the_responder_as_sent(h):
    # HOST.md §4.4: the method word is kept as sent (`request_method`) and matched upper-cased,
    # so `get` reaches GET routes and custom words such as FROB or purge are routable.
    h.feed(b"FROB /a HTTP/1.1\r\nHost: t\r\n\r\n")
    h.feed(b"get /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
    h.feed(b"\r\npurge /c HTTP/1.1\r\nHost: t\r\n\r\n")
    assert [(r.method, r.target, r.body) for r in h.responder.handled] == [
        ("FROB", "/a", b""),
        ("get", "/b", b"hi"),
        ("purge", "/c", b""),
    ]


def test_a_custom_method_pipelined_behind_another_request_is_routed_too(h):
    # the protocol knows where each request line starts, in whatever read it arrives
    h.feed(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nFROB /b HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response_bodies(h.out) == [b"GET /a ", b"FROB /b "]


def test_a_request_line_that_is_not_a_method_word_gets_400(h):
    h.feed(b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 400 ")


def test_a_refusal_waits_for_the_answers_to_earlier_requests(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n")
    assert h.out == b""
    h.responder.finish()
    h.settle()
    first, second = h.out.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200") and second.startswith(b"400")


def test_expect_100_continue_is_answered_before_the_body_arrives(h):
    h.feed(b"POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert h.out == b"HTTP/1.1 100 Continue\r\n\r\n"
    h.feed(b"data")
    assert h.out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ")
    assert response_bodies(h.out.split(b"\r\n\r\n", 1)[1]) == [b"POST /e data"]


def test_expect_100_continue_waits_for_the_earlier_responses(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nPOST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert h.out == b""
    h.responder.finish()
    h.settle()
    assert h.out.endswith(b"done /slow" + b"HTTP/1.1 100 Continue\r\n\r\n")


def test_expect_with_a_body_over_the_limit_gets_413_and_no_100():
    h = Harness(max_body=3)
    h.feed(b"POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in h.out
    h.close()


def test_an_unknown_expectation_gets_417(h):
    h.feed(b"POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: tea\r\n\r\n")
    assert h.out.startswith(b"HTTP/1.1 417 ")


def test_an_upgrade_request_is_answered_then_the_connection_closes(h):
    h.feed(b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nnot http at all")
    assert response_bodies(h.out) == [b"GET /ws "]
    assert h.responder.keep_alive_seen == [False]
    assert h.transport.closed


def test_eof_after_pipelined_requests_still_answers_them(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    assert h.protocol.eof_received() is True
    h.responder.finish()
    h.settle()
    assert response_bodies(h.out) == [b"done /slow", b"GET /b "]
    assert h.transport.closed


def test_an_idle_keep_alive_connection_times_out():
    h = Harness(keepalive_timeout=5)
    h.feed(GET)
    h.protocol.check_timeouts(4.0)
    assert not h.transport.closed
    h.protocol.check_timeouts(6.0)
    assert h.transport.closed
    h.close()


def test_a_request_that_never_finishes_arriving_gets_408():
    h = Harness(read_timeout=10)
    h.feed(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
    h.protocol.check_timeouts(5.0)
    assert h.out == b""
    h.protocol.check_timeouts(11.0)
    assert h.out.startswith(b"HTTP/1.1 408 ")
    h.close()


def test_a_busy_connection_is_not_timed_out(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    h.protocol.check_timeouts(1000.0)
    assert not h.transport.closed


def test_reading_pauses_when_too_many_requests_are_queued():
    h = Harness(max_pipeline=2)
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n" + b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n" * 2)
    assert not h.transport.reading
    h.responder.finish()
    h.settle()
    assert h.transport.reading
    assert len(response_bodies(h.out)) == 3
    h.close()


def test_writing_paused_holds_the_queue_until_resumed(h):
    h.protocol.pause_writing()
    h.feed(GET + GET)
    assert h.out == b""
    h.protocol.resume_writing()
    assert len(response_bodies(h.out)) == 2


# ------------------------------------------------------------------------------ the drain


def test_drain_idle_connection_gets_a_grace_period_then_closes(h):
    h.feed(GET)
    h.hub.draining = True
    h.protocol.begin_drain(0.05)
    assert not h.transport.closed
    h.settle(0.1)
    assert h.transport.closed


def test_drain_a_request_arriving_in_the_grace_period_is_answered_with_close(h):
    h.feed(GET)
    h.hub.draining = True
    h.protocol.begin_drain(0.05)
    h.feed(b"GET /late HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response_bodies(h.out)[-1] == b"GET /late "
    assert h.responder.keep_alive_seen[-1] is False
    assert h.ended


def test_drain_a_request_in_flight_finishes_and_its_response_closes(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    h.hub.draining = True
    h.protocol.begin_drain(0.05)
    h.settle(0.1)
    assert not h.transport.closed  # busy: not cut
    h.responder.finish()
    h.settle()
    assert response_bodies(h.out) == [b"done /slow"]
    assert b"Connection: close" in h.out
    assert h.ended


def test_drain_answers_every_request_already_received(h):
    h.feed(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    h.hub.draining = True
    h.protocol.begin_drain(0.05)
    h.responder.finish()
    h.settle()
    assert response_bodies(h.out) == [b"done /slow", b"GET /b "]
    assert h.responder.keep_alive_seen == [True, False]
    assert h.ended
