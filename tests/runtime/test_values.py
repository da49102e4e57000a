"""Values against LANGUAGE.md §5 (display), §6.7 (conversion), §7.2 (equality), §7.3 (ordering),
§7.4 (truthiness) and §14.2 (type names)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etamil_server.base import numbers
from etamil_server.base.numbers import ceil
from etamil_server.runtime import ops
from etamil_server.runtime.values import (
    WHITE_SPACE,
    Err,
    Ok,
    display,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    to_number,
    type_name,
)


def D(text: str) -> Decimal:  # reads like a literal
    return Decimal(text)


NEGATIVE_ZERO = ceil(D("-0.5"))

# ------------------------------------------------------------------------------ display (§5.2)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("150.00"), "150"),
        (D("1.50"), "1.5"),
        (D("1.05"), "1.05"),
        (D("-3"), "-3"),
        (NEGATIVE_ZERO, "-0"),
        (D("0.0000000000000000000000000001"), "0.0000000000000000000000000001"),
        ("வணக்கம்", "வணக்கம்"),
        ('a "quoted"\n\\', 'a "quoted"\n\\'),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (None, "nil"),
        ([], "[]"),
        (["a", "b"], "[a, b]"),
        ([""], "[]"),
        (["a", ""], "[a, ]"),
        ([D("1.50"), True, None, {"k": []}], "[1.5, true, nil, {k: []}]"),
        ({}, "{}"),
        ({"b": D(2), "a": "x"}, "{a: x, b: 2}"),
        ({"a": D(1), "B": D(2), "அ": D(3), "_": D(4)}, "{B: 2, _: 4, a: 1, அ: 3}"),
        ({"a b": "c d"}, "{a b: c d}"),
        (Ok(D(5)), "சரி(5)"),
        (Err("பிழை"), "தவறு(பிழை)"),
        (Ok([D(1), D(2)]), "சரி([1, 2])"),
        (Ok(Err(None)), "சரி(தவறு(nil))"),
        (Ok(False), "சரி(false)"),
        ([[D("0.10")], {"x": Ok("")}], "[[0.1], {x: சரி()}]"),
    ],
)
def test_display(value, text):
    assert display(value) == text


def test_record_keys_print_in_code_point_order_not_insertion_order():
    record = {"z": D(1), "a": D(2), "Z": D(3), "10": D(4), "9": D(5)}
    assert display(record) == "{10: 4, 9: 5, Z: 3, a: 2, z: 1}"


# ------------------------------------------------------------------------- type names (§14.2)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (D(0), "a number"), (NEGATIVE_ZERO, "a number"), ("", "a string"), (True, "a boolean"),
        (False, "a boolean"), (None, "nil"), ([], "an array"), ({}, "a record"), (Ok(1), "a result"),
        (Err(1), "a result"),
    ],
)
def test_type_name(value, name):
    assert type_name(value) == name


# ----------------------------------------------------------------------- conversion (§6.7)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (D("2.50"), "2.50"),
        (True, "1"),
        (False, "0"),
        ("5", "5"),
        (" 7 ", "7"),
        ("\t\n 7.50\r\n", "7.50"),
        ("\u00a0\u2003 8 \u3000\u2028", "8"),
        ("\x85 9 \u202f", "9"),
        ("\x1c7", "0"),  # U+001C is not White_Space: no trim, no parse
        ("7\x1f", "0"),
        ("abc", "0"),
        ("", "0"),
        ("1_000", "1000"),
        ("1e3", "0"),
        ("௫", "0"),
        ("-0", "0"),
        (None, "0"),
        ([D(1), D(2)], "0"),
        ({"a": D(1)}, "0"),
        (Ok(D(5)), "0"),
        (Err(D(5)), "0"),
    ],
)
def test_to_number(value, number):
    result = to_number(value)
    assert isinstance(result, Decimal)
    assert format(result, "f") == number


def test_to_number_of_negative_zero_text_is_plain_zero():
    assert not to_number("-0").is_signed()
    assert to_number(NEGATIVE_ZERO).is_signed()  # a number converts to itself


# ----------------------------------------------------------------------------- equality (§7.2)

EQUAL_PAIRS = [
    (D(1), D("1.00")),
    (NEGATIVE_ZERO, D(0)),
    (D("0.000"), NEGATIVE_ZERO),
    ("அ", "அ"),
    (True, True),
    (False, False),
    (None, None),
    ([], []),
    ([D(1), [D(2)]], [D("1.0"), [D("2.00")]]),
    ({}, {}),
    ({"a": D(1), "b": "x"}, {"b": "x", "a": D("1.0")}),
    (Ok(D(1)), Ok(D("1.0"))),
    (Err("e"), Err("e")),
    (Ok([]), Ok([])),
]

UNEQUAL_PAIRS = [
    (D(5), "5"),
    (D(1), True),
    (D(0), False),
    ("", None),
    ([], {}),
    (D(0), None),
    ("true", True),
    ("a", "A"),
    ("கு", "கு "),
    (True, False),
    ([D(1)], [True]),
    ([D(1), D(2)], [D(2), D(1)]),
    ([D(1)], [D(1), D(1)]),
    ({"a": D(1)}, {"a": True}),
    ({"a": D(1)}, {"a": D(1), "b": D(1)}),
    ({"a": D(1)}, {"b": D(1)}),
    (Ok(D(1)), Err(D(1))),
    (Ok(D(1)), Ok(True)),
    (Ok(None), None),
    (Err(None), None),
    (Err(D(0)), D(0)),
    ([None], [D(0)]),
    (D("1.5"), D("1.50000000000000000000000001")),
]


@pytest.mark.parametrize(("a", "b"), EQUAL_PAIRS)
def test_equal(a, b):
    assert equal(a, b) is True
    assert equal(b, a) is True
    assert ops.ne(a, b) is False  # != is exactly the negation of ==


@pytest.mark.parametrize(("a", "b"), UNEQUAL_PAIRS)
def test_not_equal(a, b):
    assert equal(a, b) is False
    assert equal(b, a) is False
    assert ops.ne(a, b) is True


# ----------------------------------------------------------------------------- ordering (§7.3)

ORDERING = [less, less_equal, greater, greater_equal]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # (a < b, a <= b, a > b, a >= b)
        (D(1), D(2), (True, True, False, False)),
        (D("2.0"), D(2), (False, True, False, True)),
        (NEGATIVE_ZERO, D(0), (False, True, False, True)),
        (D("-1"), NEGATIVE_ZERO, (True, True, False, False)),
        ("B", "a", (True, True, False, False)),
        ("a", "a", (False, True, False, True)),
        ("abc", "abd", (True, True, False, False)),
        ("ab", "abc", (True, True, False, False)),
        ("z", "அ", (True, True, False, False)),
        ("10", "9", (True, True, False, False)),
        ("", "a", (True, True, False, False)),
        (D(5), "6", (True, True, False, False)),
        ("abc", D(1), (True, True, False, False)),
        ("10", D(9), (False, False, True, True)),
        (" 7 ", D(7), (False, True, False, True)),
        (D(0), "x", (False, True, False, True)),
        (True, True, (False, False, False, False)),
        (True, False, (False, False, False, False)),
        (None, None, (False, False, False, False)),
        ([D(1)], [D(1)], (False, False, False, False)),
        ([D(1)], [D(2)], (False, False, False, False)),
        ({}, {}, (False, False, False, False)),
        (Ok(D(1)), Ok(D(2)), (False, False, False, False)),
        (True, D(0), (False, False, False, False)),
        (D(0), True, (False, False, False, False)),
        (None, D(1), (False, False, False, False)),
        ("1", True, (False, False, False, False)),
        ([], "a", (False, False, False, False)),
        (D(1), [D(2)], (False, False, False, False)),
    ],
)
def test_ordering_table(a, b, expected):
    assert tuple(operator(a, b) for operator in ORDERING) == expected


def test_chained_comparison_compares_a_boolean_with_a_number():
    # 3 > 2 > 1 is (3 > 2) > 1: a boolean against a number, always false
    assert greater(greater(D(3), D(2)), D(1)) is False


ordered_values = st.one_of(
    st.decimals(min_value=-10**6, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    st.text(alphabet="0123456789 .-abAB_அ", max_size=6),
)


@given(ordered_values, ordered_values)
@settings(max_examples=200, deadline=None)
def test_ordering_is_consistent_for_numbers_and_strings(a, b):
    assert less(a, b) == greater(b, a)
    assert less_equal(a, b) == greater_equal(b, a)
    assert less(a, b) != greater_equal(a, b)  # total order on these kinds
    assert less_equal(a, b) == (less(a, b) or not (less(a, b) or greater(a, b)))
    if type(a) is str and type(b) is str:
        assert less(a, b) == ([ord(c) for c in a] < [ord(c) for c in b])
    else:
        assert less(a, b) == (to_number(a) < to_number(b))


# ---------------------------------------------------------------------------- truthiness (§7.4)


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (D(1), True), (D("-0.5"), True), (D(0), False), (D("0.00"), False), (NEGATIVE_ZERO, False),
        ("x", True), ("0", True), (" ", True), ("false", True), ("", False),
        (True, True), (False, False), (None, False),
        ([None], True), ([], False), ({"a": None}, True), ({}, False),
        (Ok(False), True), (Ok(None), True), (Ok(D(0)), True),
        (Err(True), False), (Err("x"), False),
    ],
)
def test_truthiness_is_python_truthiness(value, truthy):
    assert bool(value) is truthy


# ------------------------------------------------- the quick ways give the general path's answers

scalar_values = st.one_of(
    st.none(), st.booleans(),
    st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    st.text(alphabet="0123456789 .-+_eaஅ\t\u00a0\u3000௧", max_size=12),
)
any_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3),
                            st.builds(Ok, inner), st.builds(Err, inner)),
    max_leaves=6,
)


@given(any_values)
@settings(max_examples=600, deadline=None)
def test_to_number_is_the_trimmed_rule(value):
    result = to_number(value)
    if type(value) is str:
        by_rule = numbers.parse_by_rule(value.strip(WHITE_SPACE))
        expected = D(0) if by_rule is None else by_rule
        assert result.as_tuple() == expected.as_tuple(), value


@given(any_values, any_values)
@settings(max_examples=400, deadline=None)
def test_concatenation_is_the_two_display_forms(a, b):
    assert ops.concat(a, b) == display(a) + display(b)


@given(any_values, any_values)
@settings(max_examples=400, deadline=None)
def test_text_equality_is_code_point_equality(a, b):
    if type(a) is str and type(b) is str:
        assert equal(a, b) is (list(map(ord, a)) == list(map(ord, b)))
    assert equal(a, b) is equal(b, a)
    assert equal(a, a) is True
