"""Just enough SQL lexing to find statement ends and ``$n`` parameters (PostgreSQL) and ``?``
placeholders (MySQL).

Both drivers need to know what is *code* as opposed to a string, a quoted identifier or a
comment: a ``;`` or ``?`` inside those means nothing. Results are cached per SQL text: programs
send the same few statements over and over.
"""

from __future__ import annotations

import re
from functools import lru_cache

# ------------------------------------------------------------------------------ PostgreSQL

_PG_INTERESTING = re.compile(r"[eE]'|['\"$;]|--|/\*")
_PG_ESTRING = re.compile(r"[eE]'(?:[^'\\]|\\.|'')*'?", re.DOTALL)  # E'...': backslash escapes
_PG_STRING = re.compile(r"'(?:[^']|'')*'?")  # '...' (standard conforming strings)
_PG_IDENT = re.compile(r'"(?:[^"]|"")*"?')  # "quoted identifier"
_PG_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)?\$")


def _is_identifier_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _skip_block_comment(sql: str, start: int) -> int:
    """Index after the (nested, as PostgreSQL nests them) block comment starting at ``start``."""
    depth = 0
    i = start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(sql)


@lru_cache(maxsize=2048)
def pg_is_single_statement(sql: str) -> bool:
    """True when ``sql`` holds at most one statement: after the first top-level ``;`` only blanks,
    comments and more semicolons. The extended protocol the reference uses refuses several
    commands; we send SQL through the simple protocol, so we refuse them ourselves."""
    if ";" not in sql:
        return True
    n = len(sql)
    i = 0
    ended = False  # a top-level ';' has been seen
    while True:
        found = _PG_INTERESTING.search(sql, i)
        stop = n if found is None else found.start()
        if ended and sql[i:stop].strip():
            return False
        if found is None:
            return True
        i = stop
        text = found.group()
        if text == ";":
            ended = True
            i += 1
        elif text == "--":
            eol = sql.find("\n", i)
            i = n if eol < 0 else eol + 1
        elif text == "/*":
            i = _skip_block_comment(sql, i)
        elif ended:
            return False  # a string, identifier or parameter after the end: a second statement
        elif text == "$":
            tag = None if i and _is_identifier_char(sql[i - 1]) else _PG_DOLLAR_TAG.match(sql, i)
            if tag is None:  # $1, or a '$' inside an identifier
                i += 1
            else:
                close = sql.find(tag.group(), tag.end())
                i = n if close < 0 else close + len(tag.group())
        else:
            pattern = _PG_IDENT if text == '"' else _PG_STRING if text == "'" else _PG_ESTRING
            i = pattern.match(sql, i).end()


_PG_PARAMETER = re.compile(r"\$([0-9]+)")


@lru_cache(maxsize=2048)
def pg_split_parameters(sql: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The SQL cut at each ``$n`` parameter: (pieces, numbers), ``len(pieces) == len(numbers) + 1``.
    A ``$1`` inside a string, a dollar-quoted body, a quoted identifier or a comment, or a ``$``
    inside an identifier (``a$1``), is not a parameter (PostgreSQL's own rule). The client-side
    binding of the PostgreSQL driver puts each parameter's quoted value in its place."""
    if "$" not in sql:
        return (sql,), ()
    pieces: list[str] = []
    numbers: list[int] = []
    n = len(sql)
    start = i = 0
    while True:
        found = _PG_INTERESTING.search(sql, i)
        if found is None:
            break
        i = found.start()
        text = found.group()
        if text == ";":
            i += 1
        elif text == "--":
            eol = sql.find("\n", i)
            i = n if eol < 0 else eol + 1
        elif text == "/*":
            i = _skip_block_comment(sql, i)
        elif text == "$":
            if i and _is_identifier_char(sql[i - 1]):
                i += 1
                continue
            parameter = _PG_PARAMETER.match(sql, i)
            if parameter is not None:
                pieces.append(sql[start:i])
                numbers.append(int(parameter.group(1)))
                start = i = parameter.end()
                continue
            tag = _PG_DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1
            else:
                close = sql.find(tag.group(), tag.end())
                i = n if close < 0 else close + len(tag.group())
        else:
            pattern = _PG_IDENT if text == '"' else _PG_STRING if text == "'" else _PG_ESTRING
            i = pattern.match(sql, i).end()
    pieces.append(sql[start:])
    return tuple(pieces), tuple(numbers)


# ------------------------------------------------------------------------------ MySQL

_MYSQL_BACKSLASH = re.compile(
    r"""'(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.|"")*"?|`(?:[^`]|``)*`?|\#[^\n]*|--(?:[ \t\r\n\f\v][^\n]*|$)|/\*.*?(?:\*/|$)|\?""",
    re.DOTALL,
)
_MYSQL_NO_BACKSLASH = re.compile(
    r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\#[^\n]*|--(?:[ \t\r\n\f\v][^\n]*|$)|/\*.*?(?:\*/|$)|\?""",
    re.DOTALL,
)


@lru_cache(maxsize=2048)
def mysql_split_placeholders(sql: str, backslash_escapes: bool = True) -> tuple[str, ...]:
    """The SQL cut at each ``?`` placeholder: ``n`` placeholders give ``n + 1`` pieces. A ``?``
    inside a string, a quoted identifier or a comment is not a placeholder (MySQL's own rule)."""
    if "?" not in sql:
        return (sql,)
    pattern = _MYSQL_BACKSLASH if backslash_escapes else _MYSQL_NO_BACKSLASH
    pieces: list[str] = []
    start = 0
    for token in pattern.finditer(sql):
        if token.group() == "?":
            pieces.append(sql[start : token.start()])
            start = token.end()
    pieces.append(sql[start:])
    return tuple(pieces)
