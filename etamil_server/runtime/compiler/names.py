"""Python names for eTamil names.

eTamil names are arbitrary Unicode (and Python's NFKC normalisation of identifiers would merge
distinct Tamil names), so every generated Python name is ASCII: ``g<n>_<ascii hint>`` for a
global, ``l<n>_<ascii hint>`` for a local, ``F<n>_<ascii hint>`` for a function. The number maps
back to the eTamil name (the globals dump, undefined-variable errors).
"""

from __future__ import annotations

import re

#: a mangled variable name; group 1 is its number
MANGLED = re.compile(r"\b[gl](\d+)_[A-Za-z0-9_]*")
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9_]")


def ascii_hint(name: str) -> str:
    """The readable part of a generated name (for whoever reads the generated source)."""
    return _NOT_ASCII_NAME.sub("", name)[:20]


class Names:
    """The numbering of one program's variables."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.reverse: dict[int, str] = {}

    def number(self, name: str) -> int:
        if name not in self.numbers:
            self.numbers[name] = len(self.numbers)
            self.reverse[self.numbers[name]] = name
        return self.numbers[name]

    def python(self, prefix: str, name: str) -> str:
        return f"{prefix}{self.number(name)}_{ascii_hint(name)}"

    def global_name(self, name: str) -> str:
        return self.python("g", name)

    def local_name(self, name: str) -> str:
        return self.python("l", name)

    def etamil(self, python: str) -> str | None:
        """The eTamil variable a mangled Python name (or a message mentioning one) stands for."""
        match = MANGLED.search(python)
        if match is None:
            return None
        return self.reverse.get(int(match.group(1)))
