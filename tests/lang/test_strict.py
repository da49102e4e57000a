"""``check --strict`` (etamil_server/lang/strict.py): unknown functions and names no assignment
reaches, against the scope rules of LANGUAGE.md §8-9 and the server's of HOST.md §4."""

from __future__ import annotations

import ast as python_ast
from pathlib import Path

import pytest

from etamil_server.families import load_families
from etamil_server.lang.loader import STDLIB_DIR, load_path, load_text
from etamil_server.lang.strict import strict_findings

REPO = Path(__file__).resolve().parents[2]
BUILTINS = frozenset(load_families())


def findings(source: str) -> list[str]:
    return strict_findings(load_text(source), BUILTINS)


def at(source: str, fragment: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column) of the ``occurrence``-th ``fragment`` in ``source``, columns in code points."""
    offset = -1
    for _ in range(occurrence):
        offset = source.index(fragment, offset + 1)
    return source.count("\n", 0, offset) + 1, offset - (source.rfind("\n", 0, offset) + 1) + 1


def unknown(source: str, name: str, occurrence: int = 1) -> str:
    line, column = at(source, name, occurrence)
    return (
        f"வரி {line}, நெடுவரிசை {column}: அறியப்படாத செயல் '{name}'  (line {line}, column {column}: "
        f"unknown function '{name}': no builtin, definition or import has this name)"
    )


def unassigned(source: str, name: str, occurrence: int = 1) -> str:
    line, column = at(source, name, occurrence)
    return (
        f"வரி {line}, நெடுவரிசை {column}: அறிவிக்கப்படாத மாறி '{name}'  (line {line}, column {column}: "
        f"undefined variable '{name}': it is read before any assignment can reach it)"
    )


# ------------------------------------------------------------------ functions that exist nowhere


def test_call_to_a_function_defined_nowhere() -> None:
    source = 'x = 1;\naccu kaNakku(x) & "!";\n'
    assert findings(source) == [unknown(source, "kaNakku")]


def test_unknown_call_statement_and_call_inside_arguments() -> None:
    source = "ceyal f(a) { qirumpu a; }\nf(g(1));\nமுடி();\n"
    assert findings(source) == [unknown(source, "g"), unknown(source, "முடி")]


@pytest.mark.parametrize("spelling", ["நீளம்", "nILam", "_length"])
def test_builtins_in_every_spelling_are_known(spelling: str) -> None:
    assert findings(f'accu {spelling}("abc");\n') == []


def test_the_builtin_spellings_come_from_the_caller() -> None:
    source = 'accu நீளம்("abc");\n'
    assert strict_findings(load_text(source), BUILTINS) == []
    assert strict_findings(load_text(source), set()) == [unknown(source, "நீளம்")]


def test_definitions_are_hoisted_from_anywhere() -> None:
    # called before the definition; defined in a branch that never runs; inside another function
    source = (
        "accu later(1) + branch(2) + nested(3);\n"
        "ceyal later(n) { qirumpu n; }\n"
        "(poy) eZil { ceyal branch(n) { qirumpu n; } }\n"
        "ceyal outer() { ceyal nested(n) { qirumpu n; } qirumpu 0; }\n"
    )
    assert findings(source) == []


def test_a_definition_in_an_imported_module_counts(tmp_path: Path) -> None:
    (tmp_path / "lib.qmz").write_text("ceyal iratti(n) { qirumpu n * 2; }\n", encoding="utf-8")
    main = tmp_path / "main.qmz"
    main.write_text('iRakku "lib.qmz";\naccu iratti(21);\n', encoding="utf-8")
    assert strict_findings(load_path(str(main)), BUILTINS) == []


def test_unknown_calls_are_reported_even_where_code_cannot_run() -> None:
    source = "ceyal f() { qirumpu 1; accu gone(); }\n(poy) eZil { accu never(); }\n"
    assert findings(source) == [unknown(source, "gone"), unknown(source, "never")]


def test_unknown_call_inside_a_route_body() -> None:
    source = 'vazhi peRu, "/" { paDil 200, vadivu(1); }\n'
    assert findings(source) == [unknown(source, "vadivu")]


# ------------------------------------------------------------------ names no assignment reaches


def test_read_before_the_assignment_at_top_level() -> None:
    source = "accu moththam;\nmoththam = 5;\naccu moththam;\n"
    assert findings(source) == [unassigned(source, "moththam")]


def test_every_read_is_reported_with_its_position() -> None:
    source = "y = x + x;\naccu [x];\n"
    assert findings(source) == [unassigned(source, "x", 1), unassigned(source, "x", 2), unassigned(source, "x", 3)]


def test_tamil_names_and_columns_in_code_points() -> None:
    source = "வருவாய் = 5; அச்சு வருவாய் + இருப்பு;\n"
    assert findings(source) == [unassigned(source, "இருப்பு")]
    assert at(source, "இருப்பு") == (1, 30)  # வருவாய் is 7 code points, அச்சு 5


def test_an_assignment_in_one_branch_may_reach() -> None:
    assert findings("(mey) eZil { x = 1; }\naccu x;\n") == []
    assert findings("(mey) eZil { } iZREl { x = 1; }\naccu x;\n") == []


def test_an_assignment_in_neither_branch() -> None:
    source = "(mey) eZil { onRu = 1; } iZREl { iraNdu = 2; }\naccu moonRu;\n"
    assert findings(source) == [unassigned(source, "moonRu")]


def test_the_condition_is_read_before_the_branches() -> None:
    source = "(x > 0) eZil { x = 1; }\n"
    assert findings(source) == [unassigned(source, "x")]


def test_a_loop_body_sees_what_an_earlier_iteration_assigned() -> None:
    source = (
        "i = 0;\n"
        "(i < 3) cuRRu {\n"
        "    (i > 0) eZil { accu munthaiya; }\n"
        "    munthaiya = i;\n"
        "    i = i + 1;\n"
        "}\n"
        "accu munthaiya;\n"
    )
    assert findings(source) == []


def test_a_loop_condition_sees_what_the_body_assigns() -> None:
    assert findings("(iZmY == iZmY) cuRRu { (mey) eZil { mudivu = 1; } }\n") == []
    source = "(niRuththu != 1) cuRRu { niRuththu = 1; }\n"
    assert findings(source) == []  # the first test fails, but later ones are reached


def test_for_each_variable_inside_and_after_the_loop() -> None:
    source = "ovvoru x il [1, 2] { accu x; kadaisi = x; }\naccu x;\naccu kadaisi;\n"
    assert findings(source) == []


def test_for_each_collection_is_read_first() -> None:
    source = "ovvoru x il patti { patti = [1]; }\n"
    assert findings(source) == [unassigned(source, "patti")]


def test_element_and_field_assignment_read_the_variable() -> None:
    source = "a[0] = 1;\nr.k = 2;\nr2 = {};\nr2.k = 3;\n"
    assert findings(source) == [unassigned(source, "a"), unassigned(source, "r")]


def test_declaration_input_and_host_reads_assign() -> None:
    source = (
        "eN total;\n"
        "uLLitu peyar;\n"
        'kOppu_pati "x.txt", uLLatakkam;\n'
        'qaLam_viZA "SELECT 1", [], varicaikaL;\n'
        "accu total & peyar & uLLatakkam & varicaikaL;\n"
    )
    assert findings(source) == []


def test_input_with_another_operand_reads_nothing() -> None:
    assert findings("uLLitu x.y;\n") == []  # the operand is not evaluated (HOST.md §3.2)


def test_code_after_return_cannot_run() -> None:
    assert findings("ceyal f() { qirumpu 1; accu y; }\naccu f();\n") == []


def test_a_statement_that_always_fails_ends_the_reachable_code() -> None:
    assert findings("vazawki_niRuqqu;\naccu y;\n") == []


# ------------------------------------------------------------------ functions: locals, then globals


def test_parameters_and_locals() -> None:
    source = "ceyal f(a) { b = a + 1; qirumpu b; }\naccu f(1);\n"
    assert findings(source) == []


def test_a_function_reads_a_global_assigned_anywhere_at_top_level() -> None:
    # assigned after the definition (and after the call, which this analysis does not follow)
    source = "ceyal f() { qirumpu ellai_mathippu; }\naccu f();\nellai_mathippu = 100;\n"
    assert findings(source) == []


def test_a_function_never_sees_its_callers_locals() -> None:
    source = "ceyal inner() { qirumpu ragasiyam; }\nceyal outer() { ragasiyam = 42; qirumpu inner(); }\naccu outer();\n"
    assert findings(source) == [unassigned(source, "ragasiyam")]


def test_a_local_read_before_its_assignment_and_no_global() -> None:
    source = "ceyal f() { accu tmp; tmp = 1; qirumpu tmp; }\naccu f();\n"
    assert findings(source) == [unassigned(source, "tmp")]


def test_a_local_read_before_its_assignment_falls_back_to_the_global() -> None:
    source = "tmp = 0;\nceyal f() { accu tmp; tmp = 1; qirumpu tmp; }\naccu f();\n"
    assert findings(source) == []


def test_a_top_level_read_does_not_see_a_functions_locals() -> None:
    source = "ceyal f() { ullE = 1; qirumpu ullE; }\naccu f();\naccu ullE;\n"
    assert findings(source) == [unassigned(source, "ullE", 3)]


# ------------------------------------------------------------------ the server's variables


def test_request_variables_are_assigned_everywhere() -> None:
    source = (
        "accu request_method;\n"
        "ceyal udal() { qirumpu request_body; }\n"
        'vazhi paqi, "/x" { paDil 200, udal() & query_params & headers & path_params & request_path; }\n'
    )
    assert findings(source) == []


def test_request_variables_in_a_program_without_routes() -> None:
    # the whole-program model (HOST.md §4.13) binds them as well
    assert findings('(request_method == "POST") eZil { response_status = 201; }\n') == []


def test_path_parameters_of_the_route() -> None:
    source = 'vazhi peRu, "/order/:id" { paDil 200, param_id & param_peyar; }\n'
    assert findings(source) == [unassigned(source, "param_peyar")]


def test_path_parameters_in_functions_and_prelude_when_any_route_has_them() -> None:
    source = (
        "ceyal enn() { qirumpu param_id; }\n"
        "accu param_id;\n"
        'vazhi peRu, "/order/:id" { paDil 200, enn(); }\n'
        'vazhi peRu, "/" { paDil 200, "x"; }\n'
    )
    assert findings(source) == []


def test_a_route_body_starts_after_the_whole_prelude() -> None:
    # the prelude runs before every route, wherever it is written (HOST.md §4.2)
    source = 'vazhi peRu, "/" { paDil 200, vaNakkam; }\nvaNakkam = "hi";\n'
    assert findings(source) == []


def test_the_prelude_does_not_see_a_route_body() -> None:
    source = 'vazhi peRu, "/" { ulla = 1; paDil 200, ulla; }\naccu ulla;\n'
    assert findings(source) == [unassigned(source, "ulla", 3)]


def test_a_timer_body_sees_the_prelude() -> None:
    source = 'itYveLi 30 { accu ethirpArppu & kaNakku; }\nethirpArppu = 1;\n'
    assert findings(source) == [unassigned(source, "kaNakku")]


def test_response_variables_are_never_reported() -> None:
    # பதில் / பதில்_கோப்பு set them from anywhere, even from inside a function (HOST.md §4.7)
    source = 'ceyal f() { paDil 201, "x"; }\nvazhi peRu, "/" { f(); accu response_status & response_body; }\n'
    assert findings(source) == []


# ------------------------------------------------------------------ files, modules, no false positives


def test_a_finding_in_an_imported_file_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib.qmz").write_text("ceyal f() { qirumpu g(); }\n", encoding="utf-8")
    (tmp_path / "main.qmz").write_text('iRakku "lib.qmz";\naccu f() + h();\n', encoding="utf-8")
    assert strict_findings(load_path("main.qmz"), BUILTINS) == [
        "வரி 1, நெடுவரிசை 21: அறியப்படாத செயல் 'g'  (line 1, column 21 in lib.qmz: "
        "unknown function 'g': no builtin, definition or import has this name)",
        "வரி 2, நெடுவரிசை 12: அறியப்படாத செயல் 'h'  (line 2, column 12: "
        "unknown function 'h': no builtin, definition or import has this name)",
    ]


SHIPPED = sorted(
    [*(REPO / "examples").glob("*.qmz"), *Path(STDLIB_DIR).rglob("*.qmz"), *(REPO / "bench").glob("*.qmz")]
)


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(p.parents[1])) for p in SHIPPED])
def test_no_findings_in_the_examples_and_the_standard_library(path: Path) -> None:
    assert strict_findings(load_path(str(path)), BUILTINS) == []


def _package(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if parts[0] == "etamil_server" and len(parts) > 1 else parts[0]


def _imported_packages(node: python_ast.Import | python_ast.ImportFrom) -> list[str]:
    """The package of ours (or the outside package) each name of an import in lang/ comes from."""
    if isinstance(node, python_ast.Import):
        return [_package(alias.name) for alias in node.names]
    if node.level == 1:  # ``from . import x`` / ``from .x import y``: inside lang/
        return []
    if node.level >= 2:  # ``from ..base.errors import …`` / ``from .. import runtime``
        return [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
    if node.module == "etamil_server":
        return [alias.name for alias in node.names]
    return [_package(node.module or "")]


def test_the_front_end_never_imports_the_layers_above() -> None:
    """lang/ imports base/ only (the builtin spellings reach strict.py as a parameter)."""
    forbidden = {"runtime", "host", "web", "families", "cli", "repl", "config", "workers"}
    for module in sorted((REPO / "etamil_server" / "lang").glob("*.py")):
        tree = python_ast.parse(module.read_text(encoding="utf-8"))
        for node in python_ast.walk(tree):
            if isinstance(node, python_ast.Import | python_ast.ImportFrom):
                names = _imported_packages(node)
                assert not forbidden & set(names), f"{module.name} line {node.lineno} imports {names}"


def test_the_server_variables_are_the_servers_and_the_compilers() -> None:
    from etamil_server.lang.strict import REQUEST_VARIABLES, RESPONSE_VARIABLES
    from etamil_server.runtime.compiler import RESPONSE_VARIABLES as COMPILED_RESPONSE
    from etamil_server.web.request import BASE_VARIABLES

    assert frozenset(BASE_VARIABLES) == REQUEST_VARIABLES
    assert frozenset(COMPILED_RESPONSE) == RESPONSE_VARIABLES
