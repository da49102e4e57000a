"""Exact decimal numbers with the reference's rules (LANGUAGE.md §6, Appendix B).

A number is a ``decimal.Decimal`` whose exponent lies in [-28, 0] and whose coefficient is at
most 2**96 - 1: the model of the Rust ``rust_decimal`` crate the reference uses. The scale
(``-exponent``) is kept exactly as upstream computes it, because three error messages print it.

Two paths compute every operation:

* the *fast path*: plain ``Decimal`` operators run under :data:`FAST_CONTEXT` (28 digits, tiny
  exponent -28, ``Rounded`` and ``Clamped`` trapped). When an exact result fits in 28 digits at
  scale <= 28 it is exactly the reference's result; anything else traps and goes to ...
* the *exact path* (``add``, ``sub``, ``mul``, ``div``): integer arithmetic on coefficient and
  scale, reproducing the crate's rounding (half to even), its division routine (ported from .NET's
  ``VarDecDiv``) and its zero rules. It is slow and only runs when the fast path cannot answer.

Python's ``decimal`` with a fixed precision alone is not enough: the reference keeps 28 *or* 29
significant digits depending on the leading digits, and has its own rules for zero operands.
"""

from __future__ import annotations

import decimal
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from .errors import DIVISION_BY_ZERO, EtamilError, EtamilOverflow

MAX_COEFFICIENT = 2**96 - 1
MAX_SCALE = 28

#: Arithmetic under this context either gives the reference's exact answer or raises
#: ``decimal.Rounded``/``decimal.Clamped`` (an ``ArithmeticError``): see the module docstring.
FAST_CONTEXT = decimal.Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emin=-1,  # with prec 28 the smallest exponent (Etiny) is -28: scale never exceeds 28
    Emax=28,
    traps=[
        decimal.Rounded,
        decimal.Clamped,
        decimal.Overflow,
        decimal.InvalidOperation,
        decimal.DivisionByZero,
    ],
)

#: Wide enough that sums and products of two model numbers are exact.
_EXACT = decimal.Context(
    prec=400,
    rounding=ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

#: ``div``'s quick division: FAST_CONTEXT's rules in a context of its own, so that the flags its
#: traps leave behind never reach FAST_CONTEXT (every run's context is a copy of that one)
_QUICK_DIVISION = FAST_CONTEXT.copy()

ZERO = Decimal(0)
ONE = Decimal(1)
_POW10 = [10**i for i in range(80)]
#: 1, 0.1, ..., 1E-28: the exponents ``quantize`` rounds to, made once
_QUANTA = tuple(ONE.scaleb(-places) for places in range(MAX_SCALE + 1))
#: 1, 1.0, 1.00, ...: multiplying by one of these appends that many zeros
_UNITS = tuple(Decimal("1." + "0" * places) for places in range(MAX_SCALE + 1))


def _plain_text(d: Decimal) -> str | None:
    """``str(d)`` when it is plain positional text (no exponent), else ``None``.

    ``str`` is the quickest way into a Decimal's digits; it writes an exponent only for numbers
    below 1E-6 and for positive exponents (which model numbers never have), so the common numbers
    take this path and the rest go through ``as_tuple``."""
    written = str(d)
    if "E" in written or "e" in written:  # "e": a context with capitals=0 writes it so
        return None
    return written


def parts(d: Decimal) -> tuple[bool, int, int]:
    """(negative, coefficient, scale) of a model number."""
    written = _plain_text(d)
    if written is not None:
        whole, _, fraction = written.partition(".")
        return whole[0] == "-", abs(int(whole + fraction)), len(fraction)
    sign, digits, exponent = d.as_tuple()
    coefficient = int("".join(map(str, digits))) if digits else 0
    if exponent > 0:  # never produced by this module, but be total
        return bool(sign), coefficient * _POW10[exponent], 0
    return bool(sign), coefficient, -exponent


def scale_of(d: Decimal) -> int:
    """The scale (``-exponent``) of a model number."""
    written = _plain_text(d)
    if written is None:
        return -d.as_tuple().exponent
    dot = written.find(".")
    return 0 if dot < 0 else len(written) - dot - 1


def make(negative: bool, coefficient: int, scale: int) -> Decimal:
    """Build a number like the crate's ``from_parts``: a zero coefficient is never negative."""
    # an int converts exactly and scaleb only moves the exponent (prec 400 never rounds here),
    # which is quicker than formatting and parsing a text
    return Decimal(-coefficient if negative else coefficient).scaleb(-scale, _EXACT)


def _overflow(what: str) -> EtamilOverflow:
    return EtamilOverflow(f"எண் வரம்பு மீறல்  (decimal overflow: {what} overflowed)")


def _round_div(value: int, divisor: int, half_even: bool) -> int:
    q, r = divmod(value, divisor)
    if r:
        twice = 2 * r
        if twice > divisor or (twice == divisor and (not half_even or q & 1)):
            q += 1
    return q


def fit(negative: bool, coefficient: int, scale: int, half_even: bool = True, what: str = "Addition") -> Decimal:
    """Round an exact value to the largest scale <= 28 at which its coefficient fits 96 bits."""
    if scale <= MAX_SCALE and coefficient <= MAX_COEFFICIENT:
        return make(negative, coefficient, scale)
    s = min(scale, MAX_SCALE)
    while s >= 0:
        shift = scale - s  # texts and doubles can carry hundreds of places: past the table
        q = _round_div(coefficient, _POW10[shift] if shift < 80 else 10**shift, half_even)
        if q <= MAX_COEFFICIENT:
            return make(negative, q, s)
        s -= 1
    raise _overflow(what)


def overflow(what: str) -> None:
    """Raise the overflow error (compiled whole-number arithmetic calls this)."""
    raise _overflow(what)


def _fit_decimal(exact: Decimal, what: str) -> Decimal:
    return fit(*parts(exact), what=what)


# ---------------------------------------------------------------------------------------------
# exact path of the four operations


def add(a: Decimal, b: Decimal) -> Decimal:
    """``a + b`` with the crate's rules: a zero left operand gives the right one as is."""
    if not a:
        return b
    if not b:
        return a
    return _fit_decimal(_EXACT.add(a, b), "Addition")


def sub(a: Decimal, b: Decimal) -> Decimal:
    if not a:
        return b.copy_negate() if b else b
    if not b:
        return a
    return _fit_decimal(_EXACT.subtract(a, b), "Subtraction")


def mul(a: Decimal, b: Decimal) -> Decimal:
    if not a or not b:
        return ZERO
    na, ca, sa = parts(a)
    nb, cb, sb = parts(b)
    return fit(na != nb, ca * cb, sa + sb, what="Multiplication")


def _search_scale(quotient: int, scale: int) -> int:
    """How many more decimal digits the quotient can take (the .NET ``SearchScale``)."""
    if scale <= MAX_SCALE - 9 and quotient * _POW10[9] <= MAX_COEFFICIENT:
        return 9
    limit = min(9, MAX_SCALE - scale)
    k = 0
    while k < limit and quotient * _POW10[k + 1] <= MAX_COEFFICIENT:
        k += 1
    if k + scale < 0:
        raise _overflow("Division")
    return k


def _overflow_unscale(full: int, scale: int, sticky: bool) -> tuple[int, int]:
    scale -= 1
    if scale < 0:
        raise _overflow("Division")
    q, r = divmod(full, 10)
    if r > 5 or (r == 5 and (sticky or q & 1)):
        q += 1
    return q, scale


def _unscale(quotient: int, scale: int) -> tuple[int, int]:
    """Trailing-zero removal after an inexact division, with the crate's exact tests."""
    while quotient & 0xFFFFFFFF == 0 and scale >= 8 and quotient % 100000000 == 0:
        quotient //= 100000000
        scale -= 8
    if quotient & 0xF == 0 and scale >= 4 and quotient % 10000 == 0:
        quotient //= 10000
        scale -= 4
    if quotient & 3 == 0 and scale >= 2 and quotient % 100 == 0:
        quotient //= 100
        scale -= 2
    if quotient & 1 == 0 and scale >= 1 and quotient % 10 == 0:
        quotient //= 10
        scale -= 1
    return quotient, scale


def div(a: Decimal, b: Decimal) -> Decimal:
    """``a / b``: the reference's division routine, digit for digit (LANGUAGE.md §6.4, App. B).

    When the quotient is exact in 28 digits (FAST_CONTEXT's rules divide without trapping), its value
    is the reference's and only its scale is left to find: :func:`_exact_quotient`. Anything else
    (a rounded quotient, an overflow, a number written with an exponent, a divisor with more
    decimals than the dividend) takes the long division of :func:`div_exact`."""
    if not b:
        raise EtamilError(DIVISION_BY_ZERO)
    if not a:
        return ZERO
    try:
        quotient = _QUICK_DIVISION.divide(a, b)
    except ArithmeticError:
        return div_exact(a, b)
    # the scales from the texts, written out here: this runs for every division
    written, left, right = str(quotient), str(a), str(b)
    if "E" in written or "E" in left or "E" in right or "e" in written or "e" in left or "e" in right:
        return div_exact(a, b)
    dot = left.find(".")
    start = 0 if dot < 0 else len(left) - dot - 1
    dot = right.find(".")
    if dot >= 0:
        start -= len(right) - dot - 1
    whole, _, fraction = written.partition(".")
    if len(fraction) == start:
        return quotient
    found = _exact_quotient(quotient, whole, fraction, start)
    return div_exact(a, b) if found is None else found


def _exact_quotient(quotient: Decimal, whole: str, fraction: str, start: int) -> Decimal | None:
    """The reference's result for an exact ``quotient`` (written ``whole.fraction``), given
    ``start`` = scale(a) - scale(b) and that the scale of ``quotient`` is not ``start``;
    ``None``: let the long division decide.

    The long division starts at scale ``start`` with the whole quotient; it is exact there
    exactly when Python's quotient has that scale (its *ideal exponent*), which ``div`` answers
    itself. Otherwise the division adds digits in steps (``_search_scale``: 9 at a time while
    they fit) until the remainder is zero, that is until its scale reaches or passes the exact
    quotient's smallest scale — Python's scale here — and ends with ``zeros`` = the difference in
    trailing zeros. ``_unscale`` then strips them: 8 at a time while the coefficient is a multiple
    of 2**32 (the crate's test of a whole 32-bit word), then 4, 2 and 1 once each (for those its
    bit tests follow from the decimal ones). So none stays when fewer than 8 are left after the
    8-steps, else all but 7: 1 / 2 is 0.50 (9 digits added, 8 zeros, 1 kept)."""
    smallest = len(fraction)
    if start < 0 or smallest < start:  # the second is not Python's rule: never seen, do not guess
        return None
    coefficient = abs(int(whole + fraction))
    scale = start
    while scale < smallest:
        step = _search_scale(coefficient // _POW10[smallest - scale], scale)
        if step == 0:
            return None
        scale += step
    zeros = scale - smallest
    if zeros >= 8:
        twos = (coefficient & -coefficient).bit_length() - 1  # the coefficient's factors of 2
        while zeros >= 8 and twos + zeros >= 32:
            zeros -= 8
    if zeros <= 7:
        return quotient
    return _EXACT.multiply(quotient, _UNITS[zeros - 7])  # 1 at scale k: appends k zeros


def div_exact(a: Decimal, b: Decimal) -> Decimal:
    """The long division of :func:`div` for every operand (``div`` tries a quicker way first)."""
    if not b:
        raise EtamilError(DIVISION_BY_ZERO)
    if not a:
        return ZERO
    na, ca, sa = parts(a)
    nb, cb, sb = parts(b)
    scale = sa - sb
    quotient, remainder = divmod(ca, cb)
    if quotient > MAX_COEFFICIENT:
        raise _overflow("Division")
    inexact = False
    while True:
        if remainder == 0:
            if scale < 0:
                step = min(9, -scale)
                scale += step
                quotient *= _POW10[step]
                if quotient > MAX_COEFFICIENT:
                    raise _overflow("Division")
                continue
            break
        inexact = True
        step = 0 if scale == MAX_SCALE else _search_scale(quotient, scale)
        if step == 0:
            twice = 2 * remainder
            if twice > cb or (twice == cb and quotient & 1):
                quotient += 1
                if quotient > MAX_COEFFICIENT:
                    quotient, scale = _overflow_unscale(quotient, scale, True)
            break
        scale += step
        quotient *= _POW10[step]
        digits, remainder = divmod(remainder * _POW10[step], cb)
        quotient += digits
        if quotient > MAX_COEFFICIENT:
            quotient, scale = _overflow_unscale(quotient, scale, remainder != 0)
            break
    if inexact:
        quotient, scale = _unscale(quotient, scale)
    return make(na != nb, quotient, scale)


def neg(a: Decimal) -> Decimal:
    """Unary minus is exactly ``0 - a``."""
    return sub(ZERO, a)


# ---------------------------------------------------------------------------------------------
# rounding builtins


def floor(a: Decimal) -> Decimal:
    return a.to_integral_value(rounding=ROUND_FLOOR, context=_EXACT)


def ceil(a: Decimal) -> Decimal:
    # Python's ceiling of a number in (-1, 0) is -0, as is the crate's (LANGUAGE.md §6.6).
    return a.to_integral_value(rounding=ROUND_CEILING, context=_EXACT)


def round_places(a: Decimal, places: int) -> Decimal:
    """Round half away from zero to ``places`` decimals; ``places`` >= scale returns ``a``."""
    if places >= MAX_SCALE or places >= scale_of(a):
        return a
    result = a.quantize(_QUANTA[places], rounding=ROUND_HALF_UP, context=_EXACT)
    if not result and result.is_signed():
        result = result.copy_abs()  # a small negative value rounds to plain zero
    return result


def truncate_to_int(a: Decimal) -> int:
    """The integer part, toward zero (used for counts, places, days, exit statuses)."""
    return int(a)


# ---------------------------------------------------------------------------------------------
# text


def display(d: Decimal) -> str:
    """The display form (LANGUAGE.md §5.2): no trailing fractional zeros, never an exponent."""
    text = str(d)  # quicker than format(d, "f"), which writes the same where str has no exponent
    if "E" in text or "e" in text:  # (see _plain_text; written out: JSON writes every number so)
        text = format(d, "f")
    if "." in text:
        text = text.rstrip("0")
        if text[-1] == ".":
            text = text[:-1]
    return text


def display_scaled(d: Decimal) -> str:
    """The number with its scale visible (Appendix B): ``5.0`` stays ``5.0``."""
    return format(d, "f")


_TEXT_NUMBER = re.compile(r"[+-]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)")
_LITERAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


#: Digits that can matter in a literal or a number text: a whole part longer than this (leading
#: zeros aside) cannot fit 96 bits, and rounding half up to at most 28 places reads the 29th
#: fraction digit and no further. Cutting texts to them keeps ``int()`` under CPython's limit on
#: the digits it converts (4,300), which a long literal or request value would otherwise hit.
_WHOLE_DIGITS = len(str(MAX_COEFFICIENT))
_FRACTION_DIGITS = MAX_SCALE + 1


def _from_digits(text: str) -> Decimal | None:
    negative = text.startswith("-")
    body = text.lstrip("+-").replace("_", "")
    whole, _, fraction = body.partition(".")
    whole = whole.lstrip("0")
    if len(whole) > _WHOLE_DIGITS:
        return None
    if len(fraction) > _FRACTION_DIGITS:
        fraction = fraction[:_FRACTION_DIGITS]
    coefficient = int((whole or "0") + fraction)
    try:
        value = fit(negative, coefficient, len(fraction), half_even=False)
    except EtamilOverflow:
        return None
    if not value and value.is_signed():
        value = value.copy_abs()
    return value


def parse_common(text: str) -> Decimal | None:
    """Text to number for the common shapes — ASCII digits with at most one ``.``, an optional
    sign, at most 28 digits — and ``None`` for any other text (which may still be a number:
    :func:`parse_text` decides). Such a text has no white space to trim, and ``Decimal`` reads it
    exactly as the rule does: its coefficient fits and its scale is the number of decimals."""
    if not text.isascii():
        return None
    whole, _, fraction = text.partition(".")
    sign = whole[:1]
    if sign == "-" or sign == "+":
        whole = whole[1:]
    if not (whole.isdigit() or (not whole and fraction)) or (fraction and not fraction.isdigit()):
        return None
    if len(whole) + len(fraction) > MAX_SCALE:
        return None
    value = Decimal(text)
    if sign == "-" and not value:
        return value.copy_abs()  # "-0.00" is plain 0.00
    return value


def parse_text(text: str) -> Decimal | None:
    """Text to number (LANGUAGE.md §6.8), without trimming; ``None`` if it is not a number."""
    common = parse_common(text)
    return common if common is not None else parse_by_rule(text)


def parse_by_rule(text: str) -> Decimal | None:
    """:func:`parse_text` for any text, by the rule's pattern and digits (no quick shapes)."""
    if not _TEXT_NUMBER.fullmatch(text):
        return None
    return _from_digits(text)


def parse_literal(text: str) -> Decimal | None:
    """A number literal of the source; ``None`` when its integer part does not fit."""
    return _from_digits(text)


def percent(value: Decimal) -> Decimal:
    """A percent literal is the language's own ``n / 100``."""
    return div(value, Decimal(100))
