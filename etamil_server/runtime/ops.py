"""The operations compiled code calls when it cannot use a plain Python operator.

Each function implements one language rule for operands of any kind (LANGUAGE.md §7, §10, §11).
The compiler inlines plain operators where the kinds are known (numbers with numbers, strings with
strings) and calls these otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..base import numbers
from ..base.errors import (
    CALL_DEPTH,
    RETURN_OUTSIDE,
    EtamilError,
    arity_error,
    not_implemented,
    unknown_function,
)
from ..base.errors import undefined_variable as _undefined
from . import limits, text
from .values import Err, Ok, display, equal, to_number, type_name

_D = Decimal

# ------------------------------------------------------------------------------ arithmetic


# The operand conversions below are written out in each function rather than shared: these run
# for every operation whose operand kinds the compiler could not prove, and a helper call per
# operation costs more than the operation itself.


def add(a: Any, b: Any) -> Decimal:
    if type(a) is not _D:
        a = to_number(a)
    if type(b) is not _D:
        b = to_number(b)
    if a and b:
        try:
            return a + b
        except ArithmeticError:
            pass
    return numbers.add(a, b)


def sub(a: Any, b: Any) -> Decimal:
    if type(a) is not _D:
        a = to_number(a)
    if type(b) is not _D:
        b = to_number(b)
    if a and b:
        try:
            return a - b
        except ArithmeticError:
            pass
    return numbers.sub(a, b)


def mul(a: Any, b: Any) -> Decimal:
    if type(a) is not _D:
        a = to_number(a)
    if type(b) is not _D:
        b = to_number(b)
    try:
        return a * b or numbers.ZERO
    except ArithmeticError:
        return numbers.mul(a, b)


def div(a: Any, b: Any) -> Decimal:
    if type(a) is not _D:
        a = to_number(a)
    if type(b) is not _D:
        b = to_number(b)
    return numbers.div(a, b)


def neg(a: Any) -> Decimal:
    return numbers.sub(numbers.ZERO, a if type(a) is _D else to_number(a))


def concat(a: Any, b: Any) -> str:
    # texts, the common operands, are their own display form: no call for them; the limit is
    # checked before the join, so a text past it is never built (runtime/limits.py)
    if type(a) is not str:
        a = display(a)
    if type(b) is not str:
        b = display(b)
    if len(a) + len(b) > limits.quick_chars:
        limits.join_too_large(a, b)
    return a + b


# ------------------------------------------------------------------------------ comparison

eq = equal


def ne(a: Any, b: Any) -> bool:
    return not equal(a, b)


# ------------------------------------------------------------------------------ indexing


def _index_number(index: Any, length: int) -> int:
    number = index if type(index) is _D else to_number(index)
    if number != number.to_integral_value():
        raise EtamilError(
            "அட்டவணை முழு எண்ணாக இருக்க வேண்டும்  "
            f"(array index must be a whole number, got {numbers.display_scaled(number)})"
        )
    position = int(number)
    if position < 0 or position >= length:
        shown = numbers.display_scaled(number)
        raise EtamilError(
            f"அட்டவணை {shown} வரம்பிற்கு வெளியே (நீளம் {length})  (index {shown} out of bounds, length {length})"
        )
    return position


def index(base: Any, key: Any) -> Any:
    kind = type(base)
    if kind is list:
        return base[_index_number(key, len(base))]
    if kind is dict:
        name = key if type(key) is str else display(key)
        try:
            return base[name]
        except KeyError:
            raise EtamilError(f"புலம் '{name}' இல்லை  (no field '{name}' on this record)") from None
    if kind is str:
        letters = text.letters(base)
        return letters[_index_number(key, len(letters))]
    raise EtamilError(f"அட்டவணைப்படுத்த முடியாது  (cannot index into {type_name(base)})")


def field(base: Any, key: str) -> Any:
    if type(base) is dict:
        try:
            return base[key]
        except KeyError:
            raise EtamilError(f"புலம் '{key}' இல்லை  (no field '{key}' on this record)") from None
    raise EtamilError(f"'{key}' ஒரு பொருள் அல்ல  ('.{key}' needs a record, got {type_name(base)})")


def set_index(key: Any, value: Any, base: Any, var: str) -> Any:
    """``var[key] = value``: a modified copy of ``base`` (value semantics)."""
    kind = type(base)
    if kind is list:
        position = _index_number(key, len(base))
        copy = base.copy()
        copy[position] = value
        return copy
    if kind is dict:
        copy = base.copy()
        copy[key if type(key) is str else display(key)] = value
        if len(copy) > limits.max_items:  # a new field
            limits.check_items(len(copy))
        return copy
    raise EtamilError(f"'{var}' ஐ அட்டவணைப்படுத்த முடியாது  (cannot index into {type_name(base)})")


def set_field(value: Any, base: Any, key: str, var: str) -> Any:
    if type(base) is dict:
        copy = base.copy()
        copy[key] = value
        if len(copy) > limits.max_items:  # a new field
            limits.check_items(len(copy))
        return copy
    raise EtamilError(
        f"'{var}' ஒரு பொருள் அல்ல  ('{var}.{key}' needs a record, got {type_name(base)})"
    )


def iterate(collection: Any) -> Any:
    """The items a for-each walks (§9.3): a snapshot, since nothing mutates shared values."""
    kind = type(collection)
    if kind is list:
        return collection
    if kind is dict:
        return sorted(collection)
    if kind is str:
        return text.letters(collection)
    raise EtamilError(f"இதை சுற்ற முடியாது  (cannot iterate over {type_name(collection)})")


def hidden_items(collection: Any) -> list:
    """The items upstream's hidden ``#each_items_N`` variable holds (the REPL lists it)."""
    items = iterate(collection)
    return items if type(items) is list else list(items)


# ------------------------------------------------------------------------------ results


class Propagate(Exception):
    """``?`` on a failure inside a function: the function returns the same failure."""

    def __init__(self, failure: Err):
        self.value = failure


def try_in_function(value: Any) -> Any:
    kind = type(value)
    if kind is Ok:
        return value.value
    if kind is Err:
        raise Propagate(value)
    raise EtamilError(f"'?' க்கு ஒரு முடிவு தேவை  ('?' needs a result, got {type_name(value)})")


def try_at_top(value: Any) -> Any:
    kind = type(value)
    if kind is Ok:
        return value.value
    if kind is Err:
        shown = display(value.value)
        raise EtamilError(f"கையாளப்படாத தவறு: {shown}  (unhandled error at top level: {shown})")
    raise EtamilError(f"'?' க்கு ஒரு முடிவு தேவை  ('?' needs a result, got {type_name(value)})")


# ------------------------------------------------------------------------------ failures


def undefined(name: str, *_evaluated: Any) -> Any:
    raise _undefined(name)


def unknown_call(name: str, *_arguments: Any) -> Any:
    raise unknown_function(name)


def wrong_arity(name: str, expected: int, *arguments: Any) -> Any:
    raise arity_error(name, expected, len(arguments))


def call_depth() -> Any:
    raise EtamilError(CALL_DEPTH)


def return_outside(*_value: Any) -> Any:
    raise EtamilError(RETURN_OUTSIDE)


def unsupported(label: str) -> Any:
    raise not_implemented(label)


# ------------------------------------------------------------------------------ ordering

from .values import greater, greater_equal, less, less_equal  # noqa: E402

__all_ordering__ = (less, less_equal, greater, greater_equal)


def record_first(entries: list[tuple[str, Any]]) -> dict[str, Any]:
    """A record literal with a repeated key keeps the first value (quirk, §10.2)."""
    record: dict[str, Any] = {}
    for key, value in entries:
        record.setdefault(key, value)
    return record


# ------------------------------------------------------------------------------ responses


def response_read(response: dict[str, Any], name: str) -> Any:
    """The response variables live in the run context (the server reads them from there)."""
    try:
        return response[name]
    except KeyError:
        raise _undefined(name) from None


def respond(response: dict[str, Any], status: Any, body: Any, headers: Any) -> None:
    """``பதில் status, body [, headers];`` — always writes the globals (HOST.md §4.7.1)."""
    response["response_status"] = status
    response["response_body"] = display(body)
    response["response_headers"] = headers
