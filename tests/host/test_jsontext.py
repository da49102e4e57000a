"""JSON text as the reference's JSON library reads and writes it (the token payloads and claims)."""

import pytest

from etamil_server.host import jsontext


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (123456789.0, "123456789.0"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e16"),
        (1.5e17, "1.5e17"),
        (1e20, "1e20"),
        (0.0001, "0.0001"),
        (0.00001, "0.00001"),
        (0.000012345, "0.000012345"),
        (1e-6, "1e-6"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (-2.5e-10, "-2.5e-10"),
    ],
)
def test_doubles_are_written_the_way_ryu_writes_them(value, text):
    assert jsontext.float_text(value) == text


def test_numbers_in():
    assert jsontext.loads("[9223372036854775807, -9223372036854775808, 18446744073709551615]") == [
        2**63 - 1, -(2**63), 2**64 - 1
    ]
    beyond = jsontext.loads("[18446744073709551616, -9223372036854775809, 12.50]")
    assert all(type(item) is float for item in beyond)
    assert jsontext.dumps(beyond) == "[1.8446744073709552e19,-9.223372036854776e18,12.5]"


@pytest.mark.parametrize(
    "text",
    ["NaN", "[Infinity]", "-Infinity", "1e400", '"\\ud800"', '{"a": "\\udc00x"}', "\ufeff{}", "{'a': 1}", "",
     "[1,]", "[" * 5000 + "]" * 5000],
)
def test_refused(text):
    with pytest.raises(jsontext.JsonError):
        jsontext.loads(text)


def test_bytes_must_be_utf8():
    assert jsontext.loads('{"a": "அ"}'.encode()) == {"a": "அ"}
    with pytest.raises(jsontext.JsonError):
        jsontext.loads('{"a": 1}'.encode("utf-16"))


def test_output_is_compact_sorted_and_keeps_non_ascii():
    value = jsontext.loads('{"b": [true, null, "x\\n\\u0001\\"\\\\"], "a": {"அ": 1, "Z": 2.0}, "aa": "€"}')
    assert jsontext.dumps(value) == '{"a":{"Z":2.0,"அ":1},"aa":"€","b":[true,null,"x\\n\\u0001\\"\\\\"]}'
    assert jsontext.loads('{"a": 1, "a": 2}') == {"a": 2}  # the later duplicate wins


def test_nesting_stops_where_serde_json_stops():
    assert jsontext.loads("[" * 127 + "]" * 127)
    assert jsontext.loads("{\"a\":" * 127 + "1" + "}" * 127)
    with pytest.raises(jsontext.JsonError):
        jsontext.loads("[" * 128 + "]" * 128)
    with pytest.raises(jsontext.JsonError):
        jsontext.loads('{"a": ' * 64 + "[" * 64 + "]" * 64 + "}" * 64)
