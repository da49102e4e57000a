"""What the natives share: constants of the definitions, and helpers for the loops the
definitions run (a counter compared with a bound; text built step by step)."""

from __future__ import annotations

import time
from decimal import ROUND_CEILING, Decimal
from typing import Any

from ...base.errors import CALL_DEPTH, EtamilError
from ...base.numbers import ONE, ZERO
from .. import limits, text
from ..builtins.collections import length
from ..values import to_number

__all__ = ["HUNDRED", "MINUS_ONE", "ONE", "TWO", "ZERO", "call_depth", "count_below", "length",
           "repeat", "simple", "wait_for_stop", "whole"]

MINUS_ONE = Decimal(-1)
TWO = Decimal(2)
HUNDRED = Decimal(100)

#: Strings longer than this are built in pieces, with a look at the run's stop list in between:
#: the definitions build them one loop iteration at a time, where a deadline can stop them.
_CHUNK = 1 << 20


def simple(value: str) -> bool:
    """Whether each code point of ``value`` is a letter of its own (the test ``text`` uses)."""
    return text._simple(value)


def whole(value: Decimal) -> bool:
    """A whole number of scale 0 that is not a negative zero: positions the natives count in
    Python ints come back as exactly the numbers the definitions would compute."""
    return value.as_tuple().exponent == 0 and not value.is_signed()


def count_below(bound: Any) -> int:
    """How many of the counters 0, 1, 2, ... satisfy ``counter < bound`` under the ordering rules
    (§7.3): a string bound is compared as a number, any kind but a number or string never."""
    kind = type(bound)
    if kind is str:
        bound = to_number(bound)
    elif kind is not Decimal:
        return 0
    if bound <= 0:
        return 0
    return int(bound.to_integral_value(rounding=ROUND_CEILING))


def repeat(rt: Any, piece: str, count: int) -> str:
    """``piece`` ``count`` times; a long result is built in pieces so that a deadline stops it.
    A result over the text limit is refused before it is built (``runtime/limits.py``)."""
    limits.check_repeat(piece, count)
    if count * len(piece) <= _CHUNK:
        return piece * count
    per_chunk = max(1, _CHUNK // len(piece))
    chunk = piece * per_chunk
    parts = []
    left = count
    while left >= per_chunk:
        if rt.stop:
            rt.stopped()
        parts.append(chunk)
        left -= per_chunk
    parts.append(piece * left)
    return "".join(parts)


def wait_for_stop(rt: Any) -> None:
    """A definition that never ends (a documented quirk): wait until the run is stopped (its
    deadline, a drain), as the definition would loop until then; without a deadline, forever."""
    while not rt.stop:
        time.sleep(0.01)
    rt.stopped()


def call_depth() -> None:
    raise EtamilError(CALL_DEPTH)
