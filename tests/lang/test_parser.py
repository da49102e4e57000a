"""The parser against LANGUAGE.md §3 (grammar, statement rules, parse errors) and the host
statement grammar of HOST.md (§4.3 routes, §5.2 databases, §6.1 files)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etamil_server.lang import syntax as ast
from etamil_server.lang.lexer import tokenize
from etamil_server.lang.parser import ParseError, Parser, parse


def statements(source: str) -> list:
    return parse(tokenize(source))


def parse_error(source: str) -> str:
    with pytest.raises(ParseError) as caught:
        statements(source)
    return caught.value.message


def found(line: int, column: int, expected: str, text: str) -> str:
    return (
        f"வரி {line}, நெடுவரிசை {column}: {expected} எதிர்பார்க்கப்பட்டது, '{text}' கிடைத்தது  "
        f"(line {line}, column {column}: expected {expected}, found '{text}')"
    )


def ended(line: int, column: int, expected: str) -> str:
    return (
        f"வரி {line}, நெடுவரிசை {column}: {expected} எதிர்பார்க்கப்பட்டது, உள்ளீடு முடிந்தது  "
        f"(line {line}, column {column}: expected {expected}, but the input ended)"
    )


def sx(node) -> str:
    """An s-expression of an expression tree: shows grouping unambiguously."""
    if isinstance(node, ast.Number | ast.String):
        return node.text
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.Nil):
        return "nil"
    if isinstance(node, ast.Var):
        return node.name
    if isinstance(node, ast.Call):
        return "(call " + " ".join([node.name, *map(sx, node.args)]) + ")"
    if isinstance(node, ast.Index):
        return f"(index {sx(node.base)} {sx(node.index)})"
    if isinstance(node, ast.Field):
        return f"(. {sx(node.base)} {node.key})"
    if isinstance(node, ast.Try):
        return f"(? {sx(node.operand)})"
    if isinstance(node, ast.Neg):
        return f"(neg {sx(node.operand)})"
    if isinstance(node, ast.Not):
        return f"(not {sx(node.operand)})"
    if isinstance(node, ast.Binary | ast.Logical):
        return f"({node.op} {sx(node.left)} {sx(node.right)})"
    if isinstance(node, ast.ArrayLit):
        return "[" + " ".join(map(sx, node.items)) + "]"
    if isinstance(node, ast.RecordLit):
        return "{" + " ".join(f"{key}:{sx(value)}" for key, value in node.entries) + "}"
    raise AssertionError(f"unexpected node {node!r}")


def expr(source: str) -> str:
    (statement,) = statements(f"x = {source};")
    return sx(statement.value)


# ------------------------------------------------------------------------- precedence (§3.4)


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        # level 1 / 2: or looser than and
        ("a allaqu b maRRum c", "(or a (and b c))"),
        ("a maRRum b allaqu c", "(or (and a b) c)"),
        ("a allaqu b allaqu c", "(or (or a b) c)"),
        ("a maRRum b maRRum c", "(and (and a b) c)"),
        # level 3: not is prefix and right-recursive, looser than comparisons
        ("illY a == b", "(not (== a b))"),
        ("illY a maRRum b", "(and (not a) b)"),
        ("a maRRum illY b", "(and a (not b))"),
        ("illY illY a", "(not (not a))"),
        ("illY a allaqu b", "(or (not a) b)"),
        ("illY a + b", "(not (+ a b))"),
        # level 4: comparisons chain left to right (upstream defect kept)
        ("a < b < c", "(< (< a b) c)"),
        ("3 > 2 > 1", "(> (> 3 2) 1)"),
        ("a == b != c", "(!= (== a b) c)"),
        ("a <= b >= c", "(>= (<= a b) c)"),
        ("a == b maRRum c", "(and (== a b) c)"),
        ("a < b + c", "(< a (+ b c))"),
        # level 5: + - & on one level, left-associative
        ('"x" & 1 + 2', '(+ (& "x" 1) 2)'),
        ('"x" & (1 + 2)', '(& "x" (+ 1 2))'),
        ("a - b - c", "(- (- a b) c)"),
        ("a - b + c", "(+ (- a b) c)"),
        ("a & b + c & d", "(& (+ (& a b) c) d)"),
        # level 6
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a / b / c", "(/ (/ a b) c)"),
        ("a * b / c", "(/ (* a b) c)"),
        ("a / b * c", "(* (/ a b) c)"),
        ("(a + b) * c", "(* (+ a b) c)"),
        # unary minus: tighter than everything except postfix
        ("-2 * 3", "(* (neg 2) 3)"),
        ("-a.b", "(neg (. a b))"),
        ("-f()?", "(neg (? (call f)))"),
        ("-a[0]", "(neg (index a 0))"),
        ("10 - -3", "(- 10 (neg 3))"),
        ("- - 3", "(neg (neg 3))"),
        ("-(a + b)", "(neg (+ a b))"),
        ("-a * -b", "(* (neg a) (neg b))"),
        # level 7: postfix, any number, left to right
        ("a[0].b?", "(? (. (index a 0) b))"),
        ("a.b[1]", "(index (. a b) 1)"),
        ("f(1)?.x", "(. (? (call f 1)) x)"),
        ("a??", "(? (? a))"),
        ('r."a b"', "(. r a b)"),
        ("m[1][0]", "(index (index m 1) 0)"),
        ("a[b + 1]", "(index a (+ b 1))"),
        # primaries
        ("f(a, b + 1, g())", "(call f a (+ b 1) (call g))"),
        ("[1, [2], {}]", "[1 [2] {}]"),
        ('{a: 1, "b c": [], a: 2}', "{a:1 b c:[] a:2}"),
        ("mey allaqu poy allaqu iZmY", "(or (or true false) nil)"),
        ("20% + 12.5%", "(+ 20% 12.5%)"),
    ],
)
def test_precedence_and_associativity(source, tree):
    assert expr(source) == tree


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("a _or b _and c", "(or a (and b c))"),
        ("a அல்லது b மற்றும் c", "(or a (and b c))"),
        ("_not a == b", "(not (== a b))"),
        ("இல்லை a", "(not a)"),
        ("மெய் _or பொய்", "(or true false)"),
        ("இன்மை", "nil"),
    ],
)
def test_operator_keywords_in_every_spelling(source, tree):
    assert expr(source) == tree


def test_calls_are_only_possible_on_a_name():
    assert parse_error("x = f(1)(2);") == found(1, 9, "';'", "(")
    assert parse_error("x = (f)(2);") == found(1, 8, "';'", "(")


def test_soft_keyword_can_be_called_and_read():
    assert expr("vari(varavu)") == "(call vari varavu)"


@given(st.lists(st.sampled_from(["+", "-", "*", "/", "&"]), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_binary_chains_group_by_precedence_then_left_to_right(operators):
    names = [f"v{i}" for i in range(len(operators) + 1)]
    source = names[0] + "".join(f" {op} {name}" for op, name in zip(operators, names[1:], strict=True))

    # reference: precedence climbing with two levels, all left-associative
    def climb(tokens: list[str]) -> str:
        def level(items, ops):
            result = items[0]
            for op, item in zip(ops, items[1:], strict=True):
                result = f"({op} {result} {item})"
            return result

        terms: list[str] = []
        term_items, term_ops = [tokens[0]], []
        additive_ops = []
        for op, name in zip(tokens[1::2], tokens[2::2], strict=True):
            if op in "*/":
                term_items.append(name)
                term_ops.append(op)
            else:
                terms.append(level(term_items, term_ops))
                additive_ops.append(op)
                term_items, term_ops = [name], []
        terms.append(level(term_items, term_ops))
        return level(terms, additive_ops)

    tokens = [names[0]]
    for op, name in zip(operators, names[1:], strict=True):
        tokens += [op, name]
    assert expr(source) == climb(tokens)


# ----------------------------------------------------------------------- statement rules (§3.2)


def test_compound_statement_must_not_be_followed_by_semicolon():
    assert parse_error("ceyal f() { };") == found(1, 14, "a statement", ";")
    assert parse_error("(x) eZil { };") == found(1, 13, "a statement", ";")
    assert parse_error("(x) cuRRu { } ;") == found(1, 15, "a statement", ";")
    assert parse_error("ovvoru v il xs { };") == found(1, 19, "a statement", ";")


def test_empty_statement_is_an_error():
    assert parse_error(";") == found(1, 1, "a statement", ";")
    assert parse_error("x = 1;;") == found(1, 7, "a statement", ";")


def test_call_statement_is_the_only_expression_statement():
    (statement,) = statements("f(x);")
    assert isinstance(statement, ast.CallStmt)
    assert sx(statement.call) == "(call f x)"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("f(x)?;", found(1, 5, "';'", "?")),
        ("f(x).y;", found(1, 5, "';'", ".")),
        ("f(x)[0];", found(1, 5, "';'", "[")),
        ("f(x) + 1;", found(1, 6, "';'", "+")),
        ("5;", found(1, 1, "a statement", "5")),
        ('"s";', found(1, 1, "a statement", '"s"')),
        ("x == 1;", found(1, 3, "'='", "==")),
        ("-x;", found(1, 1, "a statement", "-")),
        ("[1];", found(1, 1, "a statement", "[")),
        ("{a: 1};", found(1, 1, "a statement", "{")),
        ("(x);", found(1, 4, "எனில் (eZil) or சுற்று (cuRRu) after a condition", ";")),
        ("mey;", found(1, 1, "a statement", "mey")),
        ("iZmY;", found(1, 1, "a statement", "iZmY")),
    ],
)
def test_other_expression_statements_are_errors(source, message):
    assert parse_error(source) == message


def test_condition_must_be_wrapped_whole():
    (statement,) = statements("(a > 1 maRRum b < 2) eZil { }")
    assert isinstance(statement, ast.If)
    assert sx(statement.condition) == "(and (> a 1) (< b 2))"
    assert parse_error("(a > 1) maRRum (b < 2) eZil { }") == found(
        1, 9, "எனில் (eZil) or சுற்று (cuRRu) after a condition", "maRRum"
    )


def test_if_else_and_loop_nodes():
    (statement,) = statements("(a) eZil { accu 1; } iZREl { accu 2; accu 3; }")
    assert isinstance(statement, ast.If)
    assert (len(statement.then), len(statement.otherwise)) == (1, 2)
    (statement,) = statements("(a) eZil { }")
    assert statement.otherwise is None and statement.then == []
    (statement,) = statements("(i < 3) cuRRu { i = i + 1; }")
    assert isinstance(statement, ast.While)
    assert sx(statement.condition) == "(< i 3)"
    assert isinstance(statement.body[0], ast.Assign)


def test_tamil_and_english_control_spellings():
    (statement,) = statements("(a) எனில் { } இன்றேல் { }")
    assert isinstance(statement, ast.If) and statement.otherwise == []
    (statement,) = statements("(a) சுற்று { }")
    assert isinstance(statement, ast.While)
    (statement,) = statements("_each v _in xs { }")
    assert isinstance(statement, ast.ForEach) and statement.var == "v"
    (statement,) = statements("_fn f(a, b) { _return a; }")
    assert isinstance(statement, ast.FunctionDef) and statement.params == ["a", "b"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("(x) eZil accu 1;", found(1, 10, "'{'", "accu")),
        ("(x) eZil { } iZREl accu 1;", found(1, 20, "'{'", "accu")),
        ("(x) cuRRu x = 1;", found(1, 11, "'{'", "x")),
        ("ovvoru v il xs accu v;", found(1, 16, "'{'", "accu")),
        ("ceyal f() qirumpu 1;", found(1, 11, "'{'", "qirumpu")),
    ],
)
def test_blocks_are_mandatory(source, message):
    assert parse_error(source) == message


def test_no_else_if():
    assert parse_error("(a) eZil { } iZREl (b) eZil { }") == found(1, 20, "'{'", "(")
    assert parse_error("(a) eZil { } iZREl { } iZREl { }") == found(1, 24, "a statement", "iZREl")
    assert parse_error("iZREl { }") == found(1, 1, "a statement", "iZREl")


def test_nested_else_if_chain():
    (statement,) = statements("(a) eZil { } iZREl { (b) eZil { accu 1; } }")
    inner = statement.otherwise[0]
    assert isinstance(inner, ast.If) and sx(inner.condition) == "b"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("m[0][1] = 2;", found(1, 5, "'='", "[")),
        ("r.a.b = 1;", found(1, 4, "'='", ".")),
        ("x = y = 1;", found(1, 7, "';'", "=")),
        ("r.a[0] = 1;", found(1, 4, "'='", "[")),
        ("x + 1 = 2;", found(1, 3, "'='", "+")),
    ],
)
def test_assignment_targets_are_one_level_deep(source, message):
    assert parse_error(source) == message


def test_assignment_nodes():
    assign, set_index, set_field, set_string_field = statements(
        'x = 1; a[i + 1] = 2; r.f = 3; r."a b" = 4;'
    )
    assert isinstance(assign, ast.Assign) and (assign.name, sx(assign.value)) == ("x", "1")
    assert isinstance(set_index, ast.SetIndex)
    assert (set_index.name, sx(set_index.index), sx(set_index.value)) == ("a", "(+ i 1)", "2")
    assert isinstance(set_field, ast.SetField) and (set_field.name, set_field.key) == ("r", "f")
    assert (set_string_field.key, sx(set_string_field.value)) == ("a b", "4")


def test_bare_name_declares_with_value_none_meaning_zero():
    plain, typed = statements("total; eN count;")
    assert isinstance(plain, ast.Assign) and plain.value is None and plain.declared is None
    assert isinstance(typed, ast.Assign) and typed.value is None and typed.declared == "IntegerType"
    assert (typed.name, typed.name_line, typed.name_column) == ("count", 1, 11)


@pytest.mark.parametrize(
    ("keyword", "token"),
    [
        ("eN", "IntegerType"), ("piZZam", "FloatType"), ("col", "StringType"), ("urY", "TextType"),
        ("Irma", "BoolType"), ("aNi", "ArrayType"), ("qaravu", "DataType"), ("poruL", "ObjectType"),
        ("qEqi", "DateType"), ("எண்", "IntegerType"), ("தேதி", "DateType"),
    ],
)
def test_type_prefix_is_recorded_on_assignments(keyword, token):
    (statement,) = statements(f"{keyword} v = 1;")
    assert isinstance(statement, ast.Assign) and statement.declared == token
    assert (statement.name_line, statement.name_column) == (1, len(keyword) + 2)


def test_type_prefix_is_accepted_and_ignored_before_other_name_statements():
    set_index, set_field, call = statements("eN a[0] = 1; col r.f = 2; aNi f(1);")
    assert isinstance(set_index, ast.SetIndex)
    assert isinstance(set_field, ast.SetField)
    assert isinstance(call, ast.CallStmt)


def test_type_prefix_before_a_non_name_is_dropped():
    if_statement, print_statement, loop = statements("eN (x > 0) eZil { } col accu 1; Irma (x) cuRRu { }")
    assert isinstance(if_statement, ast.If)
    assert isinstance(print_statement, ast.Print)
    assert isinstance(loop, ast.While)


def test_two_type_keywords_are_an_error():
    assert parse_error("eN col x = 1;") == found(1, 4, "a name after the type", "col")
    assert parse_error("eN") == ended(1, 1, "a name after the type")


def test_type_prefix_then_a_hard_keyword_that_starts_nothing():
    assert parse_error("eN il = 1;") == found(1, 4, "a statement", "il")


def test_let_and_const_keywords_have_no_syntax():
    (statement,) = statements("நிலை = 3;")
    assert isinstance(statement, ast.Assign) and statement.name == "நிலை"
    assert parse_error("nilY x = 5;") == found(1, 6, "'='", "x")
    assert parse_error("mARi x = 5;") == found(1, 6, "'='", "x")


def test_import_takes_one_string_literal():
    (statement,) = statements('iRakku "nUlakam/col.qmz";')
    assert isinstance(statement, ast.Import) and statement.path == "nUlakam/col.qmz"
    (statement,) = statements('_import "a\\tb.qmz";')
    assert statement.path == "a\tb.qmz"


@pytest.mark.parametrize(
    ("source", "column"),
    [("iRakku x;", 9), ('iRakku "a" & "b";', 17), ("இறக்கு p;", 9), ("iRakku 5;", 9)],
)
def test_import_of_anything_else_is_the_misleading_input_ended_error(source, column):
    assert parse_error(source) == ended(1, column, "a quoted file path after இறக்கு (iRakku)")


def test_import_inside_a_block_parses():
    (statement,) = statements('(x) eZil { iRakku "m.qmz"; }')
    assert isinstance(statement.then[0], ast.Import)


def test_return_parses_anywhere():
    top, bare = statements("qirumpu 1 + 2; qirumpu;")
    assert isinstance(top, ast.Return) and sx(top.value) == "(+ 1 2)"
    assert isinstance(bare, ast.Return) and bare.value is None


def test_function_definitions_appear_anywhere():
    (statement,) = statements("(x) eZil { ceyal f() { ceyal g(a) { qirumpu a; } } }")
    outer = statement.then[0]
    assert isinstance(outer, ast.FunctionDef) and outer.name == "f" and outer.params == []
    inner = outer.body[0]
    assert isinstance(inner, ast.FunctionDef) and inner.params == ["a"]


def test_for_each_node():
    (statement,) = statements("ovvoru v il [1, 2] { accu v; }")
    assert isinstance(statement, ast.ForEach)
    assert (statement.var, sx(statement.collection)) == ("v", "[1 2]")


# ------------------------------------------------------------------------- names and keys (§3.3)


def test_keys_may_be_strings_standing_for_their_contents():
    record, loop, function = statements(
        'r = {"Content-Type": "text/csv", "il": 1}; ovvoru "x y" il r { } ceyal "f g"("p q") { }'
    )
    assert [key for key, _ in record.value.entries] == ["Content-Type", "il"]
    assert loop.var == "x y"
    assert (function.name, function.params) == ("f g", ["p q"])


def test_soft_keywords_are_names_and_keep_their_spelling():
    first, second, record = statements("vari = 1; வரி = 2; r = {vari: 1, வரி: 2};")
    assert (first.name, second.name) == ("vari", "வரி")
    assert [key for key, _ in record.value.entries] == ["vari", "வரி"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = {col: 1};", found(1, 6, "a field name", "col")),
        ("x = {il: 1};", found(1, 6, "a field name", "il")),
        ("x = {1: 2};", found(1, 6, "a field name", "1")),
        ("x = {a: 1,};", found(1, 11, "a field name", "}")),
        ("x = r.il;", found(1, 7, "a field name", "il")),
        ("r.eN = 1;", found(1, 3, "a field name", "eN")),
        ("x = f(1,);", found(1, 9, "a value", ")")),
        ("x = [1, 2,];", found(1, 11, "a value", "]")),
        ("ovvoru il il x { }", found(1, 8, "a loop variable", "il")),
        ("ceyal accu() { }", found(1, 7, "a function name", "accu")),
        ("ceyal f(a, eN) { }", found(1, 12, "a parameter name", "eN")),
        ("x = _join(1);", found(1, 5, "a value", "_join")),
        ("il = 1;", found(1, 1, "a statement", "il")),
        ("x = pati;", found(1, 5, "a value", "pati")),
        ("kOppu x;", found(1, 1, "a statement", "kOppu")),
        ("qaLam_qEtu x;", found(1, 1, "a statement", "qaLam_qEtu")),
    ],
)
def test_hard_keywords_and_numbers_are_not_names(source, message):
    assert parse_error(source) == message


def test_duplicate_record_keys_are_all_kept_by_the_parser():
    (statement,) = statements("x = {a: 1, a: 2};")
    assert [key for key, _ in statement.value.entries] == ["a", "a"]


# ---------------------------------------------------------------------- every §3.5 expected text

EXPECTED_TEXT_CASES = [
    ("x = 1 y", found(1, 7, "';'", "y")),
    ("kOppu_ezuqu \"f\" 1;", found(1, 17, "','", "1")),
    ("x = {a 1};", found(1, 8, "':'", "1")),
    ("x 1;", found(1, 3, "'='", "1")),
    ("ceyal f { }", found(1, 9, "'('", "{")),
    ("ceyal f(a b) { }", found(1, 11, "')'", "b")),
    ("(1 eZil { }", found(1, 4, "')'", "eZil")),
    ("(x) eZil accu 1;", found(1, 10, "'{'", "accu")),
    ("ceyal f(a) {", ended(1, 12, "'}'")),
    ("x = [1 2];", found(1, 8, "']'", "2")),
    ("x = a[1;", found(1, 8, "']'", ";")),
    ("ovvoru v x { }", found(1, 10, "இல் (il)", "x")),
    ("qErvetu a qaLam;", found(1, 11, "இதனில் (iqaZil)", "qaLam")),
    ("accu ;", found(1, 6, "a value", ";")),
    (";", found(1, 1, "a statement", ";")),
    ("eN eN x;", found(1, 4, "a name after the type", "eN")),
    ("ceyal (a) { }", found(1, 7, "a function name", "(")),
    ("ceyal f(1) { }", found(1, 9, "a parameter name", "1")),
    ("x = r.1;", found(1, 7, "a field name", "1")),
    ("ovvoru 1 il x { }", found(1, 8, "a loop variable", "1")),
    ("kOppu_pati \"f\", 1;", found(1, 17, "a variable to read into", "1")),
    ("qaravurY_pati \"f\", il;", found(1, 20, "a variable to read into", "il")),
    ("qaLam_viZA \"s\", [], 1;", found(1, 21, "a variable to hold the rows", "1")),
    ("qaLam_ceruka 1, x;", found(1, 14, "a table name", "1")),
    ("qErvetu a iqaZil 1;", found(1, 18, "a table name", "1")),
    ("qErvetu 1 iqaZil t;", found(1, 9, "a column name", "1")),
    ("qErvetu a, 1 iqaZil t;", found(1, 12, "a column name", "1")),
    ("qaLam_iNY", ended(1, 1, "a database type")),
    ("vazhi", ended(1, 1, "an HTTP method")),
    ("(x) x = 1;", found(1, 5, "எனில் (eZil) or சுற்று (cuRRu) after a condition", "x")),
    ("iRakku x;", ended(1, 9, "a quoted file path after இறக்கு (iRakku)")),
]


@pytest.mark.parametrize(("source", "message"), EXPECTED_TEXT_CASES, ids=[c[0] for c in EXPECTED_TEXT_CASES])
def test_expected_texts_of_3_5(source, message):
    assert parse_error(source) == message


def test_spec_examples_of_3_5():
    assert parse_error("x = 1\ny = 2;") == found(2, 1, "';'", "y")
    assert parse_error("accu ;") == found(1, 6, "a value", ";")
    assert parse_error("x = [1, 2,];") == found(1, 11, "a value", "]")
    assert parse_error("ceyal f(a) {") == ended(1, 12, "'}'")


# ------------------------------------------------------------------------------- error positions


def test_found_text_is_the_token_as_written():
    assert parse_error('x = 1 "a\\tb";') == found(1, 7, "';'", '"a\\tb"')
    assert parse_error("x = 1 2.50;") == found(1, 7, "';'", "2.50")
    assert parse_error("x = 1 20%;") == found(1, 7, "';'", "20%")
    assert parse_error("x = 1 அச்சு 2;") == found(1, 7, "';'", "அச்சு")


def test_found_position_after_a_multi_line_string():
    assert parse_error('x = "a\nbc" y') == found(2, 5, "';'", "y")


def test_found_position_counts_code_points():
    assert parse_error("வருவாய் = 5 வரி;") == found(1, 13, "';'", "வரி")


@pytest.mark.parametrize(
    ("source", "line", "column", "expected"),
    [
        ("x = 1", 1, 5, "';'"),
        ("x =", 1, 3, "a value"),
        ("x", 1, 1, "'='"),
        ("accu\n  1 +", 2, 5, "a value"),
        ("(x) eZil {\n accu 1;\n", 2, 8, "'}'"),
        ("ceyal f(", 1, 8, "a parameter name"),
        ("x = {a:", 1, 7, "a value"),
        ("x = {", 1, 5, "a field name"),
        ("ovvoru v", 1, 8, "இல் (il)"),
        ("eN x", 1, 4, "'='"),
    ],
)
def test_input_ended_is_positioned_at_the_last_consumed_token(source, line, column, expected):
    assert parse_error(source) == ended(line, column, expected)


def test_input_ended_with_no_token_consumed_is_at_1_1():
    with pytest.raises(ParseError) as caught:
        Parser([]).statement()
    assert caught.value.message == ended(1, 1, "a statement")


def test_empty_program_parses_to_nothing():
    assert statements("") == []
    assert statements("// only a comment\n") == []


def test_node_positions():
    assign, print_statement = statements("  x = a + b;\naccu -1;")
    assert (assign.line, assign.column) == (1, 3)
    assert (assign.value.line, assign.value.column) == (1, 9)  # the operator token
    assert (print_statement.line, print_statement.column) == (2, 1)
    assert (print_statement.value.line, print_statement.value.column) == (2, 6)


# ------------------------------------------------------------- host statements (HOST.md, §3.1)


def test_print_and_input():
    print_statement, input_var, input_other = statements("accu 1 & 2; uLLitu x; உள்ளிடு x + 1;")
    assert isinstance(print_statement, ast.Print) and sx(print_statement.value) == "(& 1 2)"
    assert isinstance(input_var, ast.Input) and isinstance(input_var.target, ast.Var)
    assert isinstance(input_other, ast.Input) and sx(input_other.target) == "(+ x 1)"


@pytest.mark.parametrize(
    ("source", "mode"),
    [
        ('kOppu_qiRa "f";', "read"),
        ('kOppu_qiRa "f", "write";', "write"),
        ('kOppu_qiRa "f", "WRITE";', "write"),
        ('kOppu_qiRa "f", "Append";', "append"),
        ('kOppu_qiRa "f", m;', "m"),
        ('kOppu_qiRa "f", Write;', "write"),
        ('கோப்பு_திற "f", முறை_x;', "முறை_x"),
        ('kOppu_qiRa "f", 12;', "12"),
        ('kOppu_qiRa "f", 1.50;', "1.50"),
        ('_fileOpen "f", "W\\tX";', "w\tx"),
    ],
)
def test_file_open_mode_is_fixed_from_the_source(source, mode):
    (statement,) = statements(source)
    assert isinstance(statement, ast.FileOpen)
    assert statement.mode == mode


def test_file_open_mode_of_other_expressions_is_a_fixed_word_not_evaluated():
    (concatenated,) = statements('kOppu_qiRa "f", "wri" & "te";')
    (called,) = statements('kOppu_qiRa "f", mode("write");')
    assert concatenated.mode != "write" and called.mode != "write"


@pytest.mark.parametrize(
    ("source", "node", "attributes"),
    [
        ('kOppu_mUtu "f";', ast.FileClose, {}),
        ('kOppu_ezuqu "f", x;', ast.FileWrite, {"csv": False}),
        ('qaravurY_ezuqu "f", x;', ast.FileWrite, {"csv": True}),
        ('kOppu_pati "f", v;', ast.FileRead, {"csv": False, "target": "v"}),
        ('qaravurY_pati "f", "v w";', ast.FileRead, {"csv": True, "target": "v w"}),
        ('தரவுரை_படி "f", வரி;', ast.FileRead, {"csv": True, "target": "வரி"}),
        ('qaLam_iNY cIkulYt, ":memory:";', ast.DbConnect, {"db_type": "SQLite"}),
        ('qaLam_iNY _SQLite, ":memory:";', ast.DbConnect, {"db_type": "SQLite"}),
        ('qaLam_iNY kavi_mozi, ":memory:";', ast.DbConnect, {"db_type": "SQL"}),
        ('qaLam_iNY pOckuracIkul, "x";', ast.DbConnect, {"db_type": "PostgreSQL"}),
        ('qaLam_iNY மைசீகுல், "x";', ast.DbConnect, {"db_type": "MySQL"}),
        ('qaLam_iNY mAwkOtipi, "x";', ast.DbConnect, {"db_type": "MongoDB"}),
        ('qaLam_iNY retis, "x";', ast.DbConnect, {"db_type": "Redis"}),
        ('qaLam_iNY jEcAZ, "x";', ast.DbConnect, {"db_type": "JSONdb"}),
        ('qaLam_iNY qEtu_mozi, "x";', ast.DbConnect, {"db_type": "NoSQL"}),
        ('qaLam_iNY SQLite, "x";', ast.DbConnect, {"db_type": "SQLite"}),
        ('qaLam_iNY PostgreSQL, "x";', ast.DbConnect, {"db_type": "PostgreSQL"}),
        ('qaLam_iNY Oracle, "x";', ast.DbConnect, {"db_type": "Oracle"}),
        ("qaLam_piri cIkulYt;", ast.DbDisconnect, {"db_type": "SQLite"}),
        ("qaLam_piri MySQL;", ast.DbDisconnect, {"db_type": "MySQL"}),
        ('qaLam_cey "sql", [];', ast.DbExecute, {}),
        ('qaLam_viZA "sql", [1], rows;', ast.DbQuery, {"target": "rows"}),
        ('paDil 200, "x";', ast.Respond, {"headers": None}),
        ("itYveLi 5 { accu 1; }", ast.Every, {}),
    ],
)
def test_host_statement_nodes(source, node, attributes):
    (statement,) = statements(source)
    assert isinstance(statement, node)
    for name, value in attributes.items():
        assert getattr(statement, name) == value


def test_response_with_headers():
    (statement,) = statements('பதில் 201, b, {"X-A": "1"};')
    assert isinstance(statement, ast.Respond)
    assert (sx(statement.status), sx(statement.body), sx(statement.headers)) == ("201", "b", "{X-A:\"1\"}")


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("qaLam_ceruka t, {a: 1};", "தளம்_செருக (database insert)"),
        ("qaLam_puquppi t, x;", "தளம்_புதுப்பி (database update)"),
        ("qaLam_puquppi t, x, y;", "தளம்_புதுப்பி (database update)"),
        ('qaLam_nIkku "t", x;', "தளம்_நீக்கு (database delete)"),
        ("attY_Akku t, x;", "அட்டை_ஆக்கு (create table)"),
        ("qErvetu a iqaZil t;", "தேர்வெடு (select)"),
        ("qErvetu a, b, \"c d\" iqaZil t viqi a > 1;", "தேர்வெடு (select)"),
        ("jEcAZ_urY x;", "ஜேசான்_உரை (json response)"),
        ("jEcAZ_urY x, 201;", "ஜேசான்_உரை (json response)"),
        ('vazawki_toqotawku "h", 8080;', "வழங்கி_தொடங்கு (start server)"),
        ("vazawki_niRuqqu;", "வழங்கி_நிறுத்து (stop server)"),
    ],
)
def test_statements_without_runtime_parse_to_unsupported(source, label):
    (statement,) = statements(source)
    assert isinstance(statement, ast.Unsupported)
    assert statement.label == label


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('kOppu_ezuqu "f";', found(1, 16, "','", ";")),
        ('qaLam_viZA "s", [];', found(1, 19, "','", ";")),
        ('qaLam_cey "s";', found(1, 14, "','", ";")),
        ("qaLam_iNY cIkulYt \"x\";", found(1, 19, "','", '"x"')),
        ('vazawki_toqotawku "h";', found(1, 22, "','", ";")),
        ("vazawki_niRuqqu 1;", found(1, 17, "';'", "1")),
        ("paDil 200;", found(1, 10, "','", ";")),
        ("itYveLi 5 accu 1;", found(1, 11, "'{'", "accu")),
        ("vazhi peRu \"/\" { }", found(1, 12, "','", '"/"')),
    ],
)
def test_host_statement_errors(source, message):
    assert parse_error(source) == message


# ------------------------------------------------------------------- routes (HOST.md §4.3)

METHOD_KEYWORDS = [
    ("peRu", "GET"), ("பெறு", "GET"), ("_get", "GET"),
    ("paqi", "POST"), ("பதி", "POST"), ("_post", "POST"),
    ("itu", "PUT"), ("இடு", "PUT"), ("_put", "PUT"),
    ("azi", "DELETE"), ("அழி", "DELETE"), ("_delete", "DELETE"),
    ("ottu", "PATCH"), ("ஒட்டு", "PATCH"), ("_patch", "PATCH"),
    ("qerivu", "OPTIONS"), ("தெரிவு", "OPTIONS"), ("_options", "OPTIONS"),
    ("talY", "HEAD"), ("தலை", "HEAD"), ("_head", "HEAD"),
]


@pytest.mark.parametrize(("spelling", "method"), METHOD_KEYWORDS)
def test_route_method_keywords_register_under_the_http_method(spelling, method):
    (route,) = statements(f'vazhi {spelling}, "/x" {{ accu 1; }}')
    assert isinstance(route, ast.Route)
    assert (route.method, route.method_text) == (method, spelling)
    assert sx(route.path) == '"/x"' and isinstance(route.body[0], ast.Print)


@pytest.mark.parametrize(
    ("spelling", "method"),
    [("get", "GET"), ("Get", "GET"), ("GET", "GET"), ("PROPFIND", "PROPFIND"), ("purge", "PURGE"),
     ("post", "POST")],
)
def test_route_identifier_method_is_upper_cased(spelling, method):
    (route,) = statements(f'வழி {spelling}, "/x" {{ }}')
    assert route.method == method


@pytest.mark.parametrize("spelling", ['"GET"', "5", "accu"])
def test_route_other_token_is_not_an_ordinary_method(spelling):
    (route,) = statements(f'_route {spelling}, "/x" {{ }}')
    assert route.method not in {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"}


def test_route_path_is_any_expression_and_needs_no_semicolon():
    first, second = statements('vazhi peRu, p & "/x" { } accu 1;')
    assert isinstance(first, ast.Route) and sx(first.path) == '(& p "/x")'
    assert isinstance(second, ast.Print)
    assert parse_error('vazhi peRu, "/" { };') == found(1, 20, "a statement", ";")
