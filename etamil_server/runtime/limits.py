"""How large a value one run may build: the largest text (``ETAMIL_MAX_TEXT_BYTES``) and the
largest array or record (``ETAMIL_MAX_ITEMS``).

Ours: the reference has no such bound, and a program that builds gigabytes there is ended by the
kernel's OOM killer, taking every other request of the process with it. Here it gets an ordinary
runtime error (:class:`LimitExceeded`, bilingual) that a server answers 500 and the command
reports like any other, and the process lives. The limits are read from the environment when
this module is imported (the command, every server and every worker alike) and can be set again
with :func:`apply` (a server applies its :class:`~etamil_server.config.Settings`).

The size of a text is what its characters take in memory here: one byte a character for ASCII
and Latin-1 text, two for Tamil (and most other scripts), four once it holds a character beyond
the Basic Multilingual Plane (an emoji). It is read in O(1), from ``len`` and the width CPython
stores the text with.

The contract for code that builds values:

* two texts about to be joined (``&``) are checked *before* the join, so the memory is never
  taken: :func:`check_join`, or where a call costs too much (generated code) written out::

      if len(a) + len(b) > _lim.quick_chars: _lim.join_too_large(a, b)

  ``quick_chars`` is the longest text that cannot be over the limit whatever its characters, so
  the common case costs two ``len`` and one comparison; :func:`join_too_large` does the exact
  measure and raises only when the result really would be over.
* a text built some other way that may have grown past its inputs (join, replace, upper-casing,
  a file read, ...) goes through :func:`check_text`, which returns it or raises (the same quick
  test first, :func:`text_too_large` behind it).
* a text about to be built by repeating a piece is checked before it is built:
  :func:`check_repeat`.
* an array or record about to hold ``n`` items: :func:`check_items` (``n`` known before building
  it where possible, so the memory is never taken).

Module attributes, not constants, hold the limits: code must read them as ``limits.max_items``
(never ``from limits import max_items``), so that :func:`apply` reaches it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ..base.errors import EtamilError

if TYPE_CHECKING:
    from ..config import LimitSettings

#: the defaults of config.LimitSettings, written here too so that a run with no limit settings
#: does not import the configuration module (its dataclasses cost ``etamil run`` about 20 ms of
#: start-up); tests/runtime/test_limits.py checks that the two agree
DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ITEMS = 10_000_000
_SETTINGS = ("ETAMIL_MAX_TEXT_BYTES", "ETAMIL_MAX_ITEMS")

_NO_LIMIT = sys.maxsize
_WIDEST_CHARACTER = 4  # bytes a character can take in a Python text (UCS-4)
# The header of a text that is not ASCII, by the width of its characters: CPython stores a text
# of n characters of width w in header + (n + 1) * w bytes (PEP 393).
_HEADERS = tuple((width, sys.getsizeof(sample) - 2 * width) for width, sample in ((4, "😀"), (2, "வ"), (1, "é")))

max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
max_items: int = DEFAULT_MAX_ITEMS
quick_chars: int = max_text_bytes // _WIDEST_CHARACTER
#: the environment's limits did not parse (the message names the variable); the defaults hold
environment_problem: str | None = None


class LimitExceeded(EtamilError):
    """A run tried to build a text or an array beyond the limits (ours: the reference has none)."""


def apply(settings: LimitSettings) -> None:
    """Use these limits from now on (0 in a field: no limit), for every run of the process."""
    global max_text_bytes, max_items, quick_chars
    max_text_bytes = settings.max_text_bytes or _NO_LIMIT
    max_items = settings.max_items or _NO_LIMIT
    quick_chars = max_text_bytes // _WIDEST_CHARACTER


def from_environment() -> None:
    """Read ``ETAMIL_MAX_TEXT_BYTES`` / ``ETAMIL_MAX_ITEMS`` again; raises ``ConfigError``."""
    from ..config import load_limit_settings

    apply(load_limit_settings())


def _from_environment_at_import() -> str | None:
    """The limits of the environment, without the configuration module when none is set; the
    problem's text when one does not parse (the command reports it before a run; servers
    refuse to start)."""
    if not any(name in os.environ for name in _SETTINGS):
        return None
    from ..config import ConfigError

    try:
        from_environment()
    except ConfigError as problem:
        return str(problem)
    return None


def text_size(text: str) -> int:
    """The bytes the characters of ``text`` take here (see the module docstring)."""
    return len(text) * _width(text)


def _width(text: str) -> int:
    if text.isascii():
        return 1
    stored = sys.getsizeof(text)
    for width, header in _HEADERS:
        if stored == header + (len(text) + 1) * width:
            return width
    return _WIDEST_CHARACTER  # not a compact text (never made by us): count the most


def check_join(a: str, b: str) -> None:
    """Before ``a + b``: raises if the joined text would be over the limit."""
    if len(a) + len(b) > quick_chars:
        join_too_large(a, b)


def join_too_large(a: str, b: str) -> None:
    """The exact check behind the quick one of :func:`check_join`."""
    size = (len(a) + len(b)) * max(_width(a), _width(b))  # the joined text takes the wider width
    if size > max_text_bytes:
        raise LimitExceeded(text_message(size))


def check_text(text: str) -> str:
    """``text`` if it is within the limit, else :class:`LimitExceeded`."""
    if len(text) > quick_chars:
        text_too_large(text)
    return text


def text_too_large(text: str) -> None:
    """The exact check behind the quick one: raises if ``text`` is over the limit."""
    size = text_size(text)
    if size > max_text_bytes:
        raise LimitExceeded(text_message(size))


def check_repeat(piece: str, count: int) -> None:
    """Before building ``piece`` repeated ``count`` times: raises if the result would be over."""
    if len(piece) * count > quick_chars:
        one = text_size(piece)
        if one * count > max_text_bytes:
            # the size of the first text over the limit, as a loop adding a copy at a time meets it
            raise LimitExceeded(text_message(one * (max_text_bytes // one + 1)))


def check_items(count: int) -> None:
    """Before (or after) building an array or record of ``count`` items."""
    if count > max_items:
        raise LimitExceeded(
            f"உருப்படிகள் மிக அதிகம்: {count}, வரம்பு {max_items}  "
            f"(too many items: {count} in one array or record, the limit is {max_items}; "
            "ETAMIL_MAX_ITEMS raises it)"
        )


def text_message(size: int) -> str:
    return (
        f"உரை மிகப் பெரியது: {size} பைட்டுகள், வரம்பு {max_text_bytes}  "
        f"(text too large: {size} bytes, the limit is {max_text_bytes}; ETAMIL_MAX_TEXT_BYTES raises it)"
    )


environment_problem = _from_environment_at_import()
