"""Result builtins (LANGUAGE.md §16.5) and type inspection (§16.6)."""

from __future__ import annotations

from typing import Any

from ...base.errors import EtamilError
from .. import values
from ..values import Err, Ok
from . import builtin


@builtin("சரி", "cari", "_ok", returns="result")
def ok(value: Any) -> Ok:
    return Ok(value)


@builtin("தவறு", "qavaRu", "_err", returns="result")
def err(value: Any) -> Err:
    return Err(value)


@builtin("சரியா", "cariyA", "_isOk", returns="boolean")
def is_ok(value: Any) -> bool:
    return type(value) is Ok


@builtin("தவறா", "qavaRA", "_isErr", returns="boolean")
def is_err(value: Any) -> bool:
    return type(value) is Err


@builtin("மதிப்பு", "maqippu", "_unwrap")
def unwrap(result: Any) -> Any:
    kind = type(result)
    if kind is Ok:
        return result.value
    if kind is Err:
        inner = values.display(result.value)
        raise EtamilError(f"தவறான முடிவை விரித்தது: {inner}  (unwrap on an error: {inner})")
    raise EtamilError(
        f"மதிப்பு க்கு ஒரு முடிவு தேவை  (unwrap needs a result, got {values.type_name(result)})"
    )


@builtin("தவறு_மதிப்பு", "qavaRu_maqippu", "_unwrapErr")
def unwrap_err(result: Any) -> Any:
    kind = type(result)
    if kind is Err:
        return result.value
    if kind is Ok:
        inner = values.display(result.value)
        raise EtamilError(
            f"வெற்றியான முடிவில் பிழை இல்லை: {inner}  (there is no error in a successful result: {inner})"
        )
    raise EtamilError(
        f"தவறு_மதிப்பு க்கு ஒரு முடிவு தேவை  (it needs a result, got {values.type_name(result)})"
    )


@builtin("இயல்பு", "iyalpu", "_unwrapOr")
def unwrap_or(result: Any, fallback: Any) -> Any:
    kind = type(result)
    if kind is Ok:
        return result.value
    if kind is Err:
        return fallback
    raise EtamilError(
        f"இயல்பு க்கு ஒரு முடிவு தேவை  (unwrapOr needs a result, got {values.type_name(result)})"
    )


@builtin("வகை", "vakY", "_typeof", returns="string")
def type_of(value: Any) -> str:
    """The English kind name; a success and a failure are both ``a result``."""
    return values.type_name(value)
