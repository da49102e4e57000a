"""``col.qmz`` natively (LANGUAGE.md §17.1): strings, positions and counts in letters.

The functions below take the same steps as the definitions, with whole strings instead of one
letter per loop iteration; for arguments that are not strings most of them are the definition's
steps written out in Python (``ops``/``values`` carry the language rules), a few hand the call to
the definition.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from .. import limits, ops, text, values
from ..builtins.strings import split
from . import Unusual, describes, native
from .common import MINUS_ONE, ONE, ZERO, count_below, length, repeat, simple, wait_for_stop

FILE = "col.qmz"
describes(FILE, "75896bbae741d8da35d6c0a18c59657821e7f9ffe96090aa97609373ebca5fc2")


def letter(s: Any, i: Any) -> Any:
    """எழுத்து(s, i)."""
    n = length(s)
    if values.less(i, ZERO) or values.greater_equal(i, n):
        return ""
    return ops.index(s, i)


def piece(s: Any, start: Any, count: Any) -> str:
    """துண்டு(s, start, count)."""
    n = length(s)
    limit = ops.add(start, count)  # the definition's loop test adds them before anything else
    if type(s) is str and type(start) is Decimal and type(count) is Decimal:
        if not (start < limit and start < n):
            return ""
        if start < 0 or start != start.to_integral_value():
            ops.index(s, start)  # the index error of the first letter read
        letters = text.letters(s)
        end = min(int(n), int(limit.to_integral_value(rounding=ROUND_CEILING)))
        chosen = letters[int(start):end]
        return chosen if type(chosen) is str else "".join(chosen)
    parts = []
    position = start
    while values.less(position, limit) and values.less(position, n):
        parts.append(values.display(ops.index(s, position)))
        position = ops.add(position, ONE)
    return "".join(parts)


def search(s: Any, t: Any) -> Decimal:
    """தேடு(s, t): the letters before the first letter-aligned occurrence."""
    length(s)
    if length(t) == 0:
        return ZERO
    if type(s) is str and type(t) is str and simple(s):
        # every code point of s is a letter: a plain search is the letter-aligned one
        found = s.find(t)
        return Decimal(found) if found >= 0 else MINUS_ONE
    pieces = split(s, t)
    if len(pieces) < 2:
        return MINUS_ONE
    return length(pieces[0])


def starts_with(s: Any, p: Any) -> bool:
    n = length(s)
    pn = length(p)
    if pn > n:
        return False
    if type(s) is not str:
        raise Unusual
    if simple(s):
        # s holds only one-code-point letters: p can be its first letters only letter for letter
        return type(p) is str and s.startswith(p)
    return "".join(text.letters(s)[: int(pn)]) == p


def ends_with(s: Any, p: Any) -> bool:
    n = length(s)
    pn = length(p)
    if pn > n:
        return False
    if type(s) is not str:
        raise Unusual
    if simple(s):
        return type(p) is str and s.endswith(p)
    return "".join(text.letters(s)[int(n - pn):]) == p


def trim(s: Any) -> Any:
    length(s)
    if type(s) is not str:
        raise Unusual
    if simple(s):
        return s.strip(" ")
    letters = text.letters(s)
    start, end = 0, len(letters)
    while start < end and letters[start] == " ":
        start += 1
    while end > start and letters[end - 1] == " ":
        end -= 1
    return "".join(letters[start:end])


@native(FILE, "எழுத்து")
def _letter(rt, d, s, i):
    return letter(s, i)


@native(FILE, "துண்டு")
def _piece(rt, d, s, start, count):
    return piece(s, start, count)


@native(FILE, "தேடு")
def _search(rt, d, s, t):
    return search(s, t)


@native(FILE, "கொண்டுள்ளதா")
def _contains(rt, d, s, t):
    return search(s, t) >= 0


@native(FILE, "தொடங்குகிறதா")
def _starts_with(rt, d, s, p):
    return starts_with(s, p)


@native(FILE, "முடிகிறதா")
def _ends_with(rt, d, s, p):
    return ends_with(s, p)


@native(FILE, "ஒழுங்கு")
def _trim(rt, d, s):
    return trim(s)


@native(FILE, "திரும்பச்செய்")
def _repeat(rt, d, s, n):
    count = count_below(n)
    return repeat(rt, values.display(s), count) if count else ""


@native(FILE, "இடமிருந்து_நிரப்பு")
def _pad_left(rt, d, v, width, pad):
    result = values.display(v)
    if not values.less(values.number(text.letter_count(result)), width):
        return result
    padding = values.display(pad)
    if not padding:
        wait_for_stop(rt)  # the quirk of §17.1: the definition never ends
    if simple(padding) and simple(result):
        # one letter per code point, before and after: every step adds len(padding) letters
        bound = width if type(width) is Decimal else values.to_number(width)
        target = int(bound.to_integral_value(rounding=ROUND_CEILING))
        steps = -(-(target - len(result)) // len(padding))
        return repeat(rt, padding, steps) + result
    while True:  # letters may join across the seam: count them after every step, as written
        if rt.stop:
            rt.stopped()
        result = limits.check_text(padding + result)
        if not values.less(values.number(text.letter_count(result)), width):
            return result
