"""Where a runtime error happened (issue 7 §3): the generated code's line table maps the Python
traceback back to eTamil statements, only when an error is reported."""

from __future__ import annotations

import io
import os

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.lang.loader import load_path, load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext


def failure(program) -> EtamilError:
    compiled = compile_program(program.statements)
    with pytest.raises(EtamilError) as caught:
        compiled.run(RunContext(stdout=io.StringIO()))
    return caught.value


def where(error: EtamilError) -> tuple:
    location = error.location
    assert location is not None
    return location.line, location.column, location.file, location.calls


def test_a_top_level_error_is_located_at_its_statement():
    error = failure(load_text('accu "a";\n\n  x = [1, 2][5];\naccu "never";\n'))
    assert where(error) == (3, 3, None, [])


def test_a_nested_statement_is_located_itself_not_its_block():
    error = failure(load_text("(1) eZil {\n    (1) cuRRu {\n        y = 1 / 0;\n    }\n}\n"))
    assert where(error)[:2] == (3, 9)


def test_the_calls_on_the_way_are_listed_outermost_first():
    source = (
        "ceyal inner(r) {\n"
        "    qirumpu r.k;\n"
        "}\n"
        "ceyal middle() { qirumpu inner({}); }\n"
        "ceyal outer() { qirumpu middle(); }\n"
        "accu outer();\n"
    )
    assert where(failure(load_text(source))) == (2, 5, None, ["outer", "middle", "inner"])


def test_an_error_in_a_call_argument_is_the_callers():
    source = "ceyal f(x) { qirumpu x; }\nceyal g() {\n  qirumpu f(1 / 0);\n}\ng();\n"
    assert where(failure(load_text(source))) == (3, 3, None, ["g"])


def test_a_function_entry_fails_at_the_call_that_made_it():
    """The depth error is raised on entry, where no statement runs yet: the position is the call's."""
    source = "ceyal down(n) {\n  qirumpu down(n + 1);\n}\ndown(0);\n"
    line, column, _, calls = where(failure(load_text(source)))
    assert (line, column) == (2, 3)
    assert calls == ["down"] * 257


def test_each_statement_names_the_file_it_was_loaded_from(tmp_path):
    (tmp_path / "lib.qmz").write_text("ceyal half(x) {\n    qirumpu x / 0;\n}\n", encoding="utf-8")
    main = tmp_path / "main.qmz"
    main.write_text('iRakku "lib.qmz";\nceyal run() { qirumpu half(1); }\naccu run();\n', encoding="utf-8")
    error = failure(load_path(str(main)))
    assert where(error) == (2, 5, os.path.realpath(tmp_path / "lib.qmz"), ["run", "half"])


def test_a_route_body_statement_has_its_file(tmp_path):
    """The server compiles the prelude with a route's body: nested statements carry their file."""
    path = tmp_path / "app.qmz"
    path.write_text('x = 1;\nவழி பெறு, "/" {\n    y = x / 0;\n}\n', encoding="utf-8")
    program = load_path(str(path))
    route = program.statements[1]
    error = failure(type(program)([program.statements[0], *route.body], program.path))
    assert where(error) == (3, 5, os.path.realpath(path), [])


def test_a_natively_run_function_counts_once(monkeypatch):
    """A natively run function is a gate and its definition (runtime/native ``gated``): at the
    depth limit the gate hands the call to the definition, which fails on entry; that is still
    one call of the bundled function."""
    monkeypatch.setenv("ETAMIL_NATIVE_STDLIB", "1")
    source = (
        'iRakku "nUlakam/col.qmz";\n'
        "ceyal deep(n) {\n"
        "    (n < 255) eZil { qirumpu deep(n + 1); }\n"
        "    qirumpu எழுத்து(\"ab\", 0);\n"
        "}\n"
        "deep(0);\n"
    )
    program = load_text(source)
    assert "_def(" in compile_program(program.statements).source  # the gate is there
    line, column, _, calls = where(failure(program))
    assert (line, column) == (4, 5)
    assert calls == ["deep"] * 256 + ["எழுத்து"]


def test_locations_leave_the_generated_source_clean():
    """The statement marks are taken out of the source before it is compiled."""
    compiled = compile_program(load_text("ceyal f(x) { qirumpu x + 1; }\naccu f(2);\n").statements)
    assert "\x01" not in compiled.source
