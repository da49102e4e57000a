"""The lexer (LANGUAGE.md §2): source text -> tokens, or every lexical error of the file.

Longest match everywhere; when a keyword spelling and an identifier match the same text the keyword
wins. Because every keyword spelling is itself identifier-shaped, "longest identifier, then look it
up" is exactly longest match. Columns count code points (§2.8).
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..base import numbers
from .keywords import KEYWORDS

IDENT = "IDENT"
NUMBER = "NUMBER"
PERCENT = "PERCENT"
STRING = "STRING"


class Token:
    __slots__ = ("kind", "text", "line", "column", "value", "soft")

    def __init__(self, kind: str, text: str, line: int, column: int, value: Decimal | str | None = None,
                 soft: bool = False):
        self.kind = kind  # a keyword's token name, IDENT/NUMBER/PERCENT/STRING, or the punctuation
        self.text = text  # exactly as written
        self.line = line
        self.column = column
        self.value = value
        self.soft = soft  # a soft keyword: usable as a name

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.line}, {self.column})"

    @property
    def is_name(self) -> bool:
        return self.kind == IDENT or self.soft


class LexError(Exception):
    def __init__(self, messages: list[str]):
        super().__init__("\n  ".join(messages))
        self.messages = messages


def lex_error_message(line: int, column: int, text: str) -> str:
    return (
        f"வரி {line}, நெடுவரிசை {column}: அறியப்படாத உள்ளீடு '{text}'  "
        f"(line {line}, column {column}: unrecognized input '{text}')"
    )


_IDENTIFIER = re.compile(r"[_a-zA-Z\u0B80-\u0BFF][_a-zA-Z0-9\u0B80-\u0BFF]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(%?)")
_SPACE = re.compile(r"[ \t\n\f]+")
_PUNCTUATION_2 = frozenset({"==", "!=", ">=", "<="})
_PUNCTUATION_1 = frozenset("><=+-*/&?[].:(){},;")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source`` (a leading BOM already removed by the caller or here)."""
    if source.startswith("\ufeff"):
        source = source[1:]
    tokens: list[Token] = []
    errors: list[str] = []
    line = 1
    line_start = 0
    position = 0
    length = len(source)

    def where(offset: int) -> tuple[int, int]:
        return line, offset - line_start + 1

    while position < length:
        char = source[position]
        if char in " \t\n\f":
            match = _SPACE.match(source, position)
            chunk = match.group()
            newlines = chunk.count("\n")
            if newlines:
                line += newlines
                line_start = position + chunk.rindex("\n") + 1
            position = match.end()
            continue
        if char == "/" and source.startswith("//", position):
            end = source.find("\n", position)
            position = length if end < 0 else end
            continue
        if char == '"':
            position, line, line_start = _string(source, position, line, line_start, tokens, errors)
            continue
        if "0" <= char <= "9":
            match = _NUMBER.match(source, position)
            text = match.group()
            row, col = where(position)
            is_percent = bool(match.group(1))
            value = numbers.parse_literal(text[:-1] if is_percent else text)
            if value is None:
                errors.append(lex_error_message(row, col, text))
            else:
                if is_percent:
                    value = numbers.percent(value)
                tokens.append(Token(PERCENT if is_percent else NUMBER, text, row, col, value))
            position = match.end()
            continue
        match = _IDENTIFIER.match(source, position)
        if match:
            text = match.group()
            row, col = where(position)
            keyword = KEYWORDS.get(text)
            if keyword is None:
                tokens.append(Token(IDENT, text, row, col))
            else:
                tokens.append(Token(keyword.token, text, row, col, soft=not keyword.hard))
            position = match.end()
            continue
        pair = source[position : position + 2]
        row, col = where(position)
        if pair in _PUNCTUATION_2:
            tokens.append(Token(pair, pair, row, col))
            position += 2
            continue
        if char in _PUNCTUATION_1:
            tokens.append(Token(char, char, row, col))
            position += 1
            continue
        errors.append(lex_error_message(row, col, char))
        if char == "\n":  # pragma: no cover - newline is whitespace; kept for completeness
            line += 1
            line_start = position + 1
        position += 1
    if errors:
        raise LexError(errors)
    return tokens


def _string(
    source: str, start: int, line: int, line_start: int, tokens: list[Token], errors: list[str]
) -> tuple[int, int, int]:
    """Lex a string literal at ``start``; returns the new (position, line, line_start)."""
    row, col = line, start - line_start + 1
    parts: list[str] = []
    position = start + 1
    length = len(source)
    while position < length:
        char = source[position]
        if char == '"':
            text = source[start : position + 1]
            tokens.append(Token(STRING, text, row, col, "".join(parts)))
            return position + 1, line, line_start
        if char == "\\":
            if position + 1 >= length:
                break
            following = source[position + 1]
            if following == "\n":
                errors.append(lex_error_message(row, col, source[start : position + 1]))
                return position + 1, line, line_start
            parts.append(_ESCAPES.get(following, "\\" + following))
            position += 2
            continue
        if char == "\n":
            line += 1
            line_start = position + 1
        parts.append(char)
        position += 1
    errors.append(lex_error_message(row, col, source[start:]))
    return length, line, line_start
