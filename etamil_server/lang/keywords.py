"""The keyword table (LANGUAGE.md §2.4, keywords.tsv): every spelling -> its token.

Each of the 202 tokens has a Tamil-script and a romanized spelling, and about half an English alias
starting with ``_``. All spellings are interchangeable and case-sensitive. Hard keywords can never be
names; soft keywords (financial vocabulary, ``mARi``, ``nilY``, ``kOppu_nirY``) are ordinary names
wherever a name is allowed, kept exactly as written.
"""

from __future__ import annotations

import os
from typing import NamedTuple


class Keyword(NamedTuple):
    token: str  # the token name, e.g. "Print"
    group: str
    tamil: str
    romanized: str
    english: str  # "" when the token has no English alias
    hard: bool


def _load() -> tuple[dict[str, Keyword], dict[str, Keyword]]:
    by_spelling: dict[str, Keyword] = {}
    by_token: dict[str, Keyword] = {}
    with open(os.path.join(os.path.dirname(__file__), "keywords.tsv"), encoding="utf-8") as handle:
        text = handle.read()
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        token, group, tamil, romanized, english, reserved = line.split("\t")
        keyword = Keyword(token, group, tamil, romanized, english, reserved == "hard")
        by_token[token] = keyword
        for spelling in (tamil, romanized, english):
            if spelling:
                by_spelling[spelling] = keyword
    return by_spelling, by_token


KEYWORDS, TOKENS = _load()

TYPE_TOKENS = frozenset(
    {
        "IntegerType",
        "FloatType",
        "StringType",
        "BoolType",
        "TextType",
        "ArrayType",
        "DataType",
        "ObjectType",
        "DateType",
    }
)

#: Database-type keywords and the canonical name each stands for (HOST.md §5.1).
DATABASE_TYPES = {
    "SQLite": "SQLite",
    "SQL": "SQL",
    "PostgreSQL": "PostgreSQL",
    "MySQL": "MySQL",
    "MongoDB": "MongoDB",
    "Redis": "Redis",
    "JSONdb": "JSONdb",
    "NoSQL": "NoSQL",
}

#: HTTP method keywords and the method each registers under (HOST.md §4.3).
HTTP_METHODS = {
    "HttpGet": "GET",
    "HttpPost": "POST",
    "HttpPut": "PUT",
    "HttpDelete": "DELETE",
    "HttpPatch": "PATCH",
    "HttpOptions": "OPTIONS",
    "HttpHead": "HEAD",
}


def display_name(token: str) -> str:
    """``தமிழ் (romanized)`` as keywords appear inside parse-error messages."""
    keyword = TOKENS[token]
    return f"{keyword.tamil} ({keyword.romanized})"
