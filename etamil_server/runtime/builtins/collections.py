"""Collection builtins (LANGUAGE.md §16.1, and ``ஒன்றிணை`` of §16.3).

Arrays and records are shared, never mutated in place (INTERNALS.md): ``இணை`` builds a new list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...base.errors import EtamilError
from .. import limits, text, values
from . import builtin


@builtin("நீளம்", "nILam", "_length", returns="number")
def length(value: Any) -> Decimal:
    """Elements of an array, fields of a record, or letters (grapheme clusters) of a string."""
    kind = type(value)
    if kind is str:
        return values.number(text.letter_count(value))
    if kind is list or kind is dict:
        return values.number(len(value))
    raise EtamilError(
        "நீளம் ஒரு அணி/பொருள்/சொல் தேவை  "
        f"(length needs an array, record or string, got {values.type_name(value)})"
    )


@builtin("இணை", "iNY", "_append", returns="array")
def append(array: Any, value: Any) -> list[Any]:
    """A new array: ``array`` with ``value`` at the end; the argument itself is left alone."""
    if type(array) is not list:
        # The Tamil part of the upstream message says சேர் ("add"), not இணை.
        raise EtamilError(f"சேர் ஒரு அணி தேவை  (append needs an array, got {values.type_name(array)})")
    if len(array) >= limits.max_items:
        limits.check_items(len(array) + 1)
    return [*array, value]


# `_join` is also the hard keyword for SQL JOIN, so programs cannot reach it (LANGUAGE.md §15);
# it is registered anyway so the registry lists all three spellings.
@builtin("ஒன்றிணை", "oZRiNY", "_join", returns="string")
def join(array: Any, separator: Any) -> str:
    """The display forms of the elements joined by the text of ``separator``."""
    if type(array) is not list:
        raise EtamilError(f"ஒன்றிணை ஒரு அணி தேவை  (join needs an array, got {values.type_name(array)})")
    return limits.check_text(values.display(separator).join([values.display(item) for item in array]))
