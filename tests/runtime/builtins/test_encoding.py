from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etamil_server.base.errors import EtamilError
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.builtins.encoding import from_bytes, to_bytes
from etamil_server.runtime.values import Err, Ok

NOT_UTF8 = (
    "இந்தப் பைட்டுகள் செல்லுபடியான UTF-8 அல்ல"
    "                           "
    "(these bytes are not valid UTF-8)"
)


def bad_byte(position, shown):
    return (
        f"இடம் {position} இல் '{shown}' ஒரு பைட்டு அல்ல"
        "                                   "
        f"(position {position}: '{shown}' is not a byte, expected a whole number 0-255)"
    )


def test_message_space_runs_have_the_upstream_lengths():
    assert " " * 27 + "(" in NOT_UTF8 and " " * 28 not in NOT_UTF8
    assert " " * 35 + "(" in bad_byte(0, "x") and " " * 36 not in bad_byte(0, "x")


@pytest.mark.parametrize(
    ("spellings", "function", "arity", "returns"),
    [
        (("பைட்டுகள்", "pYttukaL", "_bytes"), to_bytes, 1, "array"),
        (("பைட்டுச்_சரம்", "pYttuc_caram", "_fromBytes"), from_bytes, 1, "result"),
    ],
)
def test_registered_under_three_spellings(spellings, function, arity, returns):
    for spelling in spellings:
        entry = BUILTINS[spelling]
        assert entry.function is function
        assert (entry.name, entry.arity, entry.returns) == (spellings[0], arity, returns)


def test_bytes_of_text():
    assert to_bytes("வ") == [D(224), D(174), D(181)]
    assert to_bytes("A") == [D(65)]
    assert to_bytes("") == []


def test_bytes_take_the_text_of_any_value():
    assert to_bytes(D("1.50")) == [D(49), D(46), D(53)]
    assert to_bytes(True) == [D(116), D(114), D(117), D(101)]


def test_bytes_are_whole_numbers_of_scale_zero():
    assert all(type(b) is D and b.as_tuple().exponent == 0 for b in to_bytes("வணக்கம்"))


def test_from_bytes_of_valid_utf8():
    result = from_bytes([D(224), D(174), D(181)])
    assert type(result) is Ok and result.value == "வ"
    assert from_bytes([]).value == ""


def test_from_bytes_converts_each_element():
    assert from_bytes(["65", True, D("66.00"), " 67 "]).value == "A\x01BC"
    assert from_bytes([None, "abc", [D(1)]]).value == "\x00\x00\x00"


def test_from_bytes_of_invalid_utf8_is_a_failure():
    for raw in ([D(255)], [D(224), D(174)], [D(0xED), D(0xA0), D(0x80)], [D(0xC0), D(0x80)]):
        result = from_bytes(raw)
        assert type(result) is Err
        assert result.value == NOT_UTF8


@pytest.mark.parametrize(
    ("array", "position", "shown"),
    [
        ([D(256)], 0, "256"),
        ([D(65), D(-1)], 1, "-1"),
        ([D(65), D(66), D("1.5")], 2, "1.5"),
        ([D("300.0")], 0, "300.0"),  # printed with its scale
        ([D("-1.50")], 0, "-1.50"),
        (["1.20x0", "2.50"], 1, "2.50"),  # text converts with its own scale
        ([D("0.1"), D(999)], 0, "0.1"),  # the first bad element is reported
    ],
)
def test_from_bytes_bad_element_is_a_runtime_error(array, position, shown):
    with pytest.raises(EtamilError) as caught:
        from_bytes(array)
    assert caught.value.message == bad_byte(position, shown)


def test_from_bytes_accepts_whole_numbers_with_a_scale():
    assert from_bytes([D("65.0"), D("195.000"), D(128)]).value == "A\u00c0"


@pytest.mark.parametrize(("value", "kind"), [("abc", "a string"), ({}, "a record"), (Ok([]), "a result")])
def test_from_bytes_of_a_non_array(value, kind):
    with pytest.raises(EtamilError) as caught:
        from_bytes(value)
    assert caught.value.message == f"பைட்டுச்_சரம் ஒரு அணி தேவை  (fromBytes needs an array, got {kind})"


@given(st.text())
def test_from_bytes_inverts_bytes_for_any_text(text):
    result = from_bytes(to_bytes(text))
    assert type(result) is Ok and result.value == text


@given(st.text())
def test_bytes_are_the_utf8_encoding(text):
    assert [int(b) for b in to_bytes(text)] == list(text.encode("utf-8"))


@given(st.binary())
def test_from_bytes_agrees_with_strict_utf8_decoding(raw):
    result = from_bytes([D(b) for b in raw])
    try:
        expected = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert type(result) is Err
    else:
        assert type(result) is Ok and result.value == expected
