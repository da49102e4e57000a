"""``kaNiqam.qmz`` natively (LANGUAGE.md §17.2): the definitions' arithmetic and comparisons,
step for step, through ``ops`` and ``values`` (which carry the language's rules for every kind)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import ops, values
from ..builtins.numeric import floor, round_number
from ..values import Err, Ok
from . import describes, native
from .common import HUNDRED, TWO, ZERO, length

FILE = "kaNiqam.qmz"
describes(FILE, "f003dd889058490504ac05456e218b38e4317e99d1bd9b4bccdc4e1e99da4e69")

NO_AVERAGE = "காலி அணியின் சராசரி இல்லை  (no average of an empty array)"
EMPTY = "காலி அணி  (empty array)"


def absolute(x: Any) -> Any:
    """முழுமதிப்பு(x): x itself (not converted) when x >= 0, else 0 - x."""
    if type(x) is Decimal:
        return x if x >= 0 else ops.sub(ZERO, x)
    return x if values.greater_equal(x, ZERO) else ops.sub(ZERO, x)


def total(items: Any) -> Decimal:
    """கூட்டு(arr): 0 plus every item of the for-each walk."""
    result = ZERO
    add = ops.add
    for item in ops.iterate(items):
        result = add(result, item)
    return result


def remainder(x: Any, d: Any) -> Decimal:
    """மீதி(x, d)."""
    if values.equal(d, ZERO):
        return ZERO
    return ops.sub(x, ops.mul(floor(ops.div(x, d)), d))


@native(FILE, "முழுமதிப்பு")
def _absolute(rt, d, x):
    return absolute(x)


@native(FILE, "சிறியது")
def _smaller(rt, d, a, b):
    return a if values.less(a, b) else b


@native(FILE, "பெரியது")
def _larger(rt, d, a, b):
    return a if values.greater(a, b) else b


@native(FILE, "கூட்டு")
def _total(rt, d, items):
    return total(items)


@native(FILE, "சராசரி")
def _average(rt, d, items):
    if length(items) == 0:
        return Err(NO_AVERAGE)
    return Ok(ops.div(total(items), length(items)))


def _extreme(items: Any, better) -> Ok | Err:
    if length(items) == 0:
        return Err(EMPTY)
    best = ops.index(items, ZERO)
    for item in ops.iterate(items):
        if better(item, best):
            best = item
    return Ok(best)


@native(FILE, "மிகச்சிறியது")
def _smallest(rt, d, items):
    return _extreme(items, values.less)


@native(FILE, "மிகப்பெரியது")
def _largest(rt, d, items):
    return _extreme(items, values.greater)


@native(FILE, "சதவீதம்")
def _percent(rt, d, amount, rate):
    return round_number(ops.div(ops.mul(amount, rate), HUNDRED), TWO)


@native(FILE, "முழு_எண்ணா")
def _is_whole(rt, d, x):
    return values.equal(floor(x), x)


@native(FILE, "மீதி")
def _remainder(rt, d, x, divisor):
    return remainder(x, divisor)
