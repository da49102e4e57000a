"""The exact decimal model against LANGUAGE.md §5.2, §6 and Appendix B.

The property tests compare ``numbers.add/sub/mul/div`` with an oracle written from the spec's rule
alone (Python ``Fraction`` arithmetic, then "round half to even to the largest scale <= 28 at which
the coefficient fits 2**96 - 1"), and the fast path (plain ``Decimal`` operators under
``FAST_CONTEXT``) with the exact path.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError, EtamilOverflow
from etamil_server.base.numbers import display, display_scaled

MAX = 2**96 - 1
DIVISION_BY_ZERO = "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"


def D(text: str) -> Decimal:  # reads like a literal
    return Decimal(text)


def scale(number: Decimal) -> int:
    return -number.as_tuple().exponent


def is_negative_zero(number: Decimal) -> bool:
    return number.is_zero() and number.is_signed()


def model(negative: bool, coefficient: int, places: int) -> Decimal:
    """A model number, negative zero included when asked for."""
    return Decimal(f"{'-' if negative else ''}{coefficient}E-{places}")


coefficients = st.one_of(
    st.integers(0, MAX),
    st.integers(0, 10**6),
    st.integers(0, 10**15),
    st.sampled_from([0, 1, 5, 9, 10, 25, 100, MAX, MAX - 1, MAX // 10, 10**28 - 1, 10**28, 2**64]),
)
model_numbers = st.builds(model, st.booleans(), coefficients, st.integers(0, 28))


# ------------------------------------------------------------------------------------- the oracle


class OracleOverflow(Exception):
    pass


def fraction(number: Decimal) -> Fraction:
    return Fraction(number)


def fit(value: Fraction) -> Fraction:
    """The spec's rounding rule: half to even at the largest scale <= 28 whose coefficient fits."""
    magnitude = abs(value)
    for places in range(28, -1, -1):
        coefficient = round(magnitude * 10**places)  # round() on a Fraction is half to even
        if coefficient <= MAX:
            result = Fraction(coefficient, 10**places)
            return -result if value < 0 else result
    raise OracleOverflow


def exact_at(value: Fraction, places: int) -> int | None:
    """The coefficient of ``value`` at ``places`` if it is a whole number there."""
    scaled = abs(value) * 10**places
    return scaled.numerator if scaled.denominator == 1 else None


def check_against_oracle(result_or_error, exact: Fraction, natural_scale: int | None) -> None:
    """``natural_scale``: the scale the result must have when no rounding is needed."""
    try:
        expected = fit(exact)
    except OracleOverflow:
        assert isinstance(result_or_error, EtamilOverflow), result_or_error
        return
    assert isinstance(result_or_error, Decimal), result_or_error
    result = result_or_error
    assert fraction(result) == expected
    assert scale(result) <= 28
    sign, digits, _ = result.as_tuple()
    assert int("".join(map(str, digits))) <= MAX
    if natural_scale is not None and natural_scale <= 28:
        coefficient = exact_at(exact, natural_scale)
        if coefficient is not None and coefficient <= MAX:
            assert scale(result) == natural_scale, (result, natural_scale)


def outcome(operation, a: Decimal, b: Decimal):
    try:
        return operation(a, b)
    except EtamilOverflow as error:
        return error


# -------------------------------------------------------------------- property (b): the oracle


@given(model_numbers, model_numbers)
@settings(max_examples=400, deadline=None)
@example(D("7922816251426433759354395033"), D("0.5"))
@example(D("7922816251426433759354395034"), D("0.5"))
@example(D(str(MAX)), D("1"))
@example(D(str(MAX)), D("0.4"))
@example(D(str(MAX)), D("0.5"))
def test_add_agrees_with_the_oracle(a, b):
    result = outcome(numbers.add, a, b)
    if a.is_zero():
        assert result.as_tuple() == b.as_tuple()  # the right operand as is
    elif b.is_zero():
        assert result.as_tuple() == a.as_tuple()
    else:
        check_against_oracle(result, fraction(a) + fraction(b), max(scale(a), scale(b)))
        if isinstance(result, Decimal):
            assert not is_negative_zero(result)


@given(model_numbers, model_numbers)
@settings(max_examples=400, deadline=None)
@example(D(str(-MAX)), D("1"))
@example(D("1"), D("1"))
@example(D("-1.5"), D("-1.50"))
def test_sub_agrees_with_the_oracle(a, b):
    result = outcome(numbers.sub, a, b)
    if a.is_zero():
        expected = b.copy_negate() if not b.is_zero() else b
        assert result.as_tuple() == expected.as_tuple()
    elif b.is_zero():
        assert result.as_tuple() == a.as_tuple()
    else:
        check_against_oracle(result, fraction(a) - fraction(b), max(scale(a), scale(b)))
        if isinstance(result, Decimal):
            assert not is_negative_zero(result)


@given(model_numbers, model_numbers)
@settings(max_examples=400, deadline=None)
@example(D("1.23456789"), D("1.23456789"))
@example(D(str(MAX)), D("2"))
@example(D("0.0000000000000000000000000001"), D("0.5"))
@example(D("0.00000000000001"), D("0.000000000000001"))
def test_mul_agrees_with_the_oracle(a, b):
    result = outcome(numbers.mul, a, b)
    if a.is_zero() or b.is_zero():
        assert result.as_tuple() == Decimal(0).as_tuple()  # plain 0, scale 0
    else:
        check_against_oracle(result, fraction(a) * fraction(b), scale(a) + scale(b))


@given(model_numbers, model_numbers)
@settings(max_examples=400, deadline=None)
@example(D("1"), D("3"))
@example(D("9"), D("1.1"))
@example(D(str(MAX)), D("0.1"))
@example(D(str(MAX)), D("0.9999999999999999999999999999"))
@example(D("1"), D("0.0000000000000000000000000003"))
@example(D("0.0000000000000000000000000001"), D("2"))
@example(D("0.0000000000000000000000000005"), D("2"))
def test_div_agrees_with_the_oracle(a, b):
    if b.is_zero():
        with pytest.raises(EtamilError) as caught:
            numbers.div(a, b)
        assert caught.value.message == DIVISION_BY_ZERO
        assert not isinstance(caught.value, EtamilOverflow)
        return
    result = outcome(numbers.div, a, b)
    if a.is_zero():
        assert result.as_tuple() == Decimal(0).as_tuple()
        return
    check_against_oracle(result, fraction(a) / fraction(b), None)


# ------------------------------------------------------- property (c): the fast path is the same


def fast(operation, a: Decimal, b: Decimal) -> Decimal | None:
    with decimal.localcontext(numbers.FAST_CONTEXT):
        try:
            if operation == "+":
                return a + b
            if operation == "-":
                return a - b
            return a * b or numbers.ZERO
        except ArithmeticError:
            return None


@given(model_numbers, model_numbers)
@settings(max_examples=500, deadline=None)
@example(D("1.5"), D("-1.50"))
@example(D("0.1"), D("0.2"))
@example(D("9999999999999999999999999999"), D("1"))
def test_fast_add_and_sub_equal_the_exact_path(a, b):
    assume(not a.is_zero() and not b.is_zero())
    for operation, exact in (("+", numbers.add), ("-", numbers.sub)):
        result = fast(operation, a, b)
        if result is not None:
            assert result.as_tuple() == exact(a, b).as_tuple(), (operation, a, b)


@given(model_numbers, model_numbers)
@settings(max_examples=500, deadline=None)
@example(D("-0"), D("5.5"))
@example(D("0.00"), D("-3"))
@example(D("0.5"), D("0.2"))
def test_fast_mul_equals_the_exact_path(a, b):
    result = fast("*", a, b)
    if result is not None:
        assert result.as_tuple() == numbers.mul(a, b).as_tuple(), (a, b)


def test_fast_path_answers_common_cases():
    # the property above must not be vacuous: ordinary money arithmetic stays on the fast path
    assert fast("+", D("0.1"), D("0.2")) == D("0.3")
    assert fast("*", D("99.99"), D("3")) == D("299.97")
    assert fast("+", D(str(MAX)), D("1")) is None


# ------------------------------------------ property (d): the quick ways give the general answers

#: small coefficients and scales: the shapes money arithmetic has, where the quick ways answer
everyday_numbers = st.builds(model, st.booleans(), st.integers(0, 10**9), st.integers(0, 12))
any_numbers = st.one_of(model_numbers, everyday_numbers)


def outcome_or_message(operation, a: Decimal, b: Decimal):
    try:
        return operation(a, b).as_tuple()
    except EtamilError as error:
        return type(error), error.message


@given(any_numbers, any_numbers)
@settings(max_examples=1500, deadline=None)
@example(D("1"), D("2"))  # 0.50: one trailing zero the long division keeps
@example(D("180.09"), D("2"))
@example(D("18009.00"), D("100"))
@example(D("1"), D("1024"))
@example(D("1"), D("0.5"))  # a divisor with more decimals
@example(D("0.00000001"), D("3"))  # a quotient written with an exponent
@example(D("1"), D("0.000000000000000000000000001"))  # 10**27: exact, 28 digits
@example(D("3"), D("0.0000000000000000000000000001"))  # 29 digits: the long division decides
@example(D("1073741824"), D("1"))
@example(D("1"), D("2147483648"))  # the 2**32 word test of the crate's unscale
@example(D("-5"), D("0"))
def test_div_equals_the_long_division(a, b):
    assert outcome_or_message(numbers.div, a, b) == outcome_or_message(numbers.div_exact, a, b), (a, b)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("18009.00", "100", "180.09"), ("180.09", "2", "90.0450"), ("1", "2", "0.50"), ("1", "4", "0.25"),
     ("-7", "2", "-3.50"), ("9", "3", "3"),
     ("1", "1024", "0.00097656250"), ("1.00", "4", "0.25")],
)
def test_exact_quotients_skip_the_long_division(monkeypatch, a, b, expected):
    # the property above must not be vacuous: exact quotients of everyday numbers are answered
    # without the long division
    def refuse(*_):
        raise AssertionError("long division")

    monkeypatch.setattr(numbers, "div_exact", refuse)
    assert display_scaled(numbers.div(D(a), D(b))) == expected


def test_rounded_quotients_take_the_long_division():
    assert display_scaled(numbers.div(D("2"), D("3"))) == "0.6666666666666666666666666667"
    assert display_scaled(numbers.div(D("100"), D("0.5"))) == "200"  # Python writes 2.0E+2


@given(model_numbers)
@settings(max_examples=500, deadline=None)
@example(D("-0"))
@example(D("-0.000"))
@example(D("0E-28"))
@example(D("0.0000001"))  # str writes 1E-7
@example(D("-0.000000123"))
def test_parts_scale_and_make_are_the_tuple_rules(number):
    sign, digits, exponent = number.as_tuple()
    coefficient = int("".join(map(str, digits)))
    assert numbers.parts(number) == (bool(sign), coefficient, -exponent)
    assert numbers.scale_of(number) == -exponent
    made = numbers.make(bool(sign), coefficient, -exponent)
    expected = number.copy_abs() if number.is_zero() else number  # a zero is never negative
    assert made.as_tuple() == expected.as_tuple()


@given(model_numbers)
@settings(max_examples=500, deadline=None)
@example(D("-0.00"))
@example(D("0.0000000100"))
def test_display_is_the_positional_text_without_trailing_zeros(number):
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    assert display(number) == text


number_texts = st.one_of(
    st.text(alphabet="0123456789.+-_ eE", max_size=32),
    st.builds(lambda n: display_scaled(n), model_numbers),
    st.builds(lambda sign, whole, fraction: sign + whole + fraction,
              st.sampled_from(["", "-", "+", "--"]), st.text(alphabet="0123456789", max_size=30),
              st.sampled_from(["", "."]).flatmap(lambda dot: st.text(alphabet="0123456789", max_size=30).map(
                  lambda digits: dot + digits))),
)


@given(number_texts)
@settings(max_examples=1500, deadline=None)
@example("1000.50")
@example("-0.00")
@example("5.")
@example(".5")
@example("-.5")
@example(".")
@example("9" * 28)
@example("9" * 29)
@example("0." + "0" * 27 + "1")
@example("0." + "0" * 28 + "1")
@example("١")
def test_parse_common_gives_the_rule_or_nothing(text):
    common = numbers.parse_common(text)
    by_rule = numbers.parse_by_rule(text)
    if common is not None:
        assert by_rule is not None and common.as_tuple() == by_rule.as_tuple(), text
    parsed = numbers.parse_text(text)
    assert (parsed is None) == (by_rule is None)
    if parsed is not None:
        assert parsed.as_tuple() == by_rule.as_tuple()


def test_parse_common_reads_the_everyday_shapes():
    for text, expected in (("1000.50", "1000.50"), ("18", "18"), ("-2.5", "-2.5"), ("+7", "7"), ("-0", "0")):
        assert display_scaled(numbers.parse_common(text)) == expected
    for text in ("1_000", " 5", "1e3", "", "-", "௧"):
        assert numbers.parse_common(text) is None


@given(model_numbers, st.integers(0, 40))
@settings(max_examples=800, deadline=None)
@example(D("2.345"), 2)
@example(D("-0.004"), 2)
@example(D("1.50"), 2)
@example(D("0.0000000000000000000000000005"), 27)
def test_round_places_is_half_up_at_the_smaller_scale(number, places):
    rounded = numbers.round_places(number, places)
    if places >= scale(number):
        assert rounded is number
        return
    expected = number.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP,
                               context=decimal.Context(prec=100))
    if expected.is_zero():
        expected = expected.copy_abs()
    assert rounded.as_tuple() == expected.as_tuple()


# ----------------------------------------------------- property (a): display and parse_text agree


@given(model_numbers)
@settings(max_examples=400, deadline=None)
@example(D("-0"))
@example(D("0E-28"))
@example(D(str(MAX)))
@example(D("0.0000000000000000000000000001"))
def test_display_then_parse_text_gives_the_same_number(number):
    parsed = numbers.parse_text(display(number))
    assert parsed is not None
    assert parsed == number
    coefficient = int("".join(map(str, number.as_tuple().digits)))
    if scale(number) == 0 or coefficient % 10:
        assert scale(parsed) == scale(number)


# ------------------------------------------------------------------------- §6.2 - §6.4 examples


@pytest.mark.parametrize(
    ("operation", "a", "b", "expected"),
    [
        (numbers.add, "0.1", "0.2", "0.3"),
        (numbers.add, "7922816251426433759354395033", "0.5", "7922816251426433759354395033.5"),
        (numbers.add, "7922816251426433759354395034", "0.5", "7922816251426433759354395034"),
        (numbers.add, "1.50", "1", "2.50"),
        (numbers.add, "0.5", "0.5", "1.0"),
        (numbers.sub, "1.00", "0.5", "0.50"),
        (numbers.sub, "1", "1", "0"),
        (numbers.sub, "2.5", "2.50", "0.00"),
        (numbers.mul, "99.99", "3", "299.97"),
        (numbers.mul, "0.5", "0.2", "0.10"),
        (numbers.mul, "1.5", "-2", "-3.0"),
        (numbers.mul, "0.00", "5", "0"),
        (numbers.mul, "3", "-0", "0"),
    ],
)
def test_exact_path_examples(operation, a, b, expected):
    assert display_scaled(operation(D(a), D(b))) == expected


def test_multiplication_rounding_example():
    value = D("1.23456789")
    product = numbers.mul(numbers.mul(numbers.mul(value, value), value), value)
    assert display(product) == "2.3230572279825924415009379825"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1", "3", "0.3333333333333333333333333333"),
        ("2", "3", "0.6666666666666666666666666667"),
        ("10", "3", "3.3333333333333333333333333333"),
        ("9", "1.1", "8.181818181818181818181818182"),
        ("1", "7", "0.1428571428571428571428571429"),
        ("7", "2", "3.5"),
    ],
)
def test_division_examples_of_6_4(a, b, expected):
    assert display(numbers.div(D(a), D(b))) == expected


def test_division_half_even_at_the_28th_place():
    t = D("0.0000000000000000000000000001")
    assert numbers.div(t, D(2)) == 0
    assert display(numbers.div(numbers.mul(t, D(5)), D(2))) == "0.0000000000000000000000000002"
    assert display(numbers.mul(numbers.div(D(2), D(7)), D(7))) == "1.9999999999999999999999999999"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("20", "100", "0.20"),
        ("12.5", "100", "0.125"),
        ("100", "100", "1"),
        ("1", "4", "0.25"),
        ("10", "4", "2.50"),
        ("6", "2.0", "3.0"),
        ("600", "2.0", "300"),
        ("3", "0.5", "6.0"),
        ("7.0", "7.00", "1.0"),
        ("1", "8", "0.125"),
    ],
)
def test_observed_division_scales_of_appendix_b(a, b, expected):
    assert display_scaled(numbers.div(D(a), D(b))) == expected


@pytest.mark.parametrize(("text", "expected"), [("20", "0.20"), ("12.5", "0.125"), ("100", "1"), ("18", "0.18")])
def test_percent_is_division_by_100(text, expected):
    assert display_scaled(numbers.percent(D(text))) == expected


@pytest.mark.parametrize("divisor", ["0", "-0", "0.00", "0E-28"])
def test_division_by_any_zero(divisor):
    with pytest.raises(EtamilError) as caught:
        numbers.div(D("5"), D(divisor))
    assert caught.value.message == DIVISION_BY_ZERO


@pytest.mark.parametrize(
    ("operation", "a", "b"),
    [
        (numbers.add, str(MAX), "1"),
        (numbers.add, str(-MAX), "-0.5"),
        (numbers.sub, str(-MAX), "1"),
        (numbers.sub, str(MAX), "-1"),
        (numbers.mul, str(MAX), "2"),
        (numbers.mul, "10000000000000000", "10000000000000"),
        (numbers.div, str(MAX), "0.1"),
        (numbers.div, "10", "0.0000000000000000000000000001"),
    ],
)
def test_overflow_raises_etamil_overflow(operation, a, b):
    with pytest.raises(EtamilOverflow):
        operation(D(a), D(b))
    assert issubclass(EtamilOverflow, EtamilError)


def test_largest_values_do_not_overflow():
    assert numbers.add(D(str(MAX - 1)), D("1")) == MAX
    assert numbers.add(D(str(MAX)), D("0.4")) == MAX
    assert numbers.div(D(str(MAX)), D("1")) == MAX
    assert numbers.div(D("1"), D("0.000000000000000000000000001")) == 10**27


# ------------------------------------------------------------------------- negative zero (§6.6)

NEGATIVE_ZERO = numbers.ceil(D("-0.5"))


def test_ceiling_between_minus_one_and_zero_is_negative_zero():
    for value in ("-0.5", "-0.2", "-0.0000000000000000000000000001", "-0.99"):
        result = numbers.ceil(D(value))
        assert is_negative_zero(result) and scale(result) == 0
        assert display(result) == "-0"


def test_floor_ceiling_and_rounding_of_negative_zero_stay_negative_zero():
    assert is_negative_zero(numbers.floor(NEGATIVE_ZERO))
    assert is_negative_zero(numbers.ceil(NEGATIVE_ZERO))
    for places in (0, 2, 28):
        assert is_negative_zero(numbers.round_places(NEGATIVE_ZERO, places))


@pytest.mark.parametrize(
    ("operation", "a", "b", "negative_zero"),
    [
        (numbers.add, "0", "-0", True),  # left zero: the right operand as is
        (numbers.sub, "0", "-0", True),  # ... negated only when non-zero
        (numbers.add, "-0", "-0", True),
        (numbers.sub, "-0", "0", False),
        (numbers.add, "-0", "0", False),
        (numbers.sub, "1", "1", False),
        (numbers.add, "-1.5", "1.5", False),
        (numbers.mul, "-0", "5", False),
        (numbers.mul, "-0", "-5", False),
        (numbers.div, "-0", "3", False),
        (numbers.div, "0", "-3", False),
    ],
)
def test_negative_zero_arithmetic(operation, a, b, negative_zero):
    result = operation(D(a), D(b))
    assert result == 0
    assert is_negative_zero(result) is negative_zero


def test_zero_left_operand_gives_the_right_operand_unchanged():
    assert numbers.add(NEGATIVE_ZERO, D("2.50")).as_tuple() == D("2.50").as_tuple()
    assert numbers.sub(NEGATIVE_ZERO, D("2.50")).as_tuple() == D("-2.50").as_tuple()
    assert numbers.add(D("0.000"), D("7")).as_tuple() == D("7").as_tuple()
    assert numbers.sub(D("0.000"), D("0.0")).as_tuple() == D("0.0").as_tuple()
    assert numbers.add(D("7.5"), D("0.000")).as_tuple() == D("7.5").as_tuple()
    assert numbers.sub(D("7.5"), D("-0")).as_tuple() == D("7.5").as_tuple()


def test_unary_minus_is_zero_minus():
    assert not is_negative_zero(numbers.neg(D("0")))
    assert is_negative_zero(numbers.neg(NEGATIVE_ZERO))
    assert numbers.neg(D("2.50")).as_tuple() == D("-2.50").as_tuple()
    assert numbers.neg(D("-3")).as_tuple() == D("3").as_tuple()


def test_literal_text_and_rounding_give_plain_zero():
    assert not is_negative_zero(numbers.parse_text("-0"))
    assert not is_negative_zero(numbers.parse_text("-0.00"))
    assert not is_negative_zero(numbers.round_places(D("-0.4"), 0))
    assert not is_negative_zero(numbers.round_places(D("-0.004"), 2))


# --------------------------------------------------------------------------- rounding builtins


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.345", 2, "2.35"),
        ("-2.345", 2, "-2.35"),
        ("2.5", 0, "3"),
        ("-2.5", 0, "-3"),
        ("3.5", 0, "4"),
        ("1.005", 2, "1.01"),
        ("0.125", 2, "0.13"),
        ("2.999", 2, "3.00"),
        ("2.3456", 2, "2.35"),
        ("-0.4", 0, "0"),
        ("1.5", 5, "1.5"),
        ("1.50", 2, "1.50"),
        ("7", 0, "7"),
    ],
)
def test_round_places_half_away_from_zero_with_scale_min(value, places, expected):
    assert display_scaled(numbers.round_places(D(value), places)) == expected


@pytest.mark.parametrize(
    ("value", "floor", "ceil"),
    [
        ("2.1", "2", "3"),
        ("-2.1", "-3", "-2"),
        ("2.50", "2", "3"),
        ("150.00", "150", "150"),
        ("-1", "-1", "-1"),
        ("0.00", "0", "0"),
        ("-0.5", "-1", "-0"),
        ("0.0000000000000000000000000001", "0", "1"),
        (str(MAX), str(MAX), str(MAX)),
        ("7922816251426433759354395033.5", "7922816251426433759354395033", "7922816251426433759354395034"),
    ],
)
def test_floor_and_ceiling_have_scale_zero(value, floor, ceil):
    assert display_scaled(numbers.floor(D(value))) == floor
    assert display_scaled(numbers.ceil(D(value))) == ceil


# ------------------------------------------------------------------------- text to number (§6.8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", "42"),
        ("007", "7"),
        ("1_000", "1000"),
        ("1__0", "10"),
        ("+5", "5"),
        ("-5.50", "-5.50"),
        (".5", "0.5"),
        ("5.", "5"),
        ("-0", "0"),
        ("0.00000000000000000000000000025", "0.0000000000000000000000000003"),
        ("-0.00000000000000000000000000025", "-0.0000000000000000000000000003"),
        (str(MAX), str(MAX)),
        ("1.0000000000000000000000000000", "1.0000000000000000000000000000"),
    ],
)
def test_parse_text_accepts(text, expected):
    result = numbers.parse_text(text)
    assert result is not None
    assert display_scaled(result) == expected


@pytest.mark.parametrize(
    "text",
    [
        "", " ", " 42 ", "1e3", "1E3", "2.5e0", "0x10", "௧", "௧௨", "١", "_1", "+-1", "--1", "++1",
        "1.2.3", "1 2", "abc", "+", "-", ".", "1,000", "12a", "5%", "∞", "NaN", "Infinity", "inf",
        str(MAX + 1), "99999999999999999999999999999.5",
    ],
)
def test_parse_text_rejects(text):
    assert numbers.parse_text(text) is None


# ------------------------------------------------------------------------------- display (§5.2)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("150.00", "150"),
        ("1.50", "1.5"),
        ("1.05", "1.05"),
        ("-2.500", "-2.5"),
        ("0.00", "0"),
        ("0", "0"),
        ("-0", "-0"),
        ("-7", "-7"),
        ("0.0000000000000000000000000001", "0.0000000000000000000000000001"),
        ("1E-28", "0.0000000000000000000000000001"),
        (str(MAX), str(MAX)),
        ("12345678901234567890", "12345678901234567890"),
        ("7.9228162514264337593543950335", "7.9228162514264337593543950335"),
    ],
)
def test_display(number, text):
    assert display(D(number)) == text


def test_display_scaled_keeps_trailing_zeros():
    assert display_scaled(D("5.0")) == "5.0"
    assert display_scaled(D("-0.50")) == "-0.50"
    assert display_scaled(D("1E-3")) == "0.001"
    assert display_scaled(D("0E-2")) == "0.00"


def test_texts_longer_than_pythons_digit_limit():
    """CPython converts at most 4,300 digits to an int; a number text from a request may be longer.
    Only the digits that can matter are read: a too-long whole part does not fit, a long fraction
    rounds half up at 28 places as a short one does."""
    from etamil_server.base.numbers import parse_literal, parse_text

    assert parse_text("9" * 100_000) is None
    assert parse_literal("1" + "0" * 5000) is None
    assert parse_text("0" * 100_000 + "12.5") == Decimal("12.5")
    assert str(parse_text("2." + "3" * 100_000)) == "2." + "3" * 28
    assert str(parse_text("0." + "4" * 27 + "5" + "0" * 10_000)) == "0." + "4" * 27 + "5"
    assert str(parse_text("0." + "4" * 28 + "5" + "0" * 10_000 + "1")) == "0." + "4" * 27 + "5"
    assert str(parse_text("-7." + "9" * 9_000)) == "-8." + "0" * 27  # 8 x 10**28 does not fit 96 bits: 27 places
    assert parse_text("-7." + "9" * 9_000) == parse_text("-7." + "9" * 100)  # as a short text rounds
