"""Byte builtins (LANGUAGE.md §16.7): text to UTF-8 byte values and back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...base import numbers
from ...base.errors import EtamilError
from .. import limits, values
from ..values import Err, Ok
from . import builtin

# The long runs of spaces are in the upstream message texts (35 and 27 spaces).
_BAD_BYTE = "இடம் {p} இல் '{x}' ஒரு பைட்டு அல்ல" + " " * 35 + (
    "(position {p}: '{x}' is not a byte, expected a whole number 0-255)"
)
NOT_UTF8 = "இந்தப் பைட்டுகள் செல்லுபடியான UTF-8 அல்ல" + " " * 27 + "(these bytes are not valid UTF-8)"

#: The byte values as numbers, built once: pYttukaL runs over every byte of its input.
_BYTE_NUMBERS = tuple(values.number(n) for n in range(256))


@builtin("பைட்டுகள்", "pYttukaL", "_bytes", returns="array")
def to_bytes(value: Any) -> list[Decimal]:
    """The UTF-8 encoding of the text of ``value``, one number 0-255 per byte."""
    # eTamil text is always valid Unicode; "surrogatepass" only keeps a stray lone surrogate
    # (which no eTamil source can hold) from becoming a Python traceback.
    encoded = values.display(value).encode("utf-8", "surrogatepass")
    limits.check_items(len(encoded))
    return [_BYTE_NUMBERS[byte] for byte in encoded]


def _byte(position: int, element: Any) -> int:
    number = values.to_number(element)
    if number == number.to_integral_value() and 0 <= number <= 255:
        return int(number)
    scaled = numbers.display_scaled(number)
    raise EtamilError(_BAD_BYTE.format(p=position, x=scaled))


@builtin("பைட்டுச்_சரம்", "pYttuc_caram", "_fromBytes", returns="result")
def from_bytes(array: Any) -> Ok | Err:
    """``சரி(text)`` for valid UTF-8; a non-byte element is a runtime error, not a failure."""
    if type(array) is not list:
        raise EtamilError(
            f"பைட்டுச்_சரம் ஒரு அணி தேவை  (fromBytes needs an array, got {values.type_name(array)})"
        )
    raw = bytes([_byte(position, element) for position, element in enumerate(array)])
    try:
        return Ok(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Err(NOT_UTF8)
