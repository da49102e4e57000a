"""The largest text and array a run may build (runtime/limits.py): a clear bilingual error where
texts and arrays grow, the process unharmed, nothing refused below the limits."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from etamil_server.config import LimitSettings
from etamil_server.families import load_families
from etamil_server.lang.loader import load_text
from etamil_server.runtime import limits
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext

TEXT_LIMIT = 10_000
ITEM_LIMIT = 1_000
TEXT_ERROR = "(text too large: "
ITEMS_ERROR = "(too many items: "


@pytest.fixture(autouse=True)
def small_limits():
    load_families()
    limits.apply(LimitSettings(max_text_bytes=TEXT_LIMIT, max_items=ITEM_LIMIT))
    yield
    limits.from_environment()


def run(source: str) -> tuple[str, str | None]:
    """(printed text, error message or None)."""
    compiled = compile_program(load_text(source).statements)
    out = io.StringIO()
    ctx = RunContext(stdout=out)
    try:
        compiled.run(ctx)
    except limits.LimitExceeded as error:
        return out.getvalue(), error.message
    return out.getvalue(), None


def test_the_check_measures_the_text_in_memory():
    assert limits.text_size("a" * 100) == 100
    assert limits.text_size("é" * 100) == 100 and limits.text_size("வ" * 100) == 200
    assert limits.text_size("a😀") == 8
    limits.check_text("a" * TEXT_LIMIT)
    with pytest.raises(limits.LimitExceeded) as error:
        limits.check_text("a" * (TEXT_LIMIT + 1))
    assert error.value.message == (
        f"உரை மிகப் பெரியது: {TEXT_LIMIT + 1} பைட்டுகள், வரம்பு {TEXT_LIMIT}  "
        f"(text too large: {TEXT_LIMIT + 1} bytes, the limit is {TEXT_LIMIT}; ETAMIL_MAX_TEXT_BYTES raises it)"
    )
    # Tamil takes two bytes a character: half as many characters reach the limit
    limits.check_text("வ" * (TEXT_LIMIT // 2))
    with pytest.raises(limits.LimitExceeded):
        limits.check_text("வ" * (TEXT_LIMIT // 2 + 1))


def test_a_join_is_measured_before_it_is_built():
    limits.check_join("a" * (TEXT_LIMIT // 2), "b" * (TEXT_LIMIT // 2))
    with pytest.raises(limits.LimitExceeded) as error:
        limits.check_join("a" * (TEXT_LIMIT // 2), "வ" * 10)  # the result is two bytes a character
    assert f"text too large: {(TEXT_LIMIT // 2 + 10) * 2} bytes" in error.value.message
    with pytest.raises(limits.LimitExceeded) as error:
        limits.check_repeat("ab", TEXT_LIMIT)  # the first text over the limit a loop would meet
    assert f"text too large: {TEXT_LIMIT + 2} bytes" in error.value.message


def test_zero_means_no_limit():
    limits.apply(LimitSettings(max_text_bytes=0, max_items=0))
    limits.check_text("a" * (TEXT_LIMIT * 10))
    limits.check_items(10**12)


@pytest.mark.parametrize(
    "growth",
    [
        # concatenation the compiler knows is text + text, and the general one (a number joins)
        's = "ab"; (mey) cuRRu { s = s & s; }',
        's = 1; (mey) cuRRu { s = s & s; }',
        'ceyal f(x) { qirumpu x & x; } s = "ab"; (mey) cuRRu { s = f(s); }',
        # join, replace, upper-casing
        'a = ["x", "y"]; (mey) cuRRu { a = [oZRiNY(a, "-"), oZRiNY(a, "+")]; }',
        's = "aa"; (mey) cuRRu { s = mARRu(s, "a", "aa"); }',
        # the library's repeat and pad (native and as written)
        'iRakku "nUlakam/col.qmz"; s = திரும்பச்செய்("ab", 100000);',
        'iRakku "nUlakam/col.qmz"; s = இடமிருந்து_நிரப்பு("x", 1000000, "0");',
    ],
)
def test_a_growing_text_stops_with_the_text_error(growth):
    printed, error = run(growth + ' accu "never";')
    assert printed == ""
    assert error is not None and TEXT_ERROR in error and "ETAMIL_MAX_TEXT_BYTES" in error


@pytest.mark.parametrize(
    "growth",
    [
        'a = []; (mey) cuRRu { a = iNY(a, 1); }',
        'r = {}; i = 0; (mey) cuRRu { r[i] = i; i = i + 1; }',
        'iRakku "nUlakam/col.qmz"; a = piri(திரும்பச்செய்(",", 5000), ",");',
        'iRakku "nUlakam/col.qmz"; a = pYttukaL(திரும்பச்செய்("x", 5000));',
        'iRakku "nUlakam/jEcAZ.qmz"; iRakku "nUlakam/col.qmz"; '
        'a = ஜேசான்_படி("[" & திரும்பச்செய்("1,", 3000) & "1]");',
    ],
)
def test_a_growing_array_stops_with_the_items_error(growth):
    printed, error = run(growth + ' accu "never";')
    assert printed == ""
    assert error is not None and ITEMS_ERROR in error and "ETAMIL_MAX_ITEMS" in error


def test_values_within_the_limits_are_built_as_before():
    printed, error = run(
        'iRakku "nUlakam/col.qmz"; s = திரும்பச்செய்("ab", 4000); a = piri(திரும்பச்செய்(",", 999), ","); '
        'accu nILam(s); accu nILam(a); b = []; i = 0; (i < 1000) cuRRu { b = iNY(b, i); i = i + 1; } accu nILam(b);'
    )
    assert error is None
    assert printed.split() == ["8000", "1000", "1000"]


def test_the_letters_of_a_long_text_are_counted_without_an_array():
    text = "கா" * (ITEM_LIMIT + 10)  # two code points, one letter each time
    limits.apply(LimitSettings(max_text_bytes=0, max_items=ITEM_LIMIT))
    printed, error = run(f'accu nILam("{text}");')
    assert (printed.strip(), error) == (str(ITEM_LIMIT + 10), None)
    printed, error = run(f'ovvoru l il "{text}" {{ accu l; }}')
    assert printed == "" and ITEMS_ERROR in error


def test_a_file_read_past_the_limit_stops_before_the_memory_is_taken(tmp_path):
    from etamil_server.host import files

    big = tmp_path / "big.txt"
    big.write_text("a" * (TEXT_LIMIT + 1))
    with pytest.raises(limits.LimitExceeded):
        files.file_read(str(big))
    with pytest.raises(limits.LimitExceeded) as error:
        files.file_read("/dev/zero")  # endless: read no further than twice the limit
    assert f"{TEXT_LIMIT * 2 + 1} bytes" in error.value.message
    fits = tmp_path / "fits.txt"
    fits.write_text("a" * TEXT_LIMIT)
    assert files.file_read(str(fits)) == "a" * TEXT_LIMIT


def test_a_query_with_more_rows_than_the_limit(tmp_path):
    from etamil_server.host.services import HOST_SERVICES

    database = tmp_path / "rows.db"
    source = (
        f'qaLam_iNY cIkulYt, "{database}"; '
        "qaLam_viZA \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
        'SELECT i FROM n\", [], rows; accu nILam(rows);'
    )
    for count, fails in ((ITEM_LIMIT, False), (ITEM_LIMIT + 1, True)):
        compiled = compile_program(load_text(source % count).statements)
        out = io.StringIO()
        ctx = RunContext(stdout=out, services=HOST_SERVICES)
        try:
            compiled.run(ctx)
            assert not fails and out.getvalue().strip() == str(count)
        except limits.LimitExceeded as error:
            assert fails and ITEMS_ERROR in error.message
        finally:
            ctx.release()


def test_the_command_reports_the_limit_and_a_bad_setting(tmp_path):
    program = tmp_path / "grow.qmz"
    program.write_text('s = "ab"; (mey) cuRRu { s = s & s; }\n', encoding="utf-8")
    command = [sys.executable, "-m", "etamil_server", "run", str(program)]
    root = str(Path(__file__).resolve().parents[2])
    env = {"PYTHONPATH": root, "PATH": "/usr/bin:/bin", "ETAMIL_MAX_TEXT_BYTES": "1m"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "✗ Runtime error: உரை மிகப் பெரியது" in done.stderr and "Traceback" not in done.stderr
    env["ETAMIL_MAX_TEXT_BYTES"] = "lots"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "ETAMIL_MAX_TEXT_BYTES: expected a size in bytes" in done.stderr and "Traceback" not in done.stderr


def test_the_defaults_written_in_limits_are_the_settings_defaults():
    assert limits.DEFAULT_MAX_TEXT_BYTES == LimitSettings().max_text_bytes
    assert limits.DEFAULT_MAX_ITEMS == LimitSettings().max_items


def test_a_run_without_limit_settings_does_not_import_the_configuration():
    # start-up of `etamil run`: the configuration module's dataclasses are not needed for it
    code = "import sys, etamil_server.runtime.limits; print('etamil_server.config' in sys.modules)"
    env = {key: value for key, value in __import__("os").environ.items() if not key.startswith("ETAMIL_MAX_")}
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert shown.stdout.strip() == "False"
