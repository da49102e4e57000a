"""Strings measured in letters: extended grapheme clusters (Unicode UAX #29).

The stdlib has no grapheme segmentation; the ``regex`` module's ``\\X`` is the well-kept
implementation. Plain ASCII text without a carriage return is one letter per code point, which
is the common case and needs no segmentation at all.
"""

from __future__ import annotations

from functools import lru_cache

from . import limits

_cluster_pattern = None


def _clusters():
    global _cluster_pattern
    if _cluster_pattern is None:
        import regex  # imported on first use: it costs start-up time the common case never needs

        _cluster_pattern = regex.compile(r"\X", regex.DOTALL)
    return _cluster_pattern


def _simple(text: str) -> bool:
    return text.isascii() and "\r" not in text


@lru_cache(maxsize=4096)
def _letters_cached(text: str) -> tuple[str, ...]:
    return tuple(_clusters().findall(text))


# Long texts get a small cache of their own: a loop that indexes a long text letter by letter
# (the JSON reader of nUlakam does) must not re-segment it at every step, and a few long texts
# must not push the many short ones out of the main cache.
@lru_cache(maxsize=64)
def _long_letters_cached(text: str) -> tuple[str, ...]:
    return tuple(_clusters().findall(text))


def letters(text: str) -> tuple[str, ...] | str:
    """The letters of ``text`` in order (a str is returned when each code point is a letter)."""
    if _simple(text):
        return text
    if len(text) > limits.max_items:  # the letters are an array: counted before they are built
        limits.check_items(_count(text))
    if len(text) > 4096:
        return _long_letters_cached(text)
    return _letters_cached(text)


def letter_count(text: str) -> int:
    if len(text) > limits.max_items and not _simple(text):
        return _count(text)  # counting needs no array of the letters
    return len(letters(text))


def _count(text: str) -> int:
    return sum(1 for _ in _clusters().finditer(text))


def boundaries(text: str) -> list[int]:
    """Code-point offsets where letters start, plus ``len(text)``."""
    if _simple(text):
        return list(range(len(text) + 1))
    offsets = [0]
    for cluster in letters(text):
        offsets.append(offsets[-1] + len(cluster))
    return offsets
