"""String builtins (LANGUAGE.md §16.3). Every argument is taken as its text (display form).

``மாற்று`` and ``பிரி`` only see an occurrence that starts and ends on a letter (grapheme cluster)
boundary of the subject, so they never cut a Tamil letter such as ``கா`` or the letter ``\\r\\n``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import limits, text, values
from . import builtin


@builtin("மேல்_எழுத்து", "mEl_ezuqqu", "_upper", returns="string")
def upper(value: Any) -> str:
    # Python's str.upper/lower apply Unicode full case mapping, final sigma included.
    return limits.check_text(values.display(value).upper())  # one letter may become three


@builtin("கீழ்_எழுத்து", "kIz_ezuqqu", "_lower", returns="string")
def lower(value: Any) -> str:
    return values.display(value).lower()


def _occurrences(subject: str, needle: str) -> Iterator[int]:
    """Start offsets of the non-overlapping, letter-aligned occurrences, left to right."""
    boundaries = set(text.boundaries(subject))
    size = len(needle)
    position = subject.find(needle)
    while position >= 0:
        if position in boundaries and position + size in boundaries:
            yield position
            position = subject.find(needle, position + size)
        else:
            # A rejected occurrence does not consume text: a later, overlapping one may count.
            position = subject.find(needle, position + 1)


def _pieces(subject: str, separator: str, most: int | None = None) -> list[str]:
    """The pieces between occurrences; more than ``most`` (split's array: the item limit) is
    refused as soon as it is reached."""
    pieces = []
    start = 0
    for position in _occurrences(subject, separator):
        if most is not None and len(pieces) >= most:
            limits.check_items(len(pieces) + 1)
        pieces.append(subject[start:position])
        start = position + len(separator)
    pieces.append(subject[start:])
    return pieces


@builtin("மாற்று", "mARRu", "_replace", returns="string")
def replace(subject: Any, old: Any, new: Any) -> str:
    subject_text = values.display(subject)
    old_text = values.display(old)
    if not old_text:
        return subject_text
    return limits.check_text(values.display(new).join(_pieces(subject_text, old_text)))


@builtin("பிரி", "piri", "_split", returns="array")
def split(subject: Any, separator: Any) -> list[str]:
    """Always one more piece than separators found; an empty separator gives ``[subject]``."""
    subject_text = values.display(subject)
    separator_text = values.display(separator)
    if not separator_text:
        return [subject_text]
    return _pieces(subject_text, separator_text, limits.max_items)
