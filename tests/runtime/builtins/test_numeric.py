from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError
from etamil_server.runtime import values
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.builtins.numeric import ceil, floor, round_number, to_number, to_string
from etamil_server.runtime.values import WHITE_SPACE, Err, Ok, display

ROUND_ERROR = "வட்டமிடு: இடங்கள் ஒரு முழு எண்  (round: places must be a whole number)"


def scale(number):
    return -number.as_tuple().exponent


@pytest.mark.parametrize(
    ("spellings", "function", "arity", "returns"),
    [
        (("வட்டமிடு", "vattamitu", "_round"), round_number, 2, "number"),
        (("தரை", "qarY", "_floor"), floor, 1, "number"),
        (("மேல்", "mEl", "_ceil"), ceil, 1, "number"),
        (("சொல்லாக்கு", "collAkku", "_toString"), to_string, 1, "string"),
        (("எண்ணாக்கு", "eNNAkku", "_toNumber"), to_number, 1, "result"),
    ],
)
def test_registered_under_three_spellings(spellings, function, arity, returns):
    for spelling in spellings:
        entry = BUILTINS[spelling]
        assert entry.function is function
        assert (entry.name, entry.arity, entry.returns) == (spellings[0], arity, returns)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.345", 2, "2.35"),
        ("-2.345", 2, "-2.35"),
        ("2.5", 0, "3"),
        ("-2.5", 0, "-3"),
        ("1.005", 2, "1.01"),
        ("2.344", 2, "2.34"),
        ("0.5", 0, "1"),
    ],
)
def test_round_half_away_from_zero(value, places, expected):
    assert display(round_number(D(value), D(places))) == expected


def test_round_places_are_truncated_toward_zero():
    assert round_number(D("2.345"), D("1.9")) == D("2.3")
    assert round_number(D("2.345"), D("-0.9")) == D("2")  # truncates to 0, which is allowed
    assert round_number(D("2.345"), "abc") == D("2")  # non-numeric text is 0 places
    assert round_number(D("2.345"), " 2 ") == D("2.35")
    assert round_number(D("2.345"), True) == D("2.3")


def test_round_result_scale_is_min_of_scale_and_places():
    assert scale(round_number(D("1.23456"), D(2))) == 2
    assert scale(round_number(D("1.20"), D(5))) == 2
    assert scale(round_number(D("2.5"), D(0))) == 0


def test_round_with_places_at_least_the_scale_returns_the_value_unchanged():
    value = D("1.50")
    assert round_number(value, D(2)) is value
    assert round_number(value, D(4294967295)) is value


def test_round_converts_its_first_argument():
    assert round_number("3.14159", D(2)) == D("3.14")
    assert round_number(True, D(0)) == D(1)
    assert round_number([D(1)], D(0)) == D(0)


@pytest.mark.parametrize("places", [D(-1), D("-1.5"), D(4294967296), D("100000000000000000000"), "-3"])
def test_round_places_negative_or_too_large_is_an_error(places):
    with pytest.raises(EtamilError) as caught:
        round_number(D("1.5"), places)
    assert caught.value.message == ROUND_ERROR


def test_round_to_zero_gives_plain_zero():
    result = round_number(D("-0.4"), D(0))
    assert result == 0 and not result.is_signed()
    assert display(result) == "0"
    assert not round_number(D("-0.004"), D(2)).is_signed()


def test_round_of_negative_zero_stays_negative_zero():
    negative_zero = ceil(D("-0.5"))
    result = round_number(negative_zero, D(0))
    assert result.is_signed() and display(result) == "-0"
    assert display(round_number(D("-0.00"), D(1))) == "-0"


def test_floor():
    assert floor(D("-2.1")) == D(-3)
    assert floor(D("2.9")) == D(2)
    assert floor(D("5.00")) == D(5)
    assert floor("7.5") == D(7)
    assert floor(None) == D(0)
    assert scale(floor(D("5.00"))) == 0
    assert scale(floor(D("-2.1"))) == 0


def test_ceil():
    assert ceil(D("2.1")) == D(3)
    assert ceil(D("-2.1")) == D(-2)
    assert ceil(D("4")) == D(4)
    assert ceil("1.01") == D(2)
    assert scale(ceil(D("2.10"))) == 0


@pytest.mark.parametrize("value", ["-0.5", "-0.2", "-0.0000000000000000000000000001"])
def test_ceil_between_minus_one_and_zero_is_negative_zero(value):
    result = ceil(D(value))
    assert result == 0 and result.is_signed()
    assert display(result) == "-0"


def test_floor_and_ceil_of_negative_zero_stay_negative_zero():
    negative_zero = ceil(D("-0.5"))
    assert display(floor(negative_zero)) == "-0"
    assert display(ceil(negative_zero)) == "-0"


def test_floor_of_minus_half_is_minus_one_not_negative_zero():
    assert display(floor(D("-0.5"))) == "-1"
    assert display(floor(D("0.5"))) == "0"


def test_to_string_is_the_display_form():
    assert to_string(D("150.00")) == "150"
    assert to_string(D("1.50")) == "1.5"
    assert to_string(True) == "true"
    assert to_string(None) == "nil"
    assert to_string(["a", D(1)]) == "[a, 1]"
    assert to_string(Err("x")) == "தவறு(x)"
    assert to_string("text") == "text"


def test_to_number_success():
    result = to_number(" 42 ")
    assert type(result) is Ok and result.value == D(42)
    assert to_number(D(5)).value == D(5)
    assert to_number("1_000").value == D(1000)
    assert to_number("+5").value == D(5)
    assert to_number(".5").value == D("0.5")
    assert to_number("5.").value == D(5)
    parsed = to_number("-5.50").value
    assert parsed == D("-5.5") and scale(parsed) == 2


def test_to_number_of_minus_zero_is_plain_zero():
    parsed = to_number("-0").value
    assert parsed == 0 and not parsed.is_signed()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        ("abc", "abc"),
        (" 1e3 ", " 1e3 "),  # untrimmed in the message
        ("", ""),
        ("_1", "_1"),
        ("--1", "--1"),
        ("1.2.3", "1.2.3"),
        ("௧", "௧"),
        (None, "nil"),
        ([D(1)], "[1]"),
        ("79228162514264337593543950336", "79228162514264337593543950336"),
    ],
)
def test_to_number_failure_quotes_the_untrimmed_text(value, text):
    result = to_number(value)
    assert type(result) is Err
    assert result.value == f"'{text}' ஒரு எண் அல்ல  ('{text}' is not a number)"


model_numbers = st.builds(
    numbers.make,
    st.booleans(),
    st.integers(min_value=0, max_value=numbers.MAX_COEFFICIENT),
    st.integers(min_value=0, max_value=numbers.MAX_SCALE),
)


@given(model_numbers)
def test_to_number_reads_back_the_display_form(number):
    assert to_number(to_string(number)).value == number


@given(model_numbers, st.integers(min_value=0, max_value=30))
def test_round_matches_half_up_quantize_and_stays_close(number, places):
    result = round_number(number, D(places))
    if places >= scale(number):
        assert result is number
    else:
        expected = number.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)
        assert result == expected
        assert scale(result) == places
        assert abs(result - number) <= D(5).scaleb(-places - 1)


@given(model_numbers)
def test_floor_and_ceil_bracket_the_value(number):
    low, high = floor(number), ceil(number)
    assert low <= number <= high
    assert high - low in (0, 1)
    assert (high - low == 0) == (number == number.to_integral_value())


# ------------------------------------------ the quick ways for numbers and texts give the rule's answers

conversion_inputs = st.one_of(
    st.text(alphabet="0123456789 .-+_eE\t\u00a0௧a", max_size=14),
    st.builds(lambda n: numbers.display_scaled(n), model_numbers),
    st.builds(lambda n: " " + numbers.display(n), model_numbers),
    model_numbers, st.booleans(), st.none(), st.lists(model_numbers, max_size=2),
)


@given(conversion_inputs)
@settings(max_examples=800, deadline=None)
def test_to_number_is_the_rule_on_the_trimmed_display_form(value):
    text = display(value)
    by_rule = numbers.parse_by_rule(text.strip(WHITE_SPACE))
    result = to_number(value)
    if by_rule is None:
        assert type(result) is Err and result.value == f"'{text}' ஒரு எண் அல்ல  ('{text}' is not a number)"
    else:
        assert type(result) is Ok and result.value.as_tuple() == by_rule.as_tuple()


@given(st.one_of(model_numbers, conversion_inputs), st.one_of(st.integers(0, 30).map(D), conversion_inputs))
@settings(max_examples=800, deadline=None)
def test_round_converts_both_arguments_first(value, places):
    # the rule: places and value go through §6.7's conversion, then round_places
    whole_places = int(values.to_number(places))
    try:
        result = round_number(value, places)
    except EtamilError as error:
        assert error.message == ROUND_ERROR and not 0 <= whole_places <= 2**32 - 1
        return
    number = values.to_number(value)
    expected = numbers.round_places(number, whole_places)
    if number.is_zero() and number.is_signed():
        expected = expected.copy_negate() if not expected.is_signed() else expected
    assert result.as_tuple() == expected.as_tuple()
