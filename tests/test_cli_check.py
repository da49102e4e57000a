"""``etamil check [--strict]`` through the command line: plain check is the reference's
``--check``; ``--strict`` adds lang/strict.py's findings, and any finding makes the exit status 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 30

MISTAKES = "accu vattam(1);\naccu mothham;\n"
UNKNOWN = (
    "✗ வரி 1, நெடுவரிசை 6: அறியப்படாத செயல் 'vattam'  (line 1, column 6: unknown function 'vattam': "
    "no builtin, definition or import has this name)\n"
)
UNASSIGNED = (
    "✗ வரி 2, நெடுவரிசை 6: அறிவிக்கப்படாத மாறி 'mothham'  (line 2, column 6: undefined variable "
    "'mothham': it is read before any assignment can reach it)\n"
)


def etamil(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "etamil_server", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_SECONDS,
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": pythonpath},
    )


def program(tmp_path: Path, source: str) -> str:
    path = tmp_path / "p.qmz"
    path.write_text(source, encoding="utf-8")
    return str(path)


def test_strict_reports_with_positions_and_exits_1(tmp_path: Path) -> None:
    run = etamil("check", "--strict", program(tmp_path, MISTAKES))
    assert (run.stdout, run.stderr, run.returncode) == ("", UNKNOWN + UNASSIGNED, 1)


def test_plain_check_and_the_reference_check_keep_quiet(tmp_path: Path) -> None:
    path = program(tmp_path, MISTAKES)
    for args in (["check", path], ["--check", path]):
        run = etamil(*args)
        assert (run.stdout, run.stderr, run.returncode) == ("", "", 0), args


def test_strict_on_a_clean_program_is_silent(tmp_path: Path) -> None:
    run = etamil("check", "--strict", program(tmp_path, "x = 1;\naccu நீளம்(\"ab\") + x;\n"))
    assert (run.stdout, run.stderr, run.returncode) == ("", "", 0)


def test_type_errors_come_first_then_the_strict_findings(tmp_path: Path) -> None:
    run = etamil("check", "--strict", program(tmp_path, 'eN x = "a";\n' + MISTAKES))
    lines = run.stderr.splitlines()
    assert lines[0].startswith("✗ வரி 1, நெடுவரிசை 4: 'x' எண் (eN, a number) என அறிவிக்கப்பட்டது")
    assert [line + "\n" for line in lines[1:]] == [UNKNOWN.replace("வரி 1", "வரி 2").replace("line 1", "line 2"),
                                                   UNASSIGNED.replace("வரி 2", "வரி 3").replace("line 2", "line 3")]
    assert run.returncode == 1


def test_strict_option_may_follow_the_file_and_reads_stdin(tmp_path: Path) -> None:
    assert etamil("check", program(tmp_path, MISTAKES), "--strict").stderr == UNKNOWN + UNASSIGNED
    for args in (["check", "--strict"], ["check", "--strict", "-"]):
        run = etamil(*args, stdin=MISTAKES, cwd=tmp_path)
        assert (run.stderr, run.returncode) == (UNKNOWN + UNASSIGNED, 1), args


def test_a_load_error_stops_before_the_strict_analysis(tmp_path: Path) -> None:
    run = etamil("check", "--strict", program(tmp_path, "accu vattam(1)\n"))
    assert run.stderr.startswith("✗ வரி 1, நெடுவரிசை 14: ';' எதிர்பார்க்கப்பட்டது")
    assert "vattam'" not in run.stderr
    assert run.returncode == 1


def test_strict_never_runs_the_program(tmp_path: Path) -> None:
    source = 'kOppu_ezuqu "written.txt", "x";\naccu mothham;\n'
    run = etamil("check", "--strict", program(tmp_path, source), cwd=tmp_path)
    assert run.returncode == 1
    assert not (tmp_path / "written.txt").exists()
    assert run.stdout == ""


def test_the_examples_pass_strict() -> None:
    for path in sorted((REPO / "examples").glob("*.qmz")):
        run = etamil("check", "--strict", str(path))
        assert (run.stderr, run.returncode) == ("", 0), path.name


def test_an_unknown_check_option(tmp_path: Path) -> None:
    run = etamil("check", "--stricter", program(tmp_path, "accu 1;\n"))
    assert run.stderr == "✗ Unknown option: --stricter\n   Run `etamil check --help` to see its options.\n"
    assert run.returncode == 2
