"""The declared-type checker against LANGUAGE.md §12."""

from __future__ import annotations

import pytest

from etamil_server.lang.checker import check
from etamil_server.lang.lexer import tokenize
from etamil_server.lang.loader import load_text
from etamil_server.lang.parser import parse

DECLARED = {
    "number": "எண் (eN, a number)",
    "text": "சொல் (col, a string)",
    "boolean": "ஈர்ம (Irma, a boolean)",
    "array": "அணி (aNi, an array)",
    "record": "பொருள் (poruL, a record)",
    "date": "தேதி (qEqi, a date)",
}
FOUND = {
    "number": "ஒரு எண் (a number)",
    "text": "ஒரு சொல் (a string)",
    "boolean": "ஒரு ஈர்மம் (a boolean)",
    "array": "ஒரு அணி (an array)",
    "record": "ஒரு பொருள் (a record)",
}


def type_error(line: int, column: int, name: str, declared: str, given: str) -> str:
    d, f = DECLARED[declared], FOUND[given]
    return (
        f"வரி {line}, நெடுவரிசை {column}: '{name}' {d} என அறிவிக்கப்பட்டது, ஆனால் {f} வழங்கப்பட்டது  "
        f"(line {line}, column {column}: '{name}' is declared {d}, but was given {f})"
    )


def errors(source: str) -> list[str]:
    return check(parse(tokenize(source)))


def at(source: str, fragment: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column) of the ``occurrence``-th ``fragment`` in ``source``, columns in code points."""
    offset = -1
    for _ in range(occurrence):
        offset = source.index(fragment, offset + 1)
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


# ------------------------------------------------------------------ which type a keyword names

KEYWORD_TYPES = [
    ("eN", "number"), ("எண்", "number"), ("piZZam", "number"), ("பின்னம்", "number"),
    ("col", "text"), ("சொல்", "text"), ("urY", "text"), ("உரை", "text"),
    ("Irma", "boolean"), ("ஈர்ம", "boolean"),
    ("aNi", "array"), ("அணி", "array"),
    ("poruL", "record"), ("பொருள்", "record"), ("qaravu", "record"), ("தரவு", "record"),
    ("qEqi", "date"), ("தேதி", "date"),
]

# a value of each inferable kind, and one value that no declared type accepts together with it
SAMPLES = {"number": "1", "text": '"a"', "boolean": "mey", "array": "[1]", "record": "{a: 1}"}
ACCEPTS = {
    "number": {"number"},
    "text": {"text", "number"},
    "boolean": {"boolean"},
    "array": {"array"},
    "record": {"record"},
    "date": {"text", "number"},
}


@pytest.mark.parametrize(("keyword", "declared"), KEYWORD_TYPES)
@pytest.mark.parametrize("given", sorted(SAMPLES))
def test_declaration_matrix(keyword, declared, given):
    source = f"{keyword} v = {SAMPLES[given]};"
    column = len(keyword) + 2
    expected = [] if given in ACCEPTS[declared] else [type_error(1, column, "v", declared, given)]
    assert errors(source) == expected


def test_error_names_the_type_not_the_keyword_used():
    assert errors("urY x = mey;") == [type_error(1, 5, "x", "text", "boolean")]
    assert errors("piZZam x = mey;") == [type_error(1, 8, "x", "number", "boolean")]
    assert errors("qaravu x = 1;") == [type_error(1, 8, "x", "record", "number")]


# ------------------------------------------------------------------------ what is inferred

@pytest.mark.parametrize(
    ("expression", "inferred"),
    [
        ("5", "number"), ("0.50", "number"), ("20%", "number"),
        ('"a" + "b"', "number"), ('"a" - 1', "number"), ("mey * 2", "number"), ('"4" / 2', "number"),
        ('-"a"', "number"), ("-x", "number"),
        ('"s"', "text"), ("1 & 2", "text"), ("[1] & {}", "text"),
        ("mey", "boolean"), ("poy", "boolean"), ("1 == 1", "boolean"), ('"a" != 1', "boolean"),
        ("1 < 2", "boolean"), ("1 <= 2", "boolean"), ("1 > 2", "boolean"), ("1 >= 2", "boolean"),
        ("1 maRRum 2", "boolean"), ("1 allaqu 2", "boolean"), ("illY 1", "boolean"),
        ("[]", "array"), ("[1, 2]", "array"),
        ("{}", "record"), ("{a: 1}", "record"),
    ],
)
def test_inferred_kinds(expression, inferred):
    # Boolean accepts only Boolean, so declaring a boolean reveals every other inferred kind;
    # declaring an array reveals Boolean.
    declared = "array" if inferred == "boolean" else "boolean"
    keyword = "aNi" if declared == "array" else "Irma"
    assert errors(f"{keyword} v = {expression};") == [
        type_error(1, len(keyword) + 2, "v", declared, inferred)
    ]


@pytest.mark.parametrize(
    "expression",
    ["iZmY", "f()", "nILam(1)", "a[0]", "[1][0]", "r.f", "{a: 1}.a", "f()?", "undeclared", "(iZmY)"],
)
@pytest.mark.parametrize("keyword", ["eN", "col", "Irma", "aNi", "poruL", "qEqi"])
def test_unknown_expressions_satisfy_every_declaration(keyword, expression):
    assert errors(f"{keyword} v = {expression};") == []


def test_declared_variable_is_inferred_as_its_declaration():
    source = "aNi a = [1]; poruL r = a; eN n = a; Irma b = mey; col s = b;"
    assert errors(source) == [
        type_error(*at(source, "r = a"), "r", "record", "array"),
        type_error(*at(source, "n = a"), "n", "number", "array"),
        type_error(*at(source, "s = b"), "s", "text", "boolean"),
    ]


def test_date_variable_reads_as_text():
    source = 'qEqi d = "2024-01-01"; col s = d; qEqi e = d; eN n = d;'
    assert errors(source) == [type_error(*at(source, "n = d"), "n", "number", "text")]


def test_text_and_date_accept_numbers():
    assert errors("col s = 5; urY t = 1 + 2; qEqi d = 20240101; qEqi e = -1; col u = 20%;") == []


# ----------------------------------------------------------------------------- procedure


@pytest.mark.parametrize(("keyword", "declared"), [("Irma", "boolean"), ("aNi", "array"), ("poruL", "record"),
                                                   ("qaravu", "record"), ("ஈர்ம", "boolean")])
def test_bare_declaration_checks_zero_which_is_a_number(keyword, declared):
    assert errors(f"{keyword} f;") == [type_error(1, len(keyword) + 2, "f", declared, "number")]


@pytest.mark.parametrize("keyword", ["eN", "piZZam", "col", "urY", "qEqi"])
def test_bare_declaration_of_number_text_or_date_is_fine(keyword):
    assert errors(f"{keyword} f;") == []


def test_spec_example_message_for_boolean_declaration():
    assert errors("ஈர்ம f;") == [
        "வரி 1, நெடுவரிசை 6: 'f' ஈர்ம (Irma, a boolean) என அறிவிக்கப்பட்டது, ஆனால் ஒரு எண் (a number) வழங்கப்பட்டது  "
        "(line 1, column 6: 'f' is declared ஈர்ம (Irma, a boolean), but was given ஒரு எண் (a number))"
    ]


def test_type_is_recorded_even_when_the_check_failed():
    assert errors('eN x = "a";\nx = "b";\nx = 3;') == [
        type_error(1, 4, "x", "number", "text"),
        type_error(2, 1, "x", "number", "text"),
    ]


def test_undeclared_assignment_checks_against_recorded_type():
    source = 'col s = "a"; s = 1; s = mey; s = [1]; t = mey;'
    assert errors(source) == [
        type_error(*at(source, "s = mey"), "s", "text", "boolean"),
        type_error(*at(source, "s = [1]"), "s", "text", "array"),
    ]


def test_bare_name_checks_zero_against_recorded_type():
    assert errors("Irma b = mey;\nb;") == [type_error(2, 1, "b", "boolean", "number")]


def test_redeclaration_replaces_the_recorded_type():
    source = 'eN x = 1; col x = "a"; x = "b"; x = mey;'
    assert errors(source) == [type_error(*at(source, "x = mey"), "x", "text", "boolean")]


def test_element_field_call_and_return_are_not_checked():
    source = 'eN x = 1; x[0] = "a"; x.f = mey; ceyal f() { qirumpu "s"; } f("a"); qirumpu "a";'
    assert errors(source) == []


def test_function_body_has_an_empty_table_and_the_outer_one_is_restored():
    source = """
eN x = 1;
ceyal f(p) {
    x = "a";
    eN p = p;
    col y = "s";
    y = mey;
}
y = mey;
x = "b";
"""
    assert errors(source) == [
        type_error(7, 5, "y", "text", "boolean"),
        type_error(10, 1, "x", "number", "text"),
    ]


def test_parameters_carry_no_type():
    assert errors('eN p = 1; ceyal f(p) { p = "a"; }') == []


def test_declaration_inside_a_function_does_not_flow_out():
    assert errors('ceyal f() { eN y = 1; } y = "a";') == []


def test_function_defined_inside_a_block_and_inside_a_function():
    source = 'eN x = 1; (c) eZil { ceyal f() { x = "a"; ceyal g() { eN z = "q"; } z = "r"; } } x = "b";'
    assert errors(source) == [
        type_error(*at(source, "z = "), "z", "number", "text"),
        type_error(*at(source, 'x = "b"'), "x", "number", "text"),
    ]


def test_for_each_variable_loses_its_type():
    assert errors('eN v = 1; ovvoru v il [1] { v = "a"; } v = "b";') == []


def test_for_each_body_is_checked():
    assert errors('ovvoru v il [1] { eN n = "a"; }') == [type_error(1, 22, "n", "number", "text")]


@pytest.mark.parametrize(
    "statement",
    ['kOppu_pati "f", t;', 'qaravurY_pati "f", t;', 'qaLam_viZA "select 1", [], t;', 'கோப்பு_படி "f", "t";'],
)
def test_host_statements_reading_into_a_name_forget_its_type(statement):
    assert errors(f'eN t = 1; {statement} t = "a";') == []


def test_blocks_do_not_scope_declarations():
    source = '(c) eZil { eN x = 1; } iZREl { col y = "a"; } x = "s"; y = mey; (c) cuRRu { Irma z = mey; } z = 1;'
    assert errors(source) == [
        type_error(*at(source, 'x = "s"'), "x", "number", "text"),
        type_error(*at(source, "y = mey"), "y", "text", "boolean"),
        type_error(*at(source, "z = 1"), "z", "boolean", "number"),
    ]


def test_if_else_and_loop_bodies_are_checked():
    source = '(c) eZil { eN a = "x"; } iZREl { eN b = "y"; }\n(c) cuRRu { eN d = "z"; }'
    assert errors(source) == [
        type_error(1, 15, "a", "number", "text"),
        type_error(1, 37, "b", "number", "text"),
        type_error(2, 16, "d", "number", "text"),
    ]


def test_route_and_timer_bodies_are_checked():
    source = 'vazhi peRu, "/" { eN a = "x"; }\nitYveLi 5 { col b = mey; }'
    assert errors(source) == [
        type_error(1, 22, "a", "number", "text"),
        type_error(2, 17, "b", "text", "boolean"),
    ]


def test_all_errors_are_reported_in_program_order():
    source = 'eN a = "1";\nIrma b = 2;\naNi c = {};\nporuL d = [];\ncol e = mey;\nqEqi f = [];'
    assert errors(source) == [
        type_error(1, 4, "a", "number", "text"),
        type_error(2, 6, "b", "boolean", "number"),
        type_error(3, 5, "c", "array", "record"),
        type_error(4, 7, "d", "record", "array"),
        type_error(5, 5, "e", "text", "boolean"),
        type_error(6, 6, "f", "date", "array"),
    ]


def test_position_is_the_name_token_in_code_points():
    assert errors('  எண்   வருவாய் = "x";') == [type_error(1, 9, "வருவாய்", "number", "text")]


def test_soft_keyword_names_keep_their_spelling():
    assert errors('eN vari = 1; வரி = "a"; vari = "b";') == [type_error(1, 25, "vari", "number", "text")]


def test_type_prefix_before_non_assignments_records_nothing():
    assert errors('eN a[0] = "x"; a = "y"; col f(1);') == []


def test_accepts_a_program_or_a_statement_list():
    program = load_text('eN x = "a";')
    assert check(program) == check(program.statements) == [type_error(1, 4, "x", "number", "text")]


def test_well_typed_program_has_no_errors():
    source = """
eN total = 0;
col name = "x";
aNi items = [1, 2];
poruL row = {a: 1};
Irma ok = total < 3;
ovvoru item il items { total = total + item; }
name = name & total;
qEqi today = "2026-01-01";
"""
    assert errors(source) == []
