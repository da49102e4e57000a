"""Number builtins (LANGUAGE.md §16.2): rounding, floor, ceiling, text <-> number."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...base import numbers
from ...base.errors import EtamilError
from .. import values
from ..values import Err, Ok
from . import builtin

U32_MAX = 2**32 - 1

ROUND_PLACES_ERROR = "வட்டமிடு: இடங்கள் ஒரு முழு எண்  (round: places must be a whole number)"


@builtin("வட்டமிடு", "vattamitu", "_round", returns="number")
def round_number(value: Any, places: Any) -> Decimal:
    """Round half away from zero; ``places`` is truncated toward zero and must fit a u32."""
    # numbers skip the conversion call: a route rounds numbers, every request
    whole_places = numbers.truncate_to_int(places if type(places) is Decimal else values.to_number(places))
    if not 0 <= whole_places <= U32_MAX:
        raise EtamilError(ROUND_PLACES_ERROR)
    return round_decimal(value if type(value) is Decimal else values.to_number(value), whole_places)


def round_decimal(number: Decimal, places: int) -> Decimal:
    """``வட்டமிடு`` once its arguments are converted (``places`` in 0..2**32-1): the compiler calls
    this directly for a number and a literal count of places."""
    result = numbers.round_places(number, places)
    if not number and number.is_signed() and not result.is_signed():
        # A negative zero stays negative zero (§6.6); round_places only clears the sign that
        # rounding a small negative value leaves behind.
        result = result.copy_negate()
    return result


@builtin("தரை", "qarY", "_floor", returns="number")
def floor(value: Any) -> Decimal:
    return numbers.floor(values.to_number(value))


@builtin("மேல்", "mEl", "_ceil", returns="number")
def ceil(value: Any) -> Decimal:
    """Smallest whole number >= the value; for values in (-1, 0) that is negative zero (§6.6)."""
    return numbers.ceil(values.to_number(value))


@builtin("சொல்லாக்கு", "collAkku", "_toString", returns="string")
def to_string(value: Any) -> str:
    return values.display(value)


@builtin("எண்ணாக்கு", "eNNAkku", "_toNumber", returns="result", ok="number")
def to_number(value: Any) -> Ok | Err:
    """Parse the trimmed text of ``value`` (§6.8); the failure quotes the untrimmed text."""
    if type(value) is str:  # the common shapes need no display form and no trimming
        common = numbers.parse_common(value)
        if common is not None:
            return Ok(common)
    text = values.display(value)
    parsed = numbers.parse_text(text.strip(values.WHITE_SPACE))
    if parsed is None:
        return Err(f"'{text}' ஒரு எண் அல்ல  ('{text}' is not a number)")
    return Ok(parsed)
