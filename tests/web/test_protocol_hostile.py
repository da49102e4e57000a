"""The protocol against hostile or unusual input, fed straight to ``data_received``: the same
answer whole or in pieces, request smuggling, RFC 9112's Host and version rules, garbage after a
pipelined request."""

from __future__ import annotations

import pytest
from hostile_corpus import SMUGGLED, SMUGGLING
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_fakes import Harness

VALID = [
    b"GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"get /lower HTTP/1.1\r\nHost: t\r\n\r\n",
    b"FROB /custom HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n",
    b"purge /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\n\r\n",
    b"POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\r\n\r\n\r\n0\r\nX-Trailer: v\r\n\r\n",
    b"\r\nDELETE /d HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]


def answer(*chunks: bytes) -> tuple[bytes, list[tuple[str, str, bytes]], bool]:
    h = Harness()
    try:
        h.feed(*chunks)
        return h.out, [(r.method, r.target, r.body) for r in h.responder.handled], h.transport.closed
    finally:
        h.close()


def pieces(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(raw) + 1) for cut in cuts} | {0, len(raw)})
    return [raw[a:b] for a, b in zip(points, points[1:], strict=False)]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(VALID), min_size=1, max_size=4),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_valid_requests_get_the_same_answers_whole_or_in_pieces_of_any_size(requests, cuts):
    raw = b"".join(requests)
    whole = answer(raw)
    assert len(whole[1]) == len(requests)  # every one reached the responder
    assert answer(*pieces(raw, cuts)) == whole


def test_every_request_answered_the_same_byte_by_byte():
    raw = b"".join(VALID)
    whole = answer(raw)
    assert [method for method, _, _ in whole[1]] == ["GET", "get", "FROB", "purge", "POST", "POST", "DELETE", "GET"]
    assert answer(*[raw[i : i + 1] for i in range(len(raw))]) == whole


def test_a_lowercase_method_split_after_its_first_letter_is_routed():
    out, handled, _ = answer(b"g", b"et /x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert handled == [("get", "/x", b"")]
    assert out.startswith(b"HTTP/1.1 200 ")


def test_a_method_word_longer_than_any_head_gets_431():
    h = Harness(max_header=100, max_target=100)
    for _ in range(10):
        h.feed(b"X" * 200)
    assert h.out.startswith(b"HTTP/1.1 431 ")
    h.close()


@pytest.mark.parametrize("garbage", [b"\x01\x02garbage\r\n\r\n", b"xyzzy garbage\r\n\r\n", b"GET\t/ HTTP/1.1\r\n\r\n"])
def test_garbage_after_a_pipelined_request_gets_400(garbage):
    out, handled, closed = answer(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n" + garbage)
    assert handled == [("GET", "/a", b"")]
    first, second = out.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200") and second.startswith(b"400")


# ------------------------------------------------------------------------------ RFC 9112


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET / HTTP/1.1\r\n\r\n", b"400"),  # HTTP/1.1 without Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"400"),
        (b"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", b"505"),
        (b"GET /\r\n\r\n", b"400"),  # no version at all (HTTP/0.9)
        (b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", b"400"),
    ],
)
def test_rfc_9112_host_and_version_rules(raw, status):
    out, handled, closed = answer(raw)
    assert out.startswith(b"HTTP/1.1 " + status + b" "), out
    assert handled == []
    assert closed or out.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize("host", [b"", b"example.com", b"example.com:8080", b"[::1]:80", b"127.0.0.1", b"xn--ls8h.la"])
def test_good_host_values_pass(host):
    out, handled, _ = answer(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 ")


def test_http_1_0_may_leave_host_out():
    out, handled, _ = answer(b"GET /a HTTP/1.0\r\n\r\n")
    assert handled == [("GET", "/a", b"")]


# ------------------------------------------------------------------------------ smuggling


@pytest.mark.parametrize("raw", SMUGGLING)
def test_smuggling_attempts_get_400_and_never_a_second_response(raw):
    for chunks in ([raw], [raw[i : i + 7] for i in range(0, len(raw), 7)]):
        out, handled, _ = answer(*chunks)
        assert out.startswith(b"HTTP/1.1 400 "), out
        assert out.count(b"HTTP/1.1 ") == 1
        assert handled == []


def test_trailers_are_not_headers_of_the_request():
    # a trailer arriving in its own read counts as no second Host, and is dropped
    h = Harness()
    raw = b"POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nHost: other\r\n"
    h.feed(raw, b"\r\n", b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
    assert [(r.target, r.body) for r in h.responder.handled] == [("/t", b"abc"), ("/next", b"")]
    assert h.responder.handled[0].headers == [("Host", "t"), ("Transfer-Encoding", "chunked")]
    h.close()


def test_a_trailer_named_content_length_is_refused():
    raw = b"POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nContent-Length: 99\r\n"
    out, handled, _ = answer(raw, b"\r\n", SMUGGLED)
    assert out.startswith(b"HTTP/1.1 400 ") and out.count(b"HTTP/1.1 ") == 1
    assert handled == []
