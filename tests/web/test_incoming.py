"""The request being read: method words and RFC 9112's checks of a head."""

from __future__ import annotations

import pytest

from etamil_server.web.incoming import MORE, NOT_A_METHOD, Incoming, head_problem, method_word


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"GET / HTTP/1.1", 3),
        (b"frob /x", 4),
        (b"g", MORE),
        (b"PURG", MORE),
        (b"G(T / HTTP/1.1", NOT_A_METHOD),
        (b" GET /", NOT_A_METHOD),
        (b"GET\t/", NOT_A_METHOD),
        (b"\x16\x03\x01", NOT_A_METHOD),
    ],
)
def test_method_word(data, expected):
    assert method_word(data) == expected


def head(version: str, *hosts: bytes) -> Incoming:
    incoming = Incoming(None, 0.0)
    incoming.version = version
    incoming.hosts = len(hosts)
    incoming.host = hosts[-1] if hosts else b""
    return incoming


@pytest.mark.parametrize(
    "incoming, status",
    [
        (head("1.1", b"a"), None),
        (head("1.0"), None),
        (head("1.1"), 400),
        (head("1.1", b"a", b"a"), 400),
        (head("1.1", b"a\x7f"), 400),
        (head("2.0", b"a"), 505),
        (head("0.9"), 400),
    ],
)
def test_head_problem(incoming, status):
    problem = head_problem(incoming)
    assert (problem and problem[0]) == status
