"""jEcAZ.qmz natively (LANGUAGE.md §17.7): what the writer and the reader give, and the proofs
behind the reader's use of Python's ``json`` (it is used only where its answer is the
definition's)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_helpers import decimals, json_texts, same

from etamil_server.base import numbers
from etamil_server.runtime import text
from etamil_server.runtime.native import jecaz
from etamil_server.runtime.values import Err, Ok, equal


def read(source, d=1):
    return jecaz.read(source, d)


def read_by_letters(source, d=1):
    """The reader without the json path."""
    src = jecaz._Source(source)
    try:
        value, position = jecaz._value(src, 0, d + 1)
    except jecaz._Failure as failure:
        return Err(failure.message)
    if jecaz._skip_white(src, position) < src.size:
        return Err(jecaz.TRAILING)
    return Ok(value)


# ------------------------------------------------------------------------------ writing


def test_writes_compact_json_with_the_definitions_escapes():
    record = {"b": D("2.50"), "a": [True, None, False], "கே": "வ", "Z": D("-0"), "r": Ok(1)}
    assert jecaz.encode(record, 1) == '{"Z":-0,"a":[true,null,false],"b":2.5,"r":null,"கே":"வ"}'
    assert jecaz.encode('q"\\/\n\t\r\r\n\x01\x08é', 1) == '"q\\"\\\\/\\n\\t\\r\\r\\n\x01\x08é"'
    # a quote joined with a combining mark is one letter, not a quote: written as it is
    assert jecaz.encode('"\u0301', 1) == '""\u0301"'
    assert jecaz.encode('வ"\u0301\n', 1) == '"வ"\u0301\\n"'


# ------------------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{"a": [1, 2.50, -3], "b": {"c": null}, "d": true}',
         Ok({"a": [D(1), D("2.50"), D(-3)], "b": {"c": None}, "d": True})),
        ('  "வணக்கம்"\r\n', Ok("வணக்கம்")),
        ('"a\\u00e9\\q\\/\\n"', Ok("au00e9q/\n")),
        ("01", Ok(D(1))),
        ("+1.50", Ok(D("1.50"))),
        ("-0", Ok(D(0))),
        ("79228162514264337593543950335", Ok(D("79228162514264337593543950335"))),
        ("79228162514264337593543950336", Err("செல்லாத எண்: 79228162514264337593543950336  (not a number)")),
        ("0.00000000000000000000000000005", Ok(D("0.0000000000000000000000000001"))),
        ("1e3", Err("செல்லாத எண்: 1e3  (not a number)")),
        ('{"a": 1, "a": 2}', Ok({"a": D(2)})),
        ('"\u0301x"', Err("ஒரு மதிப்பு எதிர்பார்க்கப்பட்டது  (expected a value)")),
        ('["\u0600"]', Err("முடிவடையாத சரம்  (unterminated string)")),
        ("NaN", Err("ஒரு மதிப்பு எதிர்பார்க்கப்பட்டது  (expected a value)")),
        ("[1,]", Err("ஒரு மதிப்பு எதிர்பார்க்கப்பட்டது  (expected a value)")),
        ("truex", Err("ஜேசான் முடிந்த பின் கூடுதல் உரை  (trailing text after the JSON value)")),
    ],
)
def test_reads(twin, source, expected):
    assert same(read(source), expected)
    kind, value = twin.check("ஜேசான்_படி", source)
    assert kind == "value" and same(value, expected)


def test_the_json_path_is_taken_for_plain_bodies_and_only_then():
    assert jecaz._by_json('{"account": "4001", "amount": 25000.50, "narration": "வாடகை"}', 1) == {
        "account": "4001", "amount": D("25000.50"), "narration": "வாடகை"}
    assert jecaz._by_json('["a\\nb\\"\\\\\\/"]', 1) == ['a\nb"\\/']
    for source in ('"a\\u00e9"', '"a\\bc"', '"வ\\n"', "1e3", "NaN", "[" * 84 + "]" * 84, '"\u0301"', '["\u0600"]', "01", "[1,]"):
        with pytest.raises(jecaz._NotTheSame):
            jecaz._by_json(source, 1)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=json_texts(), depth=st.sampled_from([1, 2, 100, 240, 250]))
def test_the_json_path_reads_what_the_letter_reader_reads(source, depth):
    try:
        through_json = Ok(jecaz._by_json(source, depth))
    except jecaz._NotTheSame:
        return
    assert same(through_json, read_by_letters(source, depth))


#: letters that never join a neighbour: with a mark after an escape (``\\nா``) or after a quote,
#: the letter-by-letter reader sees another letter, so such texts do not read back (§17.7)
_unjoined = st.lists(st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                               st.sampled_from(["\n", "\t", "\r", "\x01", "க", "அ", "வ", "é", "₹", "👍"])),
                     max_size=8).map("".join)
_roundtrip_values = st.recursive(
    st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6),
              _unjoined, st.booleans(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_unjoined, children, max_size=4)),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(value=_roundtrip_values)
def test_what_is_written_reads_back(value):
    result = read(jecaz.encode(value, 1))
    assert type(result) is Ok and equal(result.value, value)


def test_a_joined_quote_is_found_exactly_where_the_letters_join_it():
    """The json path trusts ``_JOINED_QUOTE`` to find every quote that segmentation joins to a
    neighbour: checked against the segmentation for every code point of the planes where marks
    and prepended signs live (0, 1 and 14; the others hold ideographs and private use)."""
    clusters = text._clusters()
    for plane in (range(0x80, 0x20000), range(0xE0000, 0xE1000)):
        for point in plane:
            if 0xD800 <= point <= 0xDFFF:
                continue
            letter = chr(point)
            for pair in ('"' + letter, letter + '"'):
                assert (len(clusters.findall(pair)) == 1) == bool(jecaz._JOINED_QUOTE.search(pair)), hex(point)


@settings(max_examples=400, deadline=None)
@given(number=decimals())
def test_numbers_are_written_in_their_display_form(number):
    assert jecaz.number_text(number) == numbers.display(number)
