"""How large a value one run may build: the largest text (``ETAMIL_MAX_TEXT_BYTES``) and the
largest array or record (``ETAMIL_MAX_ITEMS``).

Ours: the reference has no such bound, and a program that builds gigabytes there is ended by the
kernel's OOM killer, taking every other request of the process with it. Here it gets an ordinary
runtime error (:class:`LimitExceeded`, bilingual) that a server answers 500 and the command
reports like any other, and the process lives. The limits are read from the environment when
this module is imported (the command, every server and every worker alike) and can be set again
with :func:`apply` (a server applies its :class:`~etamil_server.config.Settings`).

The size of a text is what it takes in memory here: one byte a character for ASCII and Latin-1
text, two for Tamil (and most other scripts), four once it holds a character beyond the Basic
Multilingual Plane (an emoji), plus a few dozen bytes of header for a text that is not ASCII. It
is read in O(1) (``sys.getsizeof``).

The contract for code that builds values:

* a text that may have grown past its inputs (concatenation, join, replace, repeat, padding, a
  file read, ...) goes through :func:`check_text`, which returns it or raises. Where a call
  costs too much (generated code, a loop), the same check written out::

      if len(t) > _lim.quick_chars: _lim.text_too_large(t)

  ``quick_chars`` is the longest text that cannot be over the limit whatever its characters, so
  the common case costs one ``len`` and one comparison; :func:`text_too_large` does the exact
  measure and raises only when the text really is over.
* a text about to be built by repeating a piece is checked before it is built:
  :func:`check_repeat`.
* an array or record about to hold ``n`` items: :func:`check_items` (``n`` known before building
  it where possible, so the memory is never taken).

Module attributes, not constants, hold the limits: code must read them as ``limits.max_items``
(never ``from limits import max_items``), so that :func:`apply` reaches it.
"""

from __future__ import annotations

import sys

from ..base.errors import EtamilError
from ..config import ConfigError, LimitSettings, load_limit_settings

_NO_LIMIT = sys.maxsize
_EMPTY_TEXT = sys.getsizeof("")
_WIDEST_CHARACTER = 4  # bytes a character can take in a Python text (UCS-4)

max_text_bytes: int = LimitSettings.max_text_bytes
max_items: int = LimitSettings.max_items
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
    apply(load_limit_settings())


def text_size(text: str) -> int:
    """The bytes ``text`` takes here (see the module docstring); exact for ASCII text."""
    return sys.getsizeof(text) - _EMPTY_TEXT


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
        per_copy = text_size(piece * 2) - one  # the headers cancel out: exact
        if one + (count - 1) * per_copy > max_text_bytes:
            # the size of the first text over the limit, as a loop adding a copy at a time meets it
            copies = 1 if one > max_text_bytes else (max_text_bytes - one) // per_copy + 2
            raise LimitExceeded(text_message(one + (copies - 1) * per_copy))


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


try:
    from_environment()
except ConfigError as _problem:  # the command reports it before a run; servers refuse to start
    environment_problem = str(_problem)
