"""Values crossing the database boundary that every driver shares (HOST.md §5.5, §5.6)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ...base import numbers
from ...runtime.values import Err, Ok, type_name
from . import messages


def number_from_float(value: float) -> Decimal | None:
    """A double as the reference turns it into a number: its shortest round-trip decimal text,
    never in exponent form (Rust's ``{}`` of an f64, so ``12.0`` is ``12``). Too large for the
    model -> None (nil); more than 28 decimal places are rounded (tiny values become 0)."""
    if not math.isfinite(value):
        return None
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return numbers.parse_text(text)


def number_from_int(value: int) -> Decimal | None:
    """An integer column value; None if it does not fit the 96-bit coefficient."""
    if -numbers.MAX_COEFFICIENT <= value <= numbers.MAX_COEFFICIENT:
        return Decimal(value)
    return None


def check_params(params: Any) -> list:
    """The parameter list of a statement: it must be an array (HOST.md §5.4)."""
    if type(params) is not list:
        raise messages.params_not_array(type_name(params))
    return params


_UNBINDABLE = (list, dict, Ok, Err)


def refuse_compound(params: list) -> None:
    """PostgreSQL and MySQL refuse arrays, records and results as parameters (HOST.md §5.5)."""
    for value in params:
        if type(value) in _UNBINDABLE:
            raise messages.cannot_bind(type_name(value))
