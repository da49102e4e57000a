"""``aNi.qmz`` natively (LANGUAGE.md §17.3): arrays, always new ones."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from .. import ops, text, values
from . import describes, native
from .common import MINUS_ONE, ONE, length

FILE = "aNi.qmz"
describes(FILE, "93a836b0cf7596a7527bb90b0037096cf7f40f74599da63448239a8935a232e1")


@native(FILE, "உள்ளதா")
def _has(rt, d, items, v):
    equal = values.equal
    for item in ops.iterate(items):
        if equal(item, v):
            return True
    return False


@native(FILE, "இடம்_காண்")
def _position(rt, d, items, v):
    equal = values.equal
    for position, item in enumerate(ops.iterate(items)):
        if equal(item, v):
            return Decimal(position)
    return MINUS_ONE


@native(FILE, "தலைகீழ்")
def _reversed(rt, d, items):
    n = int(length(items))
    kind = type(items)
    if kind is list:
        return items[::-1]
    if kind is str:
        return list(reversed(text.letters(items)))
    # a record: items[n - 1], ..., items[0] are looked up by key (the first missing one fails)
    return [ops.index(items, Decimal(position)) for position in range(n - 1, -1, -1)]


@native(FILE, "வெட்டு")
def _cut(rt, d, items, start, count):
    n = length(items)
    limit = ops.add(start, count)  # the definition's loop test adds them before anything else
    if type(items) is list and type(start) is Decimal and type(count) is Decimal:
        if not (start < limit and start < n):
            return []
        if start < 0 or start != start.to_integral_value():
            ops.index(items, start)  # the index error of the first item read
        end = min(int(n), int(limit.to_integral_value(rounding=ROUND_CEILING)))
        return items[int(start):end]
    result = []
    position = start
    while values.less(position, limit) and values.less(position, n):
        result.append(ops.index(items, position))
        position = ops.add(position, ONE)
    return result


@native(FILE, "புலம்_எடு")
def _pluck(rt, d, rows, key):
    index = ops.index
    return [index(row, key) for row in ops.iterate(rows)]


@native(FILE, "காலியா")
def _is_empty(rt, d, items):
    return length(items) == 0
