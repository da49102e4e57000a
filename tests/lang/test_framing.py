"""The command-line forms of HOST.md §2 and LANGUAGE.md §14.4 / §18, run as subprocesses.

``python -m etamil_server`` stands for the ``etamil`` command. Instruction counts (the
``✓ Bytecode generated`` line) were computed by hand with LANGUAGE.md Appendix A; each test
shows the sum.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 30

BANNER = "eTamil — வணக்கம். :help for help, :quit to leave."
SUCCESS_TRAILER = "\n✓ Execution completed successfully\n"

#: the reference's flags, each still listed by our help text (tests/test_cli_help.py checks the rest)
REFERENCE_FLAGS = ["--vm", "--check", "--repl", "--server", "--async", "--llvm", "--host <HOST>", "--port <PORT>",
                   "-h, --help", "-V, --version"]

REPL_HELP = """  <expression>     evaluate and print it — `1 + 2`, `நீளம்("வணக்கம்")`
  <statements>;    run them — `a = 5;` or a whole செயல் definition
  :vars            what this session has defined
  :help            this
  :quit            leave (Ctrl-D also works)

A line ending in an unclosed { keeps reading until the braces balance, so a
செயல் or a சுற்று can be typed across several lines.
"""


class Run:
    def __init__(self, completed: subprocess.CompletedProcess[bytes]) -> None:
        self.status = completed.returncode
        self.stdout = completed.stdout.decode("utf-8")
        self.stderr = completed.stderr.decode("utf-8")
        assert "Traceback" not in self.stderr, self.stderr


def etamil(*args: str, stdin: str = "", cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    environment = {k: v for k, v in os.environ.items() if k != "ETAMIL_PATH"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")]))
    environment.update(env or {})
    completed = subprocess.run(
        [sys.executable, "-m", "etamil_server", *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        cwd=cwd,
        env=environment,
    )
    return Run(completed)


def located(file: str, line: int, column: int) -> str:
    """Our line after the reference's ``✗ Runtime error: …`` (issue 7 §3)."""
    return f"  இடம்: {file}, வரி {line}, நெடுவரிசை {column}  (at {file}, line {line}, column {column})\n"


def preamble(statements: int, instructions: int) -> str:
    return (
        f"✓ Parsing complete ({statements} statements)\n\n"
        "=== eTamil VM Executor ===\n\n"
        f"✓ Bytecode generated ({instructions} instructions)\n"
        "=== Execution Output ===\n\n"
    )


def success(statements: int, instructions: int, output: str) -> str:
    return preamble(statements, instructions) + output + SUCCESS_TRAILER


@pytest.fixture
def program(tmp_path: Path):
    def write(text: str, name: str = "prog.qmz") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


# --- the default VM mode: framing and instruction counts -----------------------------------------


@pytest.mark.parametrize("form", [[], ["--vm"], ["--llvm", "--vm"]], ids=["default", "vm", "llvm-then-vm"])
def test_vm_framing(program, form: list[str]) -> None:
    path = program('accu "வணக்கம்";\n')
    # print: E(literal) 1 + 1 = 2; plus the final halt = 3
    run = etamil(*form, str(path))
    assert run.stdout == success(1, 3, "வணக்கம்\n")
    assert run.stderr == ""
    assert run.status == 0


def test_instruction_count_of_the_spec_check_program(program) -> None:
    path = program(
        "ceyal f(a) { qirumpu a * 2; } x = [1, 2]; ovvoru e il x { accu e; }\n"
        "(x maRRum 1) eZil { accu 1; } iZREl { accu 2; } (0 allaqu 0) cuRRu { } f(1);\n"
    )
    # 7 + 4 + 20 + 13 + 10 + 3 + 1 = 58 (Appendix A)
    run = etamil(str(path))
    assert run.stdout == success(6, 58, "1\n2\n1\n")
    assert run.status == 0


def test_instruction_count_loop_if_logic_input(program) -> None:
    path = program(
        "ceyal sq(n) { qirumpu n * n; }\n"  # 3 + (3 + 1) = 7
        "total = 0;\n"  # 2
        "i = 1;\n"  # 2
        "(i <= 3) cuRRu {\n"  # 3 + 2 + body
        "    total = total + sq(i);\n"  # (1 + 2 + 1) + 1 = 5
        "    i = i + 1;\n"  # 3 + 1 = 4       -> loop 14
        "}\n"
        "r = {a: 1, b: -2};\n"  # record (1 + (1 + 2) + 1) + 1 = 6
        '(total > 10) eZil { accu "big " & total; } iZREl { accu "small"; }\n'  # 3 + 2 + 4 + 2 = 11
        "accu illY r.a == 1 allaqu poy;\n"  # ((2 + 1 + 1) + 1) + 1 + 6 = 12, + 1 = 13
        "uLLitu ans;\n"  # 2
        "eN d;\n"  # 2
        "accu ans;\n"  # 2
    )
    # 7 + 2 + 2 + 14 + 6 + 11 + 13 + 2 + 2 + 2 = 61, + 1 = 62
    run = etamil(str(path), stdin="  ravi  \n")
    assert run.stdout == success(10, 62, "big 14\nfalse\nravi\n")
    assert run.status == 0


def test_instruction_count_collections_calls_foreach(program) -> None:
    path = program(
        "items = [3, 4];\n"  # 3 + 1 = 4
        "items[1] = items[0] * 2;\n"  # 1 + 5 + 1 = 7
        "rec = {};\n"  # 2
        'rec.k = "v";\n'  # 2
        "ceyal show(x) { accu x; qirumpu; }\n"  # 3 + 2 + 2 = 7
        "show(items);\n"  # 2 + 1 = 3
        "ovvoru it il items { (it > 3 maRRum mey) eZil { accu it; } }\n"  # 1 + 17 + (9 + 1 + 2) = 30
        "accu cari(5)?;\n"  # 2 + 1 + 1 = 4
        "accu -items[0];\n"  # 3 + 2 + 1 = 6
    )
    # 4 + 7 + 2 + 2 + 7 + 3 + 30 + 4 + 6 = 65, + 1 = 66
    run = etamil(str(path))
    assert run.stdout == success(9, 66, "[3, 6]\n6\n5\n-3\n")
    assert run.status == 0


def test_instruction_count_percent_field_and_discarding_input(program) -> None:
    path = program(
        "eN total;\n"  # 2
        'uLLitu "prompt";\n'  # 1 (operand is not a plain name)
        "r = {a: 1, b: [2, 3]};\n"  # (1 + 3 + 1) + 1 = 6
        'accu r.b[1] & "/" & 20%;\n'  # 4 -> 6 -> 8, + 1 = 9
    )
    # 2 + 1 + 6 + 9 = 18, + 1 = 19
    run = etamil(str(path), stdin="discarded\n")
    assert run.stdout == success(4, 19, "3/0.2\n")


def test_statement_count_is_after_import_splicing(program) -> None:
    program('accu "m1";\nm = 2;\n', "lib/mod.qmz")
    path = program('accu "a";\niRakku "lib/mod.qmz";\naccu m;\n')
    # 2 + (2 + 2) + 2 = 8, + 1 = 9; four statements once the import is replaced
    run = etamil(str(path))
    assert run.stdout == success(4, 9, "a\nm1\n2\n")


def test_program_on_standard_input(tmp_path: Path) -> None:
    # E(1 + 2) = 3, print 4, halt 5
    run = etamil(stdin="accu 1 + 2;\n", cwd=tmp_path)
    assert run.stdout == success(1, 5, "3\n")
    assert run.status == 0


def test_program_on_stdin_reads_empty_input(tmp_path: Path) -> None:
    # uLLitu x: 2; accu nILam(x): (1 + 1) + 1 = 3; halt 1 -> 6
    run = etamil(stdin="uLLitu x;\naccu nILam(x);\n", cwd=tmp_path)
    assert run.stdout == success(2, 6, "0\n")


def test_program_on_stdin_imports_from_working_directory(tmp_path: Path) -> None:
    (tmp_path / "here.qmz").write_text('accu "here";\n', encoding="utf-8")
    run = etamil(stdin='iRakku "here.qmz";\n', cwd=tmp_path)
    assert run.stdout == success(1, 3, "here\n")


def test_last_file_argument_wins(program) -> None:
    first = program('accu "A";\n', "a.qmz")
    second = program('accu "B";\n', "b.qmz")
    run = etamil(str(first), str(second))
    assert run.stdout == success(1, 3, "B\n")


# --- errors in the reference form ----------------------------------------------------------------


def test_runtime_error_framing(program) -> None:
    path = program('accu "before";\naccu 1 / 0;\naccu "after";\n')
    # 2 + 4 + 2 + 1 = 9
    run = etamil(str(path), cwd=path.parent)
    assert run.stdout == preamble(3, 9) + "before\n"
    assert run.stderr == "✗ Runtime error: பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)\n" + located("prog.qmz", 2, 1)
    assert run.status == 1


def test_type_errors_after_parsing_line(program) -> None:
    path = program('accu "never";\neN a = "x";\nIrma b;\n')
    run = etamil(str(path))
    assert run.stdout == "✓ Parsing complete (3 statements)\n\n"
    assert run.stderr == (
        "✗ வரி 2, நெடுவரிசை 4: 'a' எண் (eN, a number) என அறிவிக்கப்பட்டது, ஆனால் ஒரு சொல் (a string) வழங்கப்பட்டது"
        "  (line 2, column 4: 'a' is declared எண் (eN, a number), but was given ஒரு சொல் (a string))\n"
        "✗ வரி 3, நெடுவரிசை 6: 'b' ஈர்ம (Irma, a boolean) என அறிவிக்கப்பட்டது, ஆனால் ஒரு எண் (a number) வழங்கப்பட்டது"
        "  (line 3, column 6: 'b' is declared ஈர்ம (Irma, a boolean), but was given ஒரு எண் (a number))\n"
    )
    assert run.status == 1


def test_parse_error_has_no_stdout(program) -> None:
    path = program("x = 1\ny = 2;\n")
    run = etamil(str(path))
    assert run.stdout == ""
    assert run.stderr == (
        "✗ வரி 2, நெடுவரிசை 1: ';' எதிர்பார்க்கப்பட்டது, 'y' கிடைத்தது  (line 2, column 1: expected ';', found 'y')\n"
    )
    assert run.status == 1


def test_several_lexical_errors_one_message(program) -> None:
    path = program("a = 1 @ 2;\nb = #;\n")
    run = etamil(str(path))
    assert run.stdout == ""
    assert run.stderr == (
        "✗ வரி 1, நெடுவரிசை 7: அறியப்படாத உள்ளீடு '@'  (line 1, column 7: unrecognized input '@')\n"
        "  வரி 2, நெடுவரிசை 5: அறியப்படாத உள்ளீடு '#'  (line 2, column 5: unrecognized input '#')\n"
    )
    assert run.status == 1


def test_missing_program_file(tmp_path: Path) -> None:
    run = etamil("missing.qmz", cwd=tmp_path)
    assert run.stdout == ""
    assert run.stderr.startswith(
        "✗ கோப்பு 'missing.qmz' திறக்க முடியவில்லை  (cannot open 'missing.qmz'): No such file or directory"
    )
    assert run.status == 1


def test_program_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.qmz"
    path.write_bytes(b'accu "caf\xe9";\n')
    canonical = str(path.resolve())
    run = etamil("latin.qmz", cwd=tmp_path)
    assert run.stdout == ""
    assert run.stderr == (
        f"✗ கோப்பு '{canonical}' படிக்க முடியவில்லை  (cannot read '{canonical}'): stream did not contain valid UTF-8\n"
    )
    assert run.status == 1


def test_exit_builtin_ends_without_trailer(program) -> None:
    path = program('accu "a";\nவெளியேறு(7);\naccu "b";\n')
    # 2 + (1 + 1 + 1) + 2 + 1 = 8
    run = etamil(str(path))
    assert run.stdout == preamble(3, 8) + "a\n"
    assert run.stderr == ""
    assert run.status == 7


def test_llvm_is_unavailable(program) -> None:
    path = program("accu 1;\n")
    run = etamil("--llvm", str(path))
    assert run.stdout == "✓ Parsing complete (1 statements)\n\n"
    assert run.stderr.startswith(
        "❌ Error: LLVM backend is not available on this platform.\n   Platform: linux\n"
        "   Reason: LLVM feature not enabled during build\n"
    )
    assert run.status == 1


# --- --check --------------------------------------------------------------------------------------


def test_check_success_is_silent_and_never_runs(program) -> None:
    path = program('accu "not printed";\naccu 1 / 0;\n')
    run = etamil("--check", str(path))
    assert (run.stdout, run.stderr, run.status) == ("", "", 0)


def test_check_empty_program(program) -> None:
    path = program("")
    run = etamil("--check", str(path))
    assert (run.stdout, run.stderr, run.status) == ("", "", 0)


def test_check_type_errors(program) -> None:
    path = program('col s = [];\neN n = "x";\n')
    run = etamil("--check", str(path))
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✗ வரி 1, நெடுவரிசை 5: 's' சொல் (col, a string)")
    assert lines[1].startswith("✗ வரி 2, நெடுவரிசை 4: 'n' எண் (eN, a number)")
    assert run.status == 1


def test_check_parse_error(program) -> None:
    path = program("accu ;\n")
    run = etamil("--check", str(path))
    assert run.stdout == ""
    assert run.stderr == (
        "✗ வரி 1, நெடுவரிசை 6: a value எதிர்பார்க்கப்பட்டது, ';' கிடைத்தது  (line 1, column 6: expected a value, found ';')\n"
    )
    assert run.status == 1


def test_check_program_on_stdin(tmp_path: Path) -> None:
    assert etamil("--check", stdin="accu 1;\n", cwd=tmp_path).status == 0
    run = etamil("--check", stdin="accu 1\n", cwd=tmp_path)
    assert run.status == 1
    assert run.stderr.startswith("✗ வரி 1, நெடுவரிசை 6: ';' எதிர்பார்க்கப்பட்டது, உள்ளீடு முடிந்தது")


def test_check_wins_over_server_flags(program) -> None:
    path = program("accu 1;\n")
    run = etamil("--server", "--port", "0", "--check", str(path))
    assert (run.stdout, run.stderr, run.status) == ("", "", 0)


# --- help, version and argument errors -----------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_text(flag: str) -> None:
    # the text is ours (our commands first); the reference's behaviour is kept: stdout, exit 0
    run = etamil(flag)
    assert run.stdout.startswith("etamil 0.3.0 — ")
    for reference_flag in REFERENCE_FLAGS:
        assert f"    {reference_flag} " in run.stdout
    assert run.stderr == ""
    assert run.status == 0


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    run = etamil(flag)
    assert (run.stdout, run.stderr, run.status) == ("etamil 0.3.0\n", "", 0)


def test_help_ignores_what_follows() -> None:
    run = etamil("--help", "--bogus", "missing.qmz")
    assert run.stdout == etamil("--help").stdout
    assert run.status == 0


def test_error_before_help_wins() -> None:
    run = etamil("--bogus", "--help")
    assert run.stdout == ""
    assert run.status == 2


@pytest.mark.parametrize("option", ["--bogus", "-", "-x", "--VM"])
def test_unknown_option(option: str) -> None:
    run = etamil(option, "prog.qmz")
    assert run.stdout == ""
    assert run.stderr == f"✗ Unknown option: {option}\n   Run `etamil --help` to see the available options.\n"
    assert run.status == 2


def test_port_needs_a_value() -> None:
    run = etamil("--port")
    assert (run.stdout, run.stderr, run.status) == ("", "✗ --port needs a value\n", 2)


def test_host_needs_a_value() -> None:
    run = etamil("--host")
    assert (run.stdout, run.stderr, run.status) == ("", "✗ --host needs a value\n", 2)


@pytest.mark.parametrize("value", ["abc", " 80", "8_0", "-1", "65536", "", "8080x"])
def test_port_must_be_a_number(value: str) -> None:
    run = etamil("--port", value)
    assert run.stdout == ""
    assert run.stderr == f"✗ --port needs a number from 0 to 65535, got '{value}'\n"
    assert run.status == 2


@pytest.mark.parametrize("value", ["0", "080", "+80", "65535"])
def test_port_accepted_values(program, value: str) -> None:
    path = program("accu 1;\n")
    run = etamil("--port", value, "--check", str(path))
    assert (run.stdout, run.stderr, run.status) == ("", "", 0)


def test_host_takes_the_next_argument_whatever_it_is(program) -> None:
    path = program("accu 1;\n")
    run = etamil("--host", "--check", str(path))
    # "--check" was consumed as the host, so the program runs on the VM
    assert run.stdout == success(1, 3, "1\n")


# --- REPL (LANGUAGE.md §18, HOST.md §2.6.4) --------------------------------------------------------


def _without_prompts(stdout: str) -> str:
    return stdout.replace("» ", "").replace("…  ", "")


def test_repl_quit_immediately(tmp_path: Path) -> None:
    run = etamil("--repl", stdin=":quit\n", cwd=tmp_path)
    assert run.stdout == BANNER + "\n» "
    assert run.status == 0


def test_repl_end_of_input_prints_newline(tmp_path: Path) -> None:
    run = etamil("--repl", stdin="", cwd=tmp_path)
    assert run.stdout == BANNER + "\n» \n"
    assert run.status == 0


def test_repl_session(tmp_path: Path) -> None:
    session = "1 + 2\na = 5;\na * 2\nceyal dbl(n) {\n  qirumpu n * 2;\n}\ndbl(a)\n:vars\n:quit\n"
    run = etamil("--repl", stdin=session, cwd=tmp_path)
    assert run.stdout == (BANNER + "\n» 3\n» » 10\n» …  …  » 10\n»   a = 5\n  செயல்: dbl\n» ")
    assert run.stderr == ""
    assert run.status == 0


def test_repl_vars_when_empty_and_sorted(tmp_path: Path) -> None:
    session = ':vars\nzeta = "z"; alpha = [1.50];\n:vars\n:q\n'
    run = etamil("--repl", stdin=session, cwd=tmp_path)
    assert _without_prompts(run.stdout) == (BANNER + "\n  (no variables yet)\n  alpha = [1.5]\n  zeta = z\n")
    assert run.status == 0


def test_repl_help(tmp_path: Path) -> None:
    run = etamil("--repl", stdin="  :help  \n:h\n:quit\n", cwd=tmp_path)
    assert _without_prompts(run.stdout) == BANNER + "\n" + REPL_HELP + REPL_HELP
    assert run.status == 0


def test_repl_single_call_statement_is_printed(tmp_path: Path) -> None:
    session = 'ceyal f(x) { qirumpu x + 1; }\nf(2);\n\nnILam("வணக்கம்")\n:quit\n'
    run = etamil("--repl", stdin=session, cwd=tmp_path)
    assert _without_prompts(run.stdout) == BANNER + "\n3\n5\n"


def test_repl_errors_and_recovery(tmp_path: Path) -> None:
    session = (
        "1 / 0\n"
        "zz\n"
        "1 +\n"
        "q = 1; ceyal later() { qirumpu 9; } accu 1 / 0;\n"
        "q\n"
        "later()\n"
        'accu "still here";\n'
        ":quit\n"
    )
    run = etamil("--repl", stdin=session, cwd=tmp_path)
    assert _without_prompts(run.stdout) == BANNER + "\n1\nstill here\n"
    assert run.stderr == (
        "✗ பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)\n"
        "✗ அறிவிக்கப்படாத மாறி 'zz'  (undefined variable 'zz')\n"
        "✗ வரி 1, நெடுவரிசை 1: a statement எதிர்பார்க்கப்பட்டது, '1' கிடைத்தது"
        "  (line 1, column 1: expected a statement, found '1')\n"
        "✗ பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)\n"
        "✗ அறியப்படாத செயல் 'later'  (unknown function 'later')\n"
    )
    assert run.status == 0


# --- quiet forms: run, check, --dump-globals -------------------------------------------------------


def test_run_prints_only_program_output(program) -> None:
    path = program('accu "only this";\n')
    run = etamil("run", str(path))
    assert (run.stdout, run.stderr, run.status) == ("only this\n", "", 0)


def test_run_runtime_error(program) -> None:
    path = program('accu "x";\naccu nosuch;\n')
    run = etamil("run", str(path), cwd=path.parent)
    assert run.stdout == "x\n"
    assert run.stderr == (
        "✗ Runtime error: அறிவிக்கப்படாத மாறி 'nosuch'  (undefined variable 'nosuch')\n" + located("prog.qmz", 2, 1)
    )
    assert run.status == 1


def test_run_type_error_has_no_stdout(program) -> None:
    path = program('eN a = "x";\n')
    run = etamil("run", str(path))
    assert run.stdout == ""
    assert run.stderr.startswith("✗ வரி 1, நெடுவரிசை 4: 'a' எண் (eN, a number)")
    assert run.status == 1


def test_run_exit_status(program) -> None:
    path = program("accu 1;\n_exit(4);\n")
    run = etamil("run", str(path))
    assert (run.stdout, run.status) == ("1\n", 4)


def test_check_subcommand(program) -> None:
    good = program('accu "never";\n', "good.qmz")
    bad = program("accu 1\n", "bad.qmz")
    assert (lambda r: (r.stdout, r.stderr, r.status))(etamil("check", str(good))) == ("", "", 0)
    run = etamil("check", str(bad))
    assert run.stdout == ""
    assert run.stderr.startswith("✗ வரி 1, நெடுவரிசை 6: ';' எதிர்பார்க்கப்பட்டது, உள்ளீடு முடிந்தது")
    assert run.status == 1


def _dumped(path: Path) -> dict[str, dict[str, str]]:
    globals_ = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(globals_, dict)
    # functions may be listed too; everything else must be one of our variables
    return {name: entry for name, entry in globals_.items() if entry.get("type") != "function"}


def test_dump_globals(program, tmp_path: Path) -> None:
    path = program(
        'n = 1.50; s = "அ"; b = mey; z = iZmY; a = [1, "x"]; r = {k: 2, "a b": poy};\n'
        "res = qavaRu(cari(0)); neg = mEl(-0.5); d;\n"
        "ceyal f() { local = 1; qirumpu 1; }\n"
        "x = f();\n"
    )
    out = tmp_path / "globals.json"
    run = etamil("run", "--dump-globals", str(out), str(path))
    assert (run.stdout, run.stderr, run.status) == ("", "", 0)
    assert _dumped(out) == {
        "n": {"type": "number", "text": "1.5"},
        "s": {"type": "text", "text": "அ"},
        "b": {"type": "bool", "text": "true"},
        "z": {"type": "null", "text": "nil"},
        "a": {"type": "array", "text": "[1, x]"},
        "r": {"type": "record", "text": "{a b: false, k: 2}"},
        "res": {"type": "result", "text": "தவறு(சரி(0))"},
        "neg": {"type": "number", "text": "-0"},
        "d": {"type": "number", "text": "0"},
        "x": {"type": "number", "text": "1"},
    }


def test_dump_globals_written_after_runtime_error(program, tmp_path: Path) -> None:
    path = program("kept = [2];\nboom = 1 / 0;\nnever = 1;\n")
    out = tmp_path / "globals.json"
    run = etamil("run", "--dump-globals", str(out), str(path), cwd=path.parent)
    assert run.status == 1
    assert run.stderr == "✗ Runtime error: பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)\n" + located("prog.qmz", 2, 1)
    assert _dumped(out) == {"kept": {"type": "array", "text": "[2]"}}


# --- more framing details ---------------------------------------------------------------------------


def test_empty_program(program) -> None:
    path = program("// only a comment\n")
    run = etamil(str(path))
    assert run.stdout == success(0, 1, "")
    assert run.status == 0


def test_instruction_count_unresolved_import_in_block(program) -> None:
    path = program(
        "ceyal f() {\n"
        '    (0) eZil { iRakku "nowhere.qmz"; }\n'  # 1 + 1 + 1 = 3
        "    qirumpu 1;\n"  # 2
        "}\n"  # 3 + 3 + 2 = 8
        "accu f();\n"  # 1 + 1 = 2
    )
    # 8 + 2 + 1 = 11
    run = etamil(str(path))
    assert run.stdout == success(2, 11, "1\n")


def test_stdout_is_flushed_before_errors(tmp_path: Path) -> None:
    """HOST §2.8: with both streams on one pipe, the output comes before the error line."""
    path = tmp_path / "prog.qmz"
    path.write_text('accu "a";\naccu "b";\naccu 1 / 0;\n', encoding="utf-8")
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run(
        [sys.executable, "-m", "etamil_server", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=TIMEOUT_SECONDS,
        env=environment,
        cwd=tmp_path,
    )
    # 2 + 2 + 4 + 1 = 9
    assert completed.stdout.decode("utf-8") == (
        preamble(3, 9) + "a\nb\n✗ Runtime error: பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)\n"
        + located("prog.qmz", 3, 1)
    )


def test_input_strips_carriage_return(program) -> None:
    path = program("uLLitu a;\nuLLitu b;\naccu nILam(a) & nILam(b) & b;\n")
    run = etamil("run", str(path), stdin="xy\r\n\r\nz")
    assert run.stdout == "20\n"


def test_input_invalid_utf8_is_a_runtime_error(program, tmp_path: Path) -> None:
    path = program('uLLitu a;\naccu "not reached";\n')
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run(
        [sys.executable, "-m", "etamil_server", "run", str(path)],
        input=b"\xff\xfe\n",
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        env=environment,
        cwd=path.parent,
    )
    assert completed.stdout == b""
    assert completed.stderr.decode("utf-8") == (
        "✗ Runtime error: stream did not contain valid UTF-8\n" + located("prog.qmz", 1, 1)
    )
    assert completed.returncode == 1


def test_program_on_stdin_not_utf8_fails_cleanly(tmp_path: Path) -> None:
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run(
        [sys.executable, "-m", "etamil_server"],
        input=b'accu "\xff";\n',
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        cwd=tmp_path,
        env=environment,
    )
    assert completed.returncode in (1, 101)
    assert completed.stdout == b""
    assert b"Traceback" not in completed.stderr


def test_import_by_absolute_path_and_symlink_loads_once(program, tmp_path: Path) -> None:
    module = program('accu "loaded";\n', "lib/mod.qmz")
    (tmp_path / "alias.qmz").symlink_to(module)
    path = program(f'iRakku "{module}";\niRakku "alias.qmz";\niRakku "lib/mod.qmz";\naccu "end";\n')
    run = etamil("run", str(path))
    assert (run.stdout, run.stderr, run.status) == ("loaded\nend\n", "", 0)


def test_repl_ignores_file_argument(program) -> None:
    path = program('accu "file ran";\n')
    run = etamil("--repl", str(path), stdin=":quit\n")
    assert run.stdout == BANNER + "\n» "


def test_repl_lists_hidden_loop_variables(tmp_path: Path) -> None:
    """HOST §2.6.4 quirk: top-level for-each loops leave hidden variables that :vars shows."""
    run = etamil("--repl", stdin="ovvoru v il [1, 2] { }\n:vars\n:quit\n", cwd=tmp_path)
    listing = _without_prompts(run.stdout).split("\n")[1:]
    assert any(line.startswith("  #each_items_0 = ") for line in listing), run.stdout
    assert any(line.startswith("  #each_i_0 = ") for line in listing), run.stdout
    assert "  v = 2" in listing


def test_repl_definitions_persist_and_later_ones_win(tmp_path: Path) -> None:
    session = "ceyal g() { qirumpu 1; }\ng()\nceyal g() { qirumpu 2; }\ng()\nx = g() + 10;\nx\n:quit\n"
    run = etamil("--repl", stdin=session, cwd=tmp_path)
    assert _without_prompts(run.stdout) == BANNER + "\n1\n2\n12\n"
    assert run.stderr == ""


def test_repl_braces_inside_strings_do_not_continue(tmp_path: Path) -> None:
    session = 's = "{";\nt = "\\"{";\ns & t\nceyal f() {\naccu "}";\n}\nf();\n:quit\n'
    run = etamil("--repl", stdin=session, cwd=tmp_path)
    assert _without_prompts(run.stdout) == BANNER + '\n{"{\n}\nnil\n'
    assert run.stderr == ""


def test_repl_retry_strips_whitespace_and_semicolons(tmp_path: Path) -> None:
    run = etamil("--repl", stdin="   1 + 2 ;;  \n:quit\n", cwd=tmp_path)
    assert _without_prompts(run.stdout) == BANNER + "\n3\n"
    assert run.stderr == ""


def test_repl_end_of_input_inside_open_block(tmp_path: Path) -> None:
    run = etamil("--repl", stdin="ceyal f() {\naccu 1;\n", cwd=tmp_path)
    assert run.stdout == BANNER + "\n» …  …  \n"
    assert run.status == 0
