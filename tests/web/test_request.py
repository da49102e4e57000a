"""Request parsing, query decoding, handler variables and multipart (HOST.md §4.5, §4.6, §7.6)."""

from decimal import Decimal

import pytest

from etamil_server.host.services import HOST_SERVICES
from etamil_server.runtime.context import RunContext
from etamil_server.web.multipart import boundary_of, parse_multipart
from etamil_server.web.request import (
    BadRequestLine,
    Request,
    parse_query,
    parse_reference_request,
    percent_decode,
    request_variable_names,
    request_variables,
)

# ------------------------------------------------------------------------------ query strings


def test_query_plus_percent_and_utf8():
    assert parse_query("q=a+b%20c&name=%E0%AE%B5") == {"q": "a b c", "name": "வ"}


def test_query_other_percent_kept():
    assert parse_query("a=100%&b=%zz&c=%4") == {"a": "100%", "b": "%zz", "c": "%4"}


def test_query_invalid_utf8_replaced():
    assert parse_query("x=%FF%41") == {"x": "\ufffdA"}


def test_query_pieces_without_equals_dropped_and_last_wins():
    assert parse_query("flag&a=1&a=2&&b") == {"a": "2"}


def test_query_empty_key_and_value():
    assert parse_query("a=&=x") == {"a": "", "": "x"}
    assert parse_query("") == {}


def test_query_splits_at_first_equals_and_decodes_keys():
    assert parse_query("k%2Bey=v=w") == {"k+ey": "v=w"}


def test_percent_decode_plus_encoded_is_plus():
    assert percent_decode("%2B+") == "+ "


# ------------------------------------------------------------------------------ the reference parser


def test_parse_reference_request_basic():
    raw = b"POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing :  v : w \r\n\r\nbody"
    request = parse_reference_request(raw)
    assert request.method == "POST"
    assert request.target == "/a/b?x=1"
    assert request.path == "/a/b"
    assert request.query == "x=1"
    assert request.body == b"body"
    assert request.header("x-thing") == "v : w"
    assert request.http_version == "1.1"


def test_parse_reference_keeps_method_case_and_ignores_extra_words():
    request = parse_reference_request(b"get /x HTTP/1.0 extra\r\n\r\n")
    assert request.method == "get"
    assert request.http_version == "1.0"


def test_parse_reference_bad_request_lines():
    with pytest.raises(BadRequestLine) as missing:
        parse_reference_request(b"\r\n\r\n")
    assert missing.value.message == "Missing request line"
    with pytest.raises(BadRequestLine) as invalid:
        parse_reference_request(b"GET /\r\n\r\n")
    assert invalid.value.message == "Invalid request line"
    with pytest.raises(BadRequestLine):
        parse_reference_request(b"\r\nGET / HTTP/1.1\r\n\r\n")


def test_parse_reference_lf_fallback_and_lines_without_colon():
    request = parse_reference_request(b"GET / HTTP/1.1\nnocolon\nA: 1\n\nrest")
    assert request.headers == [("A", " 1")]
    assert request.body == b"rest"


def test_parse_reference_invalid_utf8_in_head_is_replaced():
    request = parse_reference_request(b"GET /\xff HTTP/1.1\r\n\r\n")
    assert request.path == "/\ufffd"


def test_header_lookup_last_wins():
    request = Request.from_target("GET", "/", [("A", "1"), ("a", " 2 ")])
    assert request.header("A") == "2"
    assert request.header("missing") is None


# ------------------------------------------------------------------------------ handler variables


def test_request_variables_plain():
    request = Request.from_target(
        "get", "/u/7?x=%41", [(" Content-Type ", " text/plain "), ("X-A", "1"), ("x-a", "2")], b"hi\xff"
    )
    variables = request_variables(request, {"id": "7"})
    assert variables == {
        "request_method": "get",
        "request_path": "/u/7",
        "request_body": "hi\ufffd",
        "query_params": {"x": "A"},
        "headers": {"content-type": "text/plain", "x-a": "2"},
        "path_params": {"id": "7"},
        "param_id": "7",
        "request_fields": {},
        "request_files": [],
    }


def test_request_variables_builds_only_the_names_a_route_reads(monkeypatch):
    import etamil_server.web.request as request_module

    def refuse(*_):
        raise AssertionError("built a variable the route does not read")

    request = Request.from_target("GET", "/u/7/x?amount=5", [("Content-Type", "multipart/form-data; boundary=b")], b"--b--")
    monkeypatch.setattr(request_module, "header_record", refuse)
    monkeypatch.setattr(request_module, "parse_multipart", refuse)
    ctx = RunContext()
    variables = request_variables(request, {"id": "7", "name": "x"}, ctx, frozenset({"query_params", "param_name"}))
    assert variables == {"query_params": {"amount": "5"}, "param_name": "x"}
    assert ctx.uploads is None and ctx.upload_request is request  # parsed later only if asked
    monkeypatch.setattr(request_module, "parse_query", refuse)
    assert request_variables(request, {"id": "7"}, ctx, frozenset({"param_id", "request_method"})) == {
        "param_id": "7", "request_method": "GET"}
    assert request_variables(request, {"id": "7"}, ctx, frozenset()) == {}


def test_request_variable_names():
    assert request_variable_names(["id", "name.pdf"])[-2:] == ("param_id", "param_name.pdf")
    assert "request_files" in request_variable_names()


def test_trim_is_unicode_white_space_only():
    request = Request.from_target("GET", "/", [("A", "\x1fv\u3000")])
    assert request_variables(request, {})["headers"] == {"a": "\x1fv"}


# ------------------------------------------------------------------------------ multipart

BODY = (
    b"preamble\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"\xe0\xae\x85 note\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="doc"; filename="a b.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"line1\r\nline2\r\n"
    b"--XyZ\r\n"
    b"Content-Disposition: form-data; name=raw; filename=x.bin\r\n\r\n"
    b"\x00\x01\xff\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"second\r\n"
    b"--XyZ--\r\n"
    b"epilogue"
)


def test_boundary_detection():
    assert boundary_of("  Multipart/Form-Data; boundary=\"abc\"") == b"abc"
    assert boundary_of("multipart/form-data; charset=x; boundary=q1") == b"q1"
    assert boundary_of("multipart/form-data; boundary=") is None
    assert boundary_of("multipart/mixed; boundary=a") is None
    assert boundary_of(None) is None


def test_multipart_fields_and_files():
    fields, files = parse_multipart("multipart/form-data; boundary=XyZ", BODY)
    assert fields == {"title": "second"}
    assert [record for record, _ in files] == [
        {"குறியீடு": Decimal(0), "பெயர்": "doc", "கோப்புப்_பெயர்": "a b.txt", "வகை": "text/plain", "அளவு": Decimal(12)},
        {
            "குறியீடு": Decimal(1),
            "பெயர்": "raw",
            "கோப்புப்_பெயர்": "x.bin",
            "வகை": "application/octet-stream",
            "அளவு": Decimal(3),
        },
    ]
    assert files[0][1] == b"line1\r\nline2"
    assert files[1][1] == b"\x00\x01\xff"


def test_multipart_without_closing_delimiter_loses_last_part():
    body = b"--B\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=b\r\n\r\n2"
    fields, _ = parse_multipart("multipart/form-data; boundary=B", body)
    assert fields == {"a": "1"}


def test_multipart_skips_parts_without_name_or_blank_line_and_cuts_quoted_semicolon():
    body = (
        b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
        b"--B\r\nContent-Disposition: form-data; name=a\r\nno blank line\r\n"
        b'--B\r\nContent-Disposition: form-data; name="f"; filename="a;b.txt"\r\n\r\nD\r\n'
        b"--B--"
    )
    fields, files = parse_multipart("multipart/form-data; boundary=B", body)
    assert fields == {}
    assert files[0][0]["கோப்புப்_பெயர்"] == "a"


def test_request_variables_multipart_puts_bytes_in_context():
    request = Request.from_target("POST", "/", [("Content-Type", "multipart/form-data; boundary=XyZ")], BODY)
    ctx = RunContext(services=HOST_SERVICES)
    variables = request_variables(request, {}, ctx)
    assert variables["request_fields"] == {"title": "second"}
    assert len(variables["request_files"]) == 2
    assert ctx.uploads[1][1] == b"\x00\x01\xff"
    assert variables["request_body"].startswith("preamble")
