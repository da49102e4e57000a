"""When the compiler uses a native: only for the winning definition of a name (§9.4), only when it
came from the bundled file, only while everything it calls is bundled too, only while the bundled
source is the one the natives were written against, and only with the switch on."""

from __future__ import annotations

import hashlib
import io
import os
import shutil

import pytest
from native_helpers import switch

from etamil_server.lang import syntax
from etamil_server.lang.loader import load_path, load_text
from etamil_server.runtime import native
from etamil_server.runtime.compiler import CompileError, compile_program
from etamil_server.runtime.context import RunContext

ALL_MODULES = "".join(f'இறக்கு "nUlakam/{m}.qmz";\n' for m in
                      ("col", "kaNiqam", "aNi", "poruL", "paNam", "kAcu", "jEcAZ", "kuRiyAkkam"))


def winners(program: syntax.Program) -> dict[str, syntax.FunctionDef]:
    found: dict[str, syntax.FunctionDef] = {}
    for statement in program.statements:
        if isinstance(statement, syntax.FunctionDef):
            found[statement.name] = statement
    return found


def natively_bound(source: str) -> set[str]:
    with switch(None):
        return set(native.bindings(winners(load_text(source))))


def printed(source: str, setting: str | None = None, program: syntax.Program | None = None) -> list[str]:
    with switch(setting):
        compiled = compile_program((program or load_text(source)).statements)
    out = io.StringIO()
    compiled.run(RunContext(stdout=out))
    return out.getvalue().splitlines()


def test_every_function_of_every_bundled_file_has_a_native():
    with switch(None):
        functions = winners(load_text(ALL_MODULES))
    defined = {(native.bundled_file(function), name) for name, function in functions.items()}
    assert defined == set(native.NATIVES)
    assert natively_bound(ALL_MODULES) == set(functions)


def test_the_natives_were_written_against_the_bundled_sources():
    """If this fails, a bundled .qmz changed: check its natives against the new definition (the
    differential tests) and record the new digest in the native module's ``describes``."""
    for file, digest in native.SOURCES.items():
        with open(os.path.join(native.BUNDLED_DIR, file), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest, file
    assert set(native.SOURCES) == {file for file, _ in native.NATIVES}


def test_a_changed_bundled_source_runs_as_written(monkeypatch):
    monkeypatch.setitem(native.SOURCES, "poruL.qmz", "0" * 64)
    native.unchanged.cache_clear()
    try:
        bound = natively_bound(ALL_MODULES)
    finally:
        native.unchanged.cache_clear()
    assert "புலம்_அல்லது" not in bound and "ஜேசான்_ஆக்கு" in bound


def test_the_switch_selects_the_definitions():
    assert natively_bound('இறக்கு "nUlakam/jEcAZ.qmz";') != set()
    with switch("0"):
        assert native.bindings(winners(load_text('இறக்கு "nUlakam/jEcAZ.qmz";'))) == {}
    for word in ("1", "yes", "On", "true", ""):
        assert native.enabled({native.SWITCH: word}) is True
    for word in ("0", "no", "OFF", "false"):
        assert native.enabled({native.SWITCH: word}) is False


def test_a_bad_switch_value_is_a_clear_compile_error():
    with switch("maybe"), pytest.raises(CompileError) as error:
        compile_program(load_text('இறக்கு "nUlakam/col.qmz";').statements)
    assert "ETAMIL_NATIVE_STDLIB" in error.value.message and "'maybe'" in error.value.message


def test_a_later_user_definition_wins_and_runs_as_written():
    source = ALL_MODULES + 'செயல் ஜேசான்_ஆக்கு(v) { திரும்பு "mine"; }\nஅச்சு ஜேசான்_ஆக்கு([1]);\n'
    bound = natively_bound(source)
    assert "ஜேசான்_ஆக்கு" not in bound and "ஜேசான்_படி" in bound
    assert printed(source) == ["mine"]


def test_an_earlier_user_definition_loses_to_the_bundled_one():
    source = 'செயல் ஜேசான்_ஆக்கு(v) { திரும்பு "mine"; }\n' + ALL_MODULES + "அச்சு ஜேசான்_ஆக்கு([1]);\n"
    assert "ஜேசான்_ஆக்கு" in natively_bound(source)
    assert printed(source) == ["[1]"]


def test_a_replaced_helper_takes_its_callers_back_to_their_definitions():
    source = ALL_MODULES + 'செயல் எழுத்து_மறை(c) { திரும்பு "X"; }\nஅச்சு ஜேசான்_ஆக்கு(["ab", 1]);\n'
    bound = natively_bound(source)
    assert not bound & {"எழுத்து_மறை", "ஜேசான்_சரம்", "ஜேசான்_ஆக்கு"}
    assert "ஜேசான்_படி" in bound
    assert printed(source) == ['["XX",1]']


def test_a_replaced_builtin_takes_the_functions_that_call_it_back_to_their_definitions():
    # a user நீளம் hides the builtin for the library's own calls too (§9.4)
    source = ALL_MODULES + "செயல் நீளம்(x) { திரும்பு 2; }\nஅச்சு துண்டு(\"abcdef\", 0, 9);\nஅச்சு ஜேசான்_படி(\"[1]\");\n"
    bound = natively_bound(source)
    assert not bound & {"எழுத்து", "துண்டு", "தேடு", "ஜேசான்_படி", "ஜே_மதிப்பு", "காலியா"}
    assert {"ஜேசான்_ஆக்கு", "புலம்_அல்லது", "முழுமதிப்பு"} <= bound
    # the reader now believes "[1]" is two letters long
    expected = ["ab", "தவறு(',' அல்லது ']' எதிர்பார்க்கப்பட்டது  (expected ',' or ']'))"]
    assert printed(source) == printed(source, "0") == expected


def test_a_users_own_copy_of_a_bundled_file_is_compiled_as_written(tmp_path):
    (tmp_path / "nUlakam").mkdir()
    shutil.copy(os.path.join(native.BUNDLED_DIR, "jEcAZ.qmz"), tmp_path / "nUlakam" / "jEcAZ.qmz")
    shutil.copy(os.path.join(native.BUNDLED_DIR, "col.qmz"), tmp_path / "nUlakam" / "col.qmz")
    main = tmp_path / "main.qmz"
    main.write_text('இறக்கு "nUlakam/jEcAZ.qmz";\nஅச்சு ஜேசான்_ஆக்கு({a: "b"});\n', encoding="utf-8")
    program = load_path(str(main))
    assert {native.bundled_file(f) for f in winners(program).values()} == {None}
    with switch(None):
        assert native.bindings(winners(program)) == {}
    assert printed("", program=program) == ['{"a":"b"}']


def test_a_recursive_definition_needs_a_native_that_counts_depth(monkeypatch):
    entry = native.NATIVES[("jEcAZ.qmz", "ஜேசான்_ஆக்கு")]
    monkeypatch.setattr(entry, "own_depth", False)
    with pytest.raises(ValueError, match="must count its call depth"):
        natively_bound('இறக்கு "nUlakam/jEcAZ.qmz";')
