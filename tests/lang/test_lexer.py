"""The lexer against LANGUAGE.md §2 (lexical structure) and keywords.tsv."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from etamil_server.base.numbers import display_scaled
from etamil_server.lang import keywords as keywords_module
from etamil_server.lang.keywords import TOKENS
from etamil_server.lang.lexer import IDENT, NUMBER, PERCENT, STRING, LexError, tokenize

KEYWORDS_TSV = Path(keywords_module.__file__).with_name("keywords.tsv")


def error(line: int, column: int, text: str) -> str:
    """The §2.9 message, written out independently of the lexer's own helper."""
    return (
        f"வரி {line}, நெடுவரிசை {column}: அறியப்படாத உள்ளீடு '{text}'  "
        f"(line {line}, column {column}: unrecognized input '{text}')"
    )


def kinds(source: str) -> list[str]:
    return [token.kind for token in tokenize(source)]


def texts(source: str) -> list[str]:
    return [token.text for token in tokenize(source)]


def lex_errors(source: str) -> list[str]:
    with pytest.raises(LexError) as caught:
        tokenize(source)
    return caught.value.messages


def tsv_rows() -> list[dict[str, str]]:
    lines = KEYWORDS_TSV.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line.strip()]


# ---------------------------------------------------------------------------------------- keywords


def test_keyword_table_has_every_token_of_the_tsv():
    rows = tsv_rows()
    assert len(rows) == 202
    assert {row["token"] for row in rows} == set(TOKENS)
    assert sum(row["reserved"] == "hard" for row in rows) == 113
    assert sum(row["reserved"] == "soft" for row in rows) == 89
    assert sum(bool(row["english_alias"]) for row in rows) == 101


@pytest.mark.parametrize("row", tsv_rows(), ids=lambda row: row["token"])
def test_every_spelling_lexes_to_its_token_with_the_tsv_reservation(row):
    spellings = [row["tamil"], row["romanized"], row["english_alias"]]
    for spelling in filter(None, spellings):
        (token,) = tokenize(spelling)
        assert (token.kind, token.text, token.line, token.column) == (row["token"], spelling, 1, 1)
        assert token.soft is (row["reserved"] == "soft")
        assert token.is_name is (row["reserved"] == "soft")


def test_every_token_of_the_keyword_module_round_trips():
    for name, keyword in TOKENS.items():
        for spelling in filter(None, (keyword.tamil, keyword.romanized, keyword.english)):
            (token,) = tokenize(spelling)
            assert token.kind == name
            assert token.soft is not keyword.hard


def test_keywords_between_other_tokens_keep_positions():
    tokens = tokenize("(x) eZil {accu 1;}")
    assert [(t.kind, t.column) for t in tokens] == [
        ("(", 1), (IDENT, 2), (")", 3), ("If", 5), ("{", 10), ("Print", 11), (NUMBER, 16), (";", 17), ("}", 18)
    ]


# ---------------------------------------------------------------------------- longest match, names


@pytest.mark.parametrize("source", ["varavux", "varavu_x", "varavu2", "_varavu", "eNx", "accu_", "il2"])
def test_longer_identifier_beats_a_keyword_prefix(source):
    (token,) = tokenize(source)
    assert (token.kind, token.text, token.soft) == (IDENT, source, False)


def test_keyword_with_underscore_is_one_token():
    (token,) = tokenize("கோப்பு_திற")
    assert token.kind == "FileOpen"
    assert kinds("கோப்பு _திற") == ["File", IDENT]


def test_soft_keyword_is_a_name_and_hard_keyword_is_not():
    varavu, il = tokenize("varavu il")
    assert (varavu.kind, varavu.soft, varavu.is_name) == ("Credit", True, True)
    assert (il.kind, il.soft, il.is_name) == ("In", False, False)


@pytest.mark.parametrize("source", ["en", "EN", "En", "ACCU", "Accu", "MEY", "_FN", "_Fn"])
def test_keywords_are_case_sensitive(source):
    (token,) = tokenize(source)
    assert token.kind == IDENT


def test_case_sensitive_keyword_spellings_still_lex():
    assert kinds("eN accu _fn") == ["IntegerType", "Print", "Function"]


def test_tamil_digits_are_identifier_characters():
    (token,) = tokenize("௧௨")
    assert (token.kind, token.text) == (IDENT, "௧௨")
    (token,) = tokenize("x௧௦")
    assert token.text == "x௧௦"
    assert [(t.kind, t.text) for t in tokenize("2௧")] == [(NUMBER, "2"), (IDENT, "௧")]


def test_digit_cannot_start_an_identifier():
    assert [(t.kind, t.text) for t in tokenize("2x")] == [(NUMBER, "2"), (IDENT, "x")]


@pytest.mark.parametrize("char", ["\u0b80", "\u0bd7", "\u0bf3", "\u0bfa", "\u0bff"])
def test_the_whole_tamil_block_is_accepted(char):
    (token,) = tokenize("a" + char)
    assert token.text == "a" + char
    (token,) = tokenize(char)
    assert token.kind == IDENT


@pytest.mark.parametrize("char", ["\u0b7f", "\u0c00", "é", "\u0915", "ß", "Ω", "٣"])
def test_letters_outside_ascii_and_the_tamil_block_are_errors(char):
    assert lex_errors("x" + char + "y") == [error(1, 2, char)]


@given(st.text(alphabet=st.sampled_from("_abzAZ09\u0b85\u0b95\u0bcd\u0be6\u0bef"), min_size=1, max_size=12))
@settings(max_examples=60, deadline=None)
def test_identifier_shaped_text_is_one_token(text):
    assume(text[0] not in "0123456789")  # a digit starts a number (§2.3)
    (token,) = tokenize(text)
    assert token.text == text
    keyword = keywords_module.KEYWORDS.get(text)
    assert token.kind == (keyword.token if keyword else IDENT)


# ----------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("source", "scaled"),
    [
        ("0", "0"),
        ("007", "7"),
        ("0.50", "0.50"),
        ("150.00", "150.00"),
        ("0.1", "0.1"),
        ("79228162514264337593543950335", "79228162514264337593543950335"),
        ("0.0000000000000000000000000001", "0.0000000000000000000000000001"),
        ("1.0000000000000000000000000000", "1.0000000000000000000000000000"),
    ],
)
def test_number_literal_value_and_scale(source, scaled):
    (token,) = tokenize(source)
    assert (token.kind, token.text) == (NUMBER, source)
    assert isinstance(token.value, Decimal)
    assert display_scaled(token.value) == scaled
    assert token.value == Decimal(source)


@pytest.mark.parametrize(
    ("source", "scaled"),
    [
        # 29 places: rounded to 28, half away from zero (half-even would give ...2)
        ("0.00000000000000000000000000025", "0.0000000000000000000000000003"),
        ("0.00000000000000000000000000015", "0.0000000000000000000000000002"),
        ("0.000000000000000000000000000149", "0.0000000000000000000000000001"),
        ("0.00000000000000000000000000004", "0.0000000000000000000000000000"),
        # the coefficient would not fit 96 bits at 28 places: 27 places
        ("7.9228162514264337593543950336", "7.922816251426433759354395034"),
        ("7.92281625142643375935439503349", "7.9228162514264337593543950335"),  # fits exactly
        ("7.92281625142643375935439503355", "7.922816251426433759354395034"),
        ("1.00000000000000000000000000005", "1.0000000000000000000000000001"),
    ],
)
def test_over_long_fractions_are_rounded_half_away_from_zero(source, scaled):
    (token,) = tokenize(source)
    assert display_scaled(token.value) == scaled


@pytest.mark.parametrize(
    "literal",
    ["123456789012345678901234567890", "79228162514264337593543950336", "99999999999999999999999999999.5"],
)
def test_too_large_literal_is_one_error_quoting_the_whole_literal(literal):
    assert lex_errors(f"accu {literal};") == [error(1, 6, literal)]


def test_too_large_literal_error_and_lexing_continues():
    messages = lex_errors("x = 123456789012345678901234567890;\ny = 1 @")
    assert messages == [error(1, 5, "123456789012345678901234567890"), error(2, 7, "@")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (".5", [(".", "."), (NUMBER, "5")]),
        ("5.", [(NUMBER, "5"), (".", ".")]),
        ("1e3", [(NUMBER, "1"), (IDENT, "e3")]),
        ("1_000", [(NUMBER, "1"), (IDENT, "_000")]),
        ("0x10", [(NUMBER, "0"), (IDENT, "x10")]),
        ("-5", [("-", "-"), (NUMBER, "5")]),
        ("1.2.3", [(NUMBER, "1.2"), (".", "."), (NUMBER, "3")]),
        ("5.x", [(NUMBER, "5"), (".", "."), (IDENT, "x")]),
    ],
)
def test_what_is_not_a_number_literal(source, expected):
    assert [(t.kind, t.text) for t in tokenize(source)] == expected


@pytest.mark.parametrize(
    ("source", "scaled"),
    [("20%", "0.20"), ("12.5%", "0.125"), ("100%", "1"), ("0.5%", "0.005"), ("18%", "0.18"), ("0%", "0")],
)
def test_percent_literals_are_divided_by_100_with_division_scale(source, scaled):
    (token,) = tokenize(source)
    assert (token.kind, token.text) == (PERCENT, source)
    assert display_scaled(token.value) == scaled


@pytest.mark.parametrize(
    ("source", "column"), [("a % b", 3), ("5 %", 3), ("5%%", 3), ("%", 1), ("x = 1.5 %;", 9)]
)
def test_percent_sign_not_right_after_a_number_is_an_error(source, column):
    assert lex_errors(source) == [error(1, column, "%")]


# ----------------------------------------------------------------------------------------- strings


@pytest.mark.parametrize(
    ("source", "value"),
    [
        (r'"a\nb"', "a\nb"),
        (r'"a\tb"', "a\tb"),
        (r'"a\rb"', "a\rb"),
        (r'"a\"b"', 'a"b'),
        (r'"a\\b"', "a\\b"),
        (r'"C:\kaNakku"', "C:\\kaNakku"),
        (r'"\u0041"', "\\u0041"),
        (r'"\q\0\'"', "\\q\\0\\'"),
        ('"two\nlines"', "two\nlines"),
        ('"cr\rinside"', "cr\rinside"),
        ('"// not a comment"', "// not a comment"),
        ('"/* x */"', "/* x */"),
        ('""', ""),
        ('"வணக்கம்"', "வணக்கம்"),
        ('"\\\\\\n"', "\\\n"),
    ],
)
def test_string_literal_values(source, value):
    (token,) = tokenize(source)
    assert (token.kind, token.text, token.value) == (STRING, source, value)


def test_unknown_escape_keeps_both_characters():
    (token,) = tokenize(r'"C:\kaNakku"')
    assert len(token.value) == 10
    (token,) = tokenize(r'"\u0041"')
    assert len(token.value) == 6


def test_backslash_newline_is_an_error_up_to_the_backslash_and_lexing_resumes():
    source = 'x = "ab\\\ny;'
    assert lex_errors(source) == [error(1, 5, '"ab\\')]


def test_backslash_newline_resumes_after_the_backslash():
    # after the broken literal, 'c' is an identifier and the closing quote opens a new string
    source = 'x = "ab\\\nc" z'
    assert lex_errors(source) == [error(1, 5, '"ab\\'), error(2, 2, '" z')]


def test_unterminated_string_runs_to_the_end_of_input():
    source = 'accu "abc;\nx = 1;\n'
    assert lex_errors(source) == [error(1, 6, '"abc;\nx = 1;\n')]


def test_unterminated_string_ending_in_a_backslash():
    assert lex_errors('x = "ab\\') == [error(1, 5, '"ab\\')]


def test_multi_line_string_advances_lines():
    tokens = tokenize('x = "a\nbc"; y')
    assert [(t.text, t.line, t.column) for t in tokens][-2:] == [(";", 2, 4), ("y", 2, 6)]


# --------------------------------------------------------------------- whitespace, errors, positions


def test_whitespace_is_space_tab_line_feed_form_feed():
    tokens = tokenize("a \tb\n\x0cc")
    assert [(t.text, t.line, t.column) for t in tokens] == [("a", 1, 1), ("b", 1, 4), ("c", 2, 2)]


def test_carriage_return_is_one_error_per_line():
    assert lex_errors("x = 1;\r\ny = 2;\r\n") == [error(1, 7, "\r"), error(2, 7, "\r")]


def test_lone_carriage_return_does_not_end_a_line():
    assert lex_errors("a\rb @") == [error(1, 2, "\r"), error(1, 5, "@")]


@pytest.mark.parametrize("char", ["\u00a0", "\u000b", "\u200d", "\u200b", "\u2003", "\u3000", "\u0085"])
def test_other_unicode_spaces_are_errors(char):
    assert lex_errors(f"a{char}b") == [error(1, 2, char)]


@pytest.mark.parametrize("char", ["!", "%", "@", "#", "$", "^", "|", "~", "'", "`", "\\"])
def test_unrecognized_ascii_characters(char):
    assert lex_errors(f"x {char} y") == [error(1, 3, char)]


def test_all_errors_are_collected_in_order():
    source = "a @ b\n# c\r\n  `"
    assert lex_errors(source) == [error(1, 3, "@"), error(2, 1, "#"), error(2, 4, "\r"), error(3, 3, "`")]


def test_lex_error_joins_messages_for_display():
    with pytest.raises(LexError) as caught:
        tokenize("@ #")
    assert str(caught.value) == error(1, 1, "@") + "\n  " + error(1, 3, "#")


def test_leading_bom_is_removed_and_does_not_count_toward_columns():
    (token,) = tokenize("\ufeffx")
    assert (token.text, token.line, token.column) == ("x", 1, 1)


def test_bom_anywhere_else_is_an_error():
    assert lex_errors("x \ufeff") == [error(1, 3, "\ufeff")]
    assert lex_errors("\ufeff\ufeffx") == [error(1, 1, "\ufeff")]


def test_columns_count_code_points():
    tokens = tokenize("வருவாய் = 5 வரி;")
    assert [(t.text, t.column) for t in tokens] == [("வருவாய்", 1), ("=", 9), ("5", 11), ("வரி", 13), (";", 16)]


def test_tab_counts_one_column():
    assert [t.column for t in tokenize("\t\tx\ty")] == [3, 5]


def test_error_column_counts_code_points():
    assert lex_errors("கை @") == [error(1, 4, "@")]


@given(st.lists(st.sampled_from(["x", "வரி", "12", "\t", " ", "கௌ", '"அ"', "==", ";"]), max_size=12))
@settings(max_examples=80, deadline=None)
def test_token_columns_are_code_point_offsets(pieces):
    source = " ".join(pieces)
    offsets = []
    position = 0
    for piece in pieces:
        if piece.strip():
            offsets.append(position + 1)
        position += len(piece) + 1
    assert [t.column for t in tokenize(source)] == offsets
    assert all(t.line == 1 for t in tokenize(source))


# ---------------------------------------------------------------------------------------- comments


def test_line_comment_runs_to_end_of_line():
    tokens = tokenize("x // a comment @ #\ny")
    assert [(t.text, t.line, t.column) for t in tokens] == [("x", 1, 1), ("y", 2, 1)]


def test_comment_at_end_of_input():
    assert texts("x //") == ["x"]
    assert texts("//only") == []


def test_block_comments_do_not_exist():
    assert texts("/* x */") == ["/", "*", "x", "*", "/"]


def test_single_slash_is_division():
    assert kinds("a / b") == [IDENT, "/", IDENT]


# --------------------------------------------------------------------------------------- operators

OPERATORS = ["==", "!=", ">=", "<=", ">", "<", "=", "+", "-", "*", "/", "&", "?", "[", "]", ".", ":",
             "(", ")", "{", "}", ",", ";"]


@pytest.mark.parametrize("operator", OPERATORS)
def test_each_operator_is_a_token_of_its_own_kind(operator):
    (token,) = tokenize(operator)
    assert (token.kind, token.text) == (operator, operator)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("===", ["==", "="]),
        ("!==", ["!=", "="]),
        ("<==", ["<=", "="]),
        (">==", [">=", "="]),
        ("=>", ["=", ">"]),
        ("=<", ["=", "<"]),
        ("<>", ["<", ">"]),
        ("a==b", [IDENT, "==", IDENT]),
        ("x=-1", [IDENT, "=", "-", NUMBER]),
    ],
)
def test_operators_take_the_longest_match(source, expected):
    assert kinds(source) == expected


def test_bang_alone_is_an_error():
    assert lex_errors("a ! = b") == [error(1, 3, "!")]
    assert lex_errors("!x") == [error(1, 1, "!")]


def test_empty_source_has_no_tokens():
    assert tokenize("") == []
    assert tokenize("  \n\t// c\n") == []
