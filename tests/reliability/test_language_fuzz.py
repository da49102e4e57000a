"""Scenario 12: bad input to the language (issue 11).

The front end and the compiler take text from anyone who can edit a program, and the runtime's
number conversions take text from any request. Whatever that text is, the only failures that may
come out are eTamil errors (``base.errors``: :class:`SourceError` for a program that cannot be
loaded or compiled, :class:`EtamilError` for a run): a Python exception escaping would reach the
user as a traceback, or a server as a dead start.

Hypothesis generates token soups (every keyword spelling, every builtin name, punctuation,
Tamil-script runs, long numbers and strings), random Tamil text, and edits of the real programs
in ``examples/`` and the conformance corpus; fixed cases push nesting and literal sizes past the
implementation's limits. Each target is bounded by ``max_examples`` (ETAMIL_FUZZ_EXAMPLES, default
300, raise it for the long form) and runs without a deadline: the machine is shared.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etamil_server.base.errors import EtamilError, SourceError
from etamil_server.families import load_families
from etamil_server.lang.checker import check
from etamil_server.lang.keywords import KEYWORDS
from etamil_server.lang.lexer import LexError, tokenize
from etamil_server.lang.loader import load_text
from etamil_server.lang.shape import program_shape
from etamil_server.lang.strict import strict_findings
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ETAMIL_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

BUILTINS = sorted(load_families())
SPELLINGS = sorted(KEYWORDS)
PUNCTUATION = [*"(){}[];,.:=+-*/%<>!&|\"'\\#@$^~?`", "==", "!=", "<=", ">=", "&&", "||", "//", "\n", " ", "\t"]
TAMIL = st.characters(min_codepoint=0x0B80, max_codepoint=0x0BFF)

#: A Tamil-script letter or sign, or the marks that glue graphemes together.
TAMIL_TEXT = st.text(st.one_of(TAMIL, st.sampled_from(["\u200c", "\u200d", " ", "\n", '"', "\\"])), max_size=80)

PIECE = st.one_of(
    st.sampled_from(SPELLINGS),
    st.sampled_from(BUILTINS),
    st.sampled_from(PUNCTUATION),
    st.text(TAMIL, min_size=1, max_size=6),
    st.from_regex(r"[0-9]{1,60}(\.[0-9]{1,60})?%?", fullmatch=True),
    st.from_regex(r'"([^"\\]|\\.){0,12}"', fullmatch=True),
    st.sampled_from(["x", "y", "f", "param_id", "request_body", "response_body", "அ"]),
    st.text(max_size=3),
)
TOKEN_SOUP = st.lists(PIECE, max_size=80).map(" ".join)


def _corpus() -> list[str]:
    """Real programs: the examples and the conformance cases (short ones, to keep edits cheap)."""
    paths = sorted((REPO / "examples").glob("*.qmz")) + sorted((REPO / "tests" / "lang" / "cases").rglob("*.qmz"))
    texts = [path.read_bytes().decode("utf-8", "replace") for path in paths]
    return [text for text in texts if len(text) < 6000]


CORPUS = _corpus()

#: One edit of a program: where, what kind, and a piece to insert.
EDIT = st.tuples(st.integers(0, 10**6), st.sampled_from(["delete", "insert", "cut", "repeat"]), PIECE)


def _edited(text: str, edits: list[tuple[int, str, str]]) -> str:
    for position, kind, piece in edits:
        if not text:
            break
        at = position % len(text)
        if kind == "delete":
            text = text[:at] + text[at + 1 :]
        elif kind == "insert":
            text = f"{text[:at]} {piece} {text[at:]}"
        elif kind == "cut":
            text = text[:at] + text[at + 25 :]
        else:
            text = text[:at] + text[at : at + 40] + text[at:]
    return text


_BILINGUAL = re.compile(r"[\u0B80-\u0BFF].*\(.+\)", re.DOTALL)


def assert_etamil_message(error: SourceError | EtamilError) -> None:
    """A message a user can read: Tamil first, the English in parentheses (LANGUAGE.md §14)."""
    assert isinstance(error.message, str) and error.message.strip(), repr(error)
    assert _BILINGUAL.search(error.message), error.message[:300]


def front_end(text: str):
    """Everything that happens to a program before it runs, as a server's start does it: load
    (lex, parse), type-check, the strict findings, the shape, compile. Returns the compiled
    program, or ``None`` when an eTamil error stopped it; any other exception escapes the test."""
    try:
        program = load_text(text)
        check(program)
        strict_findings(program, BUILTINS)
        program_shape(program)
        return compile_program(program.statements)
    except SourceError as error:
        assert_etamil_message(error)
        return None


# ---------------------------------------------------------------------------------- generated


@FUZZ
@given(st.text(max_size=200))
def test_the_lexer_reports_any_text_as_lexical_errors(text):
    try:
        tokenize(text)
    except LexError as error:
        assert error.messages
        for message in error.messages:
            assert re.search(r"\(line \d+, column \d+: ", message), message


@FUZZ
@given(TOKEN_SOUP)
def test_token_soup_fails_only_with_etamil_errors(text):
    front_end(text)


@FUZZ
@given(TAMIL_TEXT)
def test_random_tamil_text_fails_only_with_etamil_errors(text):
    front_end(text)


@FUZZ
@given(st.sampled_from(range(len(CORPUS))), st.lists(EDIT, min_size=1, max_size=6))
def test_edited_real_programs_fail_only_with_etamil_errors(index, edits):
    front_end(_edited(CORPUS[index], edits))


def test_the_corpus_is_real():
    """The edits start from real programs, most of which compile as they are (the rest are the
    corpus's own error cases)."""
    assert len(CORPUS) > 100
    compiled = [front_end(text) for text in CORPUS]
    assert sum(code is not None for code in compiled) > len(CORPUS) // 2


# ---------------------------------------------------------------------------------- fixed limits


#: Constructs nested ``n`` deep. Each is built so that it is valid at small depths.
NESTINGS = {
    "parentheses": lambda n: "x = " + "(" * n + "1" + ")" * n + ";",
    "arrays": lambda n: "x = " + "[" * n + "1" + "]" * n + ";",
    "records": lambda n: "x = " + '{"a": ' * n + "1" + "}" * n + ";",
    "unary minus": lambda n: "x = " + "- " * n + "1;",
    "calls": lambda n: "x = " + "நீளம்(" * n + '"a"' + ")" * n + ";",
    "functions": lambda n: "செயல் f() {" * n + "x = 1;" + "}" * n,
    "ifs": lambda n: "(1) எனில் {" * n + "x = 1;" + "}" * n,
    "loops": lambda n: "(0) சுற்று {" * n + "x = 1;" + "}" * n,
    "indexing": lambda n: "x = [1]" + "[0]" * n + ";",
}


@pytest.mark.parametrize("construct", sorted(NESTINGS))
@pytest.mark.parametrize("depth", [10, 3000, 30000])
def test_deep_nesting_compiles_or_says_it_is_too_deep(construct, depth):
    front_end(NESTINGS[construct](depth))


def test_nesting_past_the_limit_is_the_too_deep_error():
    with pytest.raises(SourceError) as raised:
        program = load_text(NESTINGS["parentheses"](30000))
        compile_program(program.statements)
    assert "too deeply" in raised.value.message


@pytest.mark.parametrize("length", [2000, 20000])
def test_long_operator_chains(length):
    front_end("x = 1" + " + 1" * length + ";")
    front_end('x = "a"' + ' & "b"' * length + ";")


@pytest.mark.parametrize(
    "literal",
    [
        "9" * 5000,
        "9" * 200000,
        "0" * 200000 + "1",
        "1." + "9" * 200000,
        "9" * 200000 + "%",
        "1" + "0" * 5000 + ".5",
    ],
    ids=["5k digits", "200k digits", "leading zeros", "200k fraction digits", "200k percent", "long with fraction"],
)
def test_huge_number_literals_are_lexical_errors_or_exact_values(literal):
    """The reference refuses a literal whose whole part does not fit (an 'unrecognized input'
    lexical error) and rounds long fractions; neither may become Python's digit-limit ValueError."""
    compiled = front_end(f"x = {literal};")
    whole = literal.split(".")[0].rstrip("%").lstrip("0")
    if len(whole) > 29:
        assert compiled is None
    else:
        assert compiled is not None
        assert compiled.run(RunContext())["x"] is not None


def test_a_long_fraction_rounds_half_up_at_28_places():
    compiled = front_end("x = 1." + "4" * 28 + "5" + "0" * 100000 + "1;")
    assert str(compiled.run(RunContext())["x"]) == "1." + "4" * 27 + "5"


@pytest.mark.parametrize("size", [100000, 1000000])
def test_huge_strings_and_names(size):
    assert front_end('x = "' + "அ" * size + '";') is not None
    assert front_end("அ" * size + " = 1;") is not None
    front_end('x = "' + "\\" * size + '";')  # escapes all the way: a lexical error or a string


@pytest.mark.parametrize("text", ["9" * 100000, "-" + "9" * 5000 + ".5", "0" * 100000 + "7.25", "1." + "3" * 100000])
def test_number_texts_from_a_request_convert_or_fail_as_results(text):
    """``எண்ணாக்கு`` (and every implicit conversion) reads request values: a long digit run is a
    value too large (an Err result or nil), never an escaping Python error."""
    program = load_text('r = எண்ணாக்கு(request_body); n = request_body + 0;')
    compiled = compile_program(program.statements, inputs={"request_body"})
    try:
        final = compiled.run(RunContext(), inject={"request_body": text})
    except EtamilError as error:  # the implicit conversion of a text too large for a number
        assert_etamil_message(error)
    else:
        assert final["r"] is not None
