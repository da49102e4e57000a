"""``paNam.qmz`` natively (LANGUAGE.md §17.5): money written the Indian way (1,23,45,678.50)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import ops, text, values
from ..builtins.numeric import floor, round_number
from . import Unusual, describes, native
from .common import HUNDRED, ONE, TWO, ZERO, length
from .kaniqam import absolute

FILE = "paNam.qmz"
describes(FILE, "cfffe2c5bc4d8aaaf1691fcf5dbe8a493299c76af0b17318ac15fdf97167bcba")

_TEN = Decimal(10)
_LAKH = Decimal(100000)
_CRORE = Decimal(10000000)


def _joined(letters: Any) -> str:
    return letters if type(letters) is str else "".join(letters)


def groups(digits: Any) -> Any:
    """குழுக்கள்(digits): the last three letters together, the ones before them in pairs."""
    n = length(digits)
    if n <= 3:
        return digits
    if type(digits) is not str:
        raise Unusual
    # The definition cuts the text with துண்டு and measures what is left again; a cut at a letter
    # boundary leaves the letters before it as they were, so cutting the list of letters is the same.
    letters = text.letters(digits)
    rest = len(letters) - 3
    parts = [_joined(letters[rest:])]
    while rest > 2:
        parts.append(_joined(letters[rest - 2 : rest]))
        rest -= 2
    parts.append(_joined(letters[:rest]))
    return ",".join(reversed(parts))


def money_text(x: Any) -> str:
    """காசு_வடிவம்(x)."""
    rounded = round_number(x, TWO)
    sign = "-" if rounded < 0 else ""
    amount = ops.mul(absolute(rounded), ONE)  # "× 1 turns a negative zero into a plain zero"
    whole = floor(amount)
    fraction = round_number(ops.mul(ops.sub(amount, whole), HUNDRED), ZERO)
    fraction_text = values.display(fraction)
    if fraction < _TEN:
        fraction_text = "0" + fraction_text
    return sign + groups(values.display(whole)) + "." + fraction_text


@native(FILE, "குழுக்கள்")
def _groups(rt, d, digits):
    return groups(digits)


@native(FILE, "காசு_வடிவம்")
def _money_text(rt, d, x):
    return money_text(x)


@native(FILE, "ரூபாய்")
def _rupees(rt, d, x):
    return "₹" + money_text(x)


@native(FILE, "காசாக")
def _to_paise_places(rt, d, x):
    return round_number(x, TWO)


@native(FILE, "லட்சம்")
def _lakhs(rt, d, x):
    return round_number(ops.div(x, _LAKH), TWO)


@native(FILE, "கோடி")
def _crores(rt, d, x):
    return round_number(ops.div(x, _CRORE), TWO)
