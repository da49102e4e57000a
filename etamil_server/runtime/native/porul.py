"""``poruL.qmz`` natively (LANGUAGE.md §17.4): records, keys in ascending code-point order."""

from __future__ import annotations

from typing import Any

from .. import ops, values
from . import describes, native
from .common import length

FILE = "poruL.qmz"
describes(FILE, "593ea674aa170743dd65f8f1e1b6d9e51b7ed11a8ecd5037e83ea81432b37002")


def has_field(r: Any, name: Any) -> bool:
    """புலம்_உள்ளதா(r, name): some item of the for-each walk == name."""
    if type(r) is dict:
        # the walk gives the keys, all strings: only a string can be equal to one
        return type(name) is str and name in r
    equal = values.equal
    for item in ops.iterate(r):
        if equal(item, name):
            return True
    return False


@native(FILE, "புலம்_உள்ளதா")
def _has_field(rt, d, r, name):
    return has_field(r, name)


@native(FILE, "புலம்_அல்லது")
def _field_or(rt, d, r, name, fallback):
    if type(r) is dict and type(name) is str:
        return r[name] if name in r else fallback
    return ops.index(r, name) if has_field(r, name) else fallback


@native(FILE, "புலங்கள்")
def _keys(rt, d, r):
    items = ops.iterate(r)
    return list(items)


@native(FILE, "மதிப்பீடுகள்")
def _values(rt, d, r):
    if type(r) is dict:
        return [r[key] for key in sorted(r)]
    index = ops.index
    return [index(r, item) for item in ops.iterate(r)]


@native(FILE, "காலியா_பதிவேடு")
def _is_empty(rt, d, r):
    return length(r) == 0
