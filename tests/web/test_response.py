"""Building responses (HOST.md §4.7.2) and writing them, byte for byte (§4.8, §4.9)."""

import json
from decimal import Decimal

import pytest

from etamil_server.runtime.values import Ok
from etamil_server.web.response import (
    HeaderInjection,
    Response,
    build_response,
    error_body,
    error_response,
    handler_error,
    not_found,
    serialize,
)

CORS = (
    b"Access-Control-Allow-Origin: *\r\n"
    b"Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
    b"Access-Control-Allow-Headers: Content-Type\r\n"
)
DATE = b"Thu, 26 Nov 2026 10:15:30 GMT"


def ref(response):
    return serialize(response, mode="reference", keep_alive=False)


# ------------------------------------------------------------------------------ build_response


def test_nothing_set_gives_default():
    response = build_response({})
    assert (response.status, response.headers, response.body) == (
        200,
        [("Content-Type", "application/json")],
        b"Handler executed successfully",
    )


@pytest.mark.parametrize(
    "value, status",
    [
        (Decimal("404"), 404),
        (Decimal("200.7"), 200),
        (Decimal("0"), 0),
        (Decimal("65535"), 65535),
        (Decimal("65536"), 200),
        (Decimal("-1"), 200),
        ("404", 200),
        (True, 200),
        (None, 200),
    ],
)
def test_status_rules(value, status):
    assert build_response({"response_status": value}).status == status


def test_body_is_rendered():
    assert build_response({"response_body": {"b": Decimal("1.50"), "a": "x"}}).body == b"{a: x, b: 1.5}"
    assert build_response({"response_body": None}).body == b"nil"
    assert build_response({"response_body": Ok(Decimal(5))}).body == "சரி(5)".encode()


def test_headers_exact_name_replace_and_add():
    response = build_response(
        {"response_headers": {"X-B": Decimal(2), "Content-Type": "text/html", "content-type": "text/plain"}}
    )
    assert response.headers == [
        ("Content-Type", "text/html"),
        ("X-B", "2"),
        ("content-type", "text/plain"),
    ]


def test_non_record_headers_ignored_and_content_length_dropped():
    assert build_response({"response_headers": ["a"]}).headers == [("Content-Type", "application/json")]
    response = build_response({"response_headers": {"Content-Length": "99", "content-length": "7"}})
    assert response.headers == [("Content-Type", "application/json"), ("content-length", "7")]
    assert ref(response).startswith(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 29\r\ncontent-length: 7\r\n"
    )


def test_response_file(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"\x00\x01")
    response = build_response({"response_file": str(target), "response_body": "ignored", "response_status": Decimal(201)})
    assert (response.status, response.body) == (201, b"\x00\x01")
    assert response.headers == [("Content-Type", "application/octet-stream")]
    kept = build_response({"response_file": str(target), "response_headers": {"Content-Type": "image/png"}})
    assert kept.headers == [("Content-Type", "image/png")]


def test_response_file_unreadable(tmp_path):
    missing = str(tmp_path / "nope")
    response = build_response({"response_file": missing, "response_headers": {"X": "1"}})
    assert response.status == 500
    assert response.headers == [("Content-Type", "application/json")]
    text = response.body.decode()
    assert text == '{"error": "cannot read \'' + missing + "': No such file or directory (os error 2)\"}"
    assert ref(response).startswith(b"HTTP/1.1 500 Internal Server Error\r\n")


# ------------------------------------------------------------------------------ reference wire format


def test_reference_handler_response_bytes():
    response = build_response(
        {"response_status": Decimal(200), "response_body": "வணக்கம் ravi", "response_headers": {"Content-Type": "text/plain; charset=utf-8", "X-Id": "7"}}
    )
    assert ref(response) == (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 26\r\n"
        b"X-Id: 7\r\n" + CORS + b"\r\n" + "வணக்கம் ravi".encode()
    )


@pytest.mark.parametrize(
    "status, line",
    [
        (200, b"HTTP/1.1 200 OK"),
        (201, b"HTTP/1.1 201 Created"),
        (202, b"HTTP/1.1 202 Accepted"),
        (204, b"HTTP/1.1 204 No Content"),
        (404, b"HTTP/1.1 404 OK"),
        (500, b"HTTP/1.1 500 OK"),
        (0, b"HTTP/1.1 0 OK"),
    ],
)
def test_reference_handler_reason_phrases(status, line):
    assert ref(build_response({"response_status": Decimal(status)})).split(b"\r\n")[0] == line


def test_reference_204_still_has_body():
    data = ref(build_response({"response_status": Decimal(204), "response_body": "x"}))
    assert data.endswith(b"Content-Length: 1\r\n" + CORS + b"\r\nx")


def test_reference_server_responses():
    assert ref(not_found()) == (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n"
        + CORS
        + b'\r\n{"error": "Not Found"}'
    )
    bad = ref(error_response(400, error_body("Invalid request line")))
    assert bad.startswith(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 33\r\n")
    assert bad.endswith(b'{"error": "Invalid request line"}')


def test_reference_header_values_not_validated():
    response = Response(200, [("Content-Type", "a"), ("X", "1\r\nEvil: 2")], b"")
    assert b"X: 1\r\nEvil: 2\r\n" in ref(response)


def test_reference_cors_not_replaced_by_handler_header():
    response = build_response({"response_headers": {"Access-Control-Allow-Origin": "https://x"}})
    data = ref(response)
    assert data.count(b"Access-Control-Allow-Origin") == 2


# ------------------------------------------------------------------------------ error bodies are JSON


def test_handler_error_body_is_valid_json():
    message = 'bad "thing" \\ here\nnext — தவறு'
    response = handler_error(message)
    assert response.status == 500
    assert json.loads(response.body) == {"error": "Handler error: " + message}
    # text without quotes, backslashes or control characters is byte-identical to the reference
    plain = handler_error("அறிவிக்கப்படாத மாறி 'x'  (undefined variable 'x')")
    assert plain.body == "{\"error\": \"Handler error: அறிவிக்கப்படாத மாறி 'x'  (undefined variable 'x')\"}".encode()


# ------------------------------------------------------------------------------ ours


def ours(response, **options):
    options.setdefault("keep_alive", True)
    return serialize(response, mode="ours", date=DATE, **options)


def test_ours_full_bytes():
    response = build_response({"response_status": Decimal(404), "response_body": "no"})
    assert ours(response, keep_alive=False) == (
        b"HTTP/1.1 404 Not Found\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 2\r\n" + CORS + b"Date: " + DATE + b"\r\n"
        b"Server: etamil-server\r\n"
        b"Connection: close\r\n\r\nno"
    )


def test_ours_keep_alive_and_http10():
    response = build_response({})
    assert b"Connection" not in ours(response)
    assert b"Connection: keep-alive\r\n" in ours(response, http_version="1.0")
    assert b"Connection: close\r\n" in ours(response, keep_alive=False, http_version="1.0")


def test_ours_unknown_status_phrase():
    assert ours(build_response({"response_status": Decimal(299)})).startswith(b"HTTP/1.1 299 Unknown\r\n")


def test_ours_head_sends_length_without_body():
    data = ours(build_response({"response_body": "12345"}), head=True)
    assert b"Content-Length: 5\r\n" in data
    assert data.endswith(b"\r\n\r\n")


def test_ours_204_and_304_have_no_body_or_length():
    for status in (204, 304):
        data = ours(build_response({"response_status": Decimal(status), "response_body": "x"}))
        assert b"Content-Length" not in data
        assert data.endswith(b"\r\n\r\n")


def test_ours_header_injection_refused():
    with pytest.raises(HeaderInjection):
        ours(build_response({"response_headers": {"X": "a\r\nSet-Cookie: s=1"}}))
    with pytest.raises(HeaderInjection):
        ours(build_response({"response_headers": {"X\nY": "a"}}))


def test_ours_framing_headers_are_ours_and_handler_cors_wins():
    response = build_response(
        {"response_headers": {"content-length": "1", "Transfer-Encoding": "chunked", "Access-Control-Allow-Origin": "https://a"}}
    )
    data = ours(response)
    assert data.count(b"ength:") == 1
    assert b"Transfer-Encoding" not in data
    assert data.count(b"Access-Control-Allow-Origin") == 1
    assert b"Access-Control-Allow-Origin: https://a\r\n" in data


def test_ours_response_without_content_type():
    data = ours(Response(405, [("Allow", "GET")], b"x"))
    assert data.startswith(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 1\r\nAllow: GET\r\n")
