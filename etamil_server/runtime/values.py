"""eTamil values and their rules: kinds, display form, conversion, equality, ordering.

Representation (chosen so that Python's own truthiness *is* eTamil truthiness, §7.4):

=========  ===========================  =====================================
kind       Python value                 note
=========  ===========================  =====================================
number     ``decimal.Decimal``          see :mod:`.numbers` for the model
string     ``str``                      immutable, compared by code point
boolean    ``bool``                     ``True``/``False``
nil        ``None``
array      ``list``                     never mutated in place once shared
record     ``dict`` (str -> value)      never mutated in place once shared
result     :class:`Ok` / :class:`Err`   success always truthy, failure never
=========  ===========================  =====================================

Arrays and records have value semantics (§4): the runtime never mutates a list or dict that a
variable may share; element assignment copies first. So sharing is always safe.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..base import numbers
from ..base.numbers import ONE, ZERO


class Ok:
    """A success result ``சரி(v)``."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"


class Err:
    """A failure result ``தவறு(e)``."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"Err({self.value!r})"


_TYPE_NAMES = {
    Decimal: "a number",
    str: "a string",
    bool: "a boolean",
    type(None): "nil",
    list: "an array",
    dict: "a record",
    Ok: "a result",
    Err: "a result",
}


def type_name(value: Any) -> str:
    """The English kind name used by ``வகை`` and inside messages (§14.2)."""
    return _TYPE_NAMES[type(value)]


def display(value: Any) -> str:
    """The display form (LANGUAGE.md §5.2, HOST.md §1)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is Decimal:
        return numbers.display(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "nil"
    if kind is list:
        return "[" + ", ".join([display(item) for item in value]) + "]"
    if kind is dict:
        return "{" + ", ".join([f"{key}: {display(value[key])}" for key in sorted(value)]) + "}"
    if kind is Ok:
        return "சரி(" + display(value.value) + ")"
    if kind is Err:
        return "தவறு(" + display(value.value) + ")"
    raise TypeError(f"not an eTamil value: {value!r}")


#: The Unicode White_Space property. ``str.strip()`` would also strip U+001C..U+001F.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def to_number(value: Any) -> Decimal:
    """Conversion to number (§6.7): never fails; what does not convert is 0."""
    kind = type(value)
    if kind is Decimal:
        return value
    if kind is bool:
        return ONE if value else ZERO
    if kind is str:
        parsed = numbers.parse_common(value)  # the common shapes have nothing to trim
        if parsed is None:
            parsed = numbers.parse_text(value.strip(WHITE_SPACE))
        return ZERO if parsed is None else parsed
    return ZERO


def equal(a: Any, b: Any) -> bool:
    """``==`` (§7.2): values of different kinds are never equal; no conversion."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is str:  # the most common comparison: letters, keys, tags
        return a == b
    if kind is list:
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if kind is dict:
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if kind is Ok or kind is Err:
        return equal(a.value, b.value)
    return a == b


def _ordered_operands(a: Any, b: Any) -> tuple[Any, Any] | None:
    ka, kb = type(a), type(b)
    if ka is Decimal and kb is Decimal:
        return a, b
    if ka is str and kb is str:
        return a, b
    if (ka is Decimal and kb is str) or (ka is str and kb is Decimal):
        return to_number(a), to_number(b)
    return None


def less(a: Any, b: Any) -> bool:
    pair = _ordered_operands(a, b)
    return pair is not None and pair[0] < pair[1]


def less_equal(a: Any, b: Any) -> bool:
    pair = _ordered_operands(a, b)
    return pair is not None and pair[0] <= pair[1]


def greater(a: Any, b: Any) -> bool:
    pair = _ordered_operands(a, b)
    return pair is not None and pair[0] > pair[1]


def greater_equal(a: Any, b: Any) -> bool:
    pair = _ordered_operands(a, b)
    return pair is not None and pair[0] >= pair[1]


def number(n: int | str | Decimal) -> Decimal:
    """A model number from a Python int (counts, lengths, byte values) or exact text."""
    return Decimal(n)
