"""JSON text the way the reference's JSON library (Rust ``serde_json``, without its
``arbitrary_precision`` and ``preserve_order`` features) reads and writes it: the token builtins
(HOST.md §7.7) take a payload as JSON text and give claims back as JSON text, so what goes in and
what comes out should match the reference byte for byte.

What differs from Python's ``json`` module, and is reproduced here:

* numbers: an integer that fits in 64 bits (signed or unsigned) stays an integer, any other
  number is a binary double (``12.50`` becomes ``12.5``, ``18446744073709551616`` becomes the
  double written ``1.8446744073709552e19``); ``NaN``/``Infinity`` and numbers out of the double's
  range are refused;
* strings: a lone surrogate escape (``"\\ud800"``) is refused;
* nesting: arrays and objects nest at most 127 deep;
* output: compact, object keys sorted by code point, non-ASCII written as is, doubles in the
  shortest round-trip form of Rust's ``ryu`` (``1e20``, ``1.5e-7``, ``0.00001``, ``3.0``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_INT_MIN = -(2**63)
#: Arrays and objects nest at most this deep (serde_json's recursion limit, 128, counts the top).
MAX_DEPTH = 127
_UINT_MAX = 2**64 - 1


class JsonError(ValueError):
    """The text is not JSON the reference's library would accept."""


def _parse_int(text: str) -> int | float:
    value = int(text)
    if _INT_MIN <= value <= _UINT_MAX:
        return value
    return _parse_float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JsonError("number out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise JsonError(f"{name} is not JSON")


#: Where a lone surrogate can come from: an escape for one, or one already in the text.
_MAY_HOLD_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates (Python's decoder lets ``"\\ud800"`` through; serde_json does not)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if any("\ud800" <= char <= "\udfff" for char in item):
                raise JsonError("lone surrogate in a string")
        elif type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())


def loads(text: str | bytes) -> Any:
    """Parse JSON text (bytes must be UTF-8); :class:`JsonError` when the reference's library
    would refuse it."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")  # json.loads would also guess UTF-16 and UTF-32
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JsonError(str(error)) from None
    if _MAY_HOLD_SURROGATE.search(text):
        _check_strings(value)
    if type(value) in (dict, list) and _too_deep(value):
        raise JsonError("recursion limit exceeded")
    return value


def _too_deep(value: Any) -> bool:
    """Nested deeper than serde_json's limit (it refuses the 128th level)."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [item for container in level
                 for item in (container.values() if type(container) is dict else container)
                 if type(item) in (dict, list)]
        if not level:
            return False
    return True


def float_text(value: float) -> str:
    """A finite double the way ``ryu`` (and so serde_json) writes it."""
    text = repr(value)
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    power = int(exponent or 0) - len(fraction)  # value = digits * 10**power
    if not digits:
        return sign + "0.0"
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    digits = stripped
    length = len(digits)
    point = length + power  # 10**(point-1) <= value < 10**point
    if 0 <= power and point <= 16:
        body = digits + "0" * power + ".0"
    elif 0 < point <= 16:
        body = digits[:point] + "." + digits[point:]
    elif -5 < point <= 0:
        body = "0." + "0" * -point + digits
    elif length == 1:
        body = f"{digits}e{point - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return sign + body


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        return any(_has_float(item) for item in value.values())
    if kind is list:
        return any(_has_float(item) for item in value)
    return False


def dumps(value: Any) -> str:
    """Compact JSON text with sorted keys, as serde_json writes a parsed value."""
    if not _has_float(value):  # everything else Python's (C) encoder writes exactly as serde_json
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is dict:
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif kind is list:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif kind is float:
        out.append(float_text(value))
    else:  # str, int, bool, None: Python writes these exactly as serde_json does
        out.append(json.dumps(value, ensure_ascii=False))
