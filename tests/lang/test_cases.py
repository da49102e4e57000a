"""Runs the conformance corpus in tests/lang/cases/ through the command line.

Every ``*.qmz`` under ``cases/`` (except ``*.mod.qmz`` helper modules) is one case. Its
expectations are comments inside the program:

``// expect: <line>``
    the next line the program prints on stdout; all printed lines must be expected, in order.
``// expect error: <fragment>``
    the run fails (non-zero exit) and stderr contains the fragment; several fragments must
    occur in the order written. An empty fragment only asks for the failure.
``// expect error line: <line>``
    like ``expect error``, but the text must be a whole line of stderr (the reference's first
    line of a message exactly, or our location line after it).
``// expect no error: <fragment>``
    stderr must not contain the fragment (e.g. a second parse error that must not be reported).
``// stdin: <text>``
    lines joined with ``\\n`` and fed to standard input (no stdin directive: empty input).
``// exit: <n>``
    the expected exit status instead of 0 / "non-zero".
``// args: <words>``
    replace the default subcommand ``run`` (the command is
    ``python -m etamil_server <words> FILE``).
``// env: NAME=value``
    set an environment variable; for ``ETAMIL_PATH`` each entry is a directory relative to
    the case file.
``// requires: postgres`` (or ``mysql``)
    the case talks to that server on 127.0.0.1; without it the case is skipped with a one-line
    reason — or fails, when ``ETAMIL_TEST_REQUIRE_SERVICES=1`` (CI) says the server must be there.

A case that imports the standard library (its text mentions ``nUlakam``) runs twice: with the
native implementations and, as ``<case>:definitions``, with ``ETAMIL_NATIVE_STDLIB=0`` (the
eTamil definitions); a ``// env:`` directive for that variable wins.

A directive may stand on its own line or after code on the same line. Exactly one space
after the colon is dropped, so ``// expect:   x`` expects ``"  x"``. Files are split on
line feeds only: a case may deliberately contain carriage returns or other odd characters.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CASES_DIR = Path(__file__).parent / "cases"
REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 30

DIRECTIVE = re.compile(r"//\s*(expect no error|expect error line|expect error|expect|stdin|exit|args|env|requires):(.*)$")
SERVICE_PORTS = {"postgres": 5432, "mysql": 3306}


@dataclass
class Case:
    path: Path
    expected_stdout: list[str] = field(default_factory=list)
    #: (text, whether it must be a whole line), in the order they must occur
    error_fragments: list[tuple[str, bool]] = field(default_factory=list)
    absent_fragments: list[str] = field(default_factory=list)
    expects_error: bool = False
    stdin_lines: list[str] | None = None
    exit_status: int | None = None
    args: list[str] = field(default_factory=lambda: ["run"])
    env: dict[str, str] = field(default_factory=dict)
    requires: list[str] = field(default_factory=list)


def _value(raw: str) -> str:
    """The directive's text with exactly one separating space removed."""
    return raw[1:] if raw.startswith(" ") else raw


def parse_case(path: Path) -> Case:
    case = Case(path)
    text = path.read_bytes().decode("utf-8", errors="replace")
    for line in text.split("\n"):
        match = DIRECTIVE.search(line)
        if not match:
            continue
        kind, value = match.group(1), _value(match.group(2))
        if kind == "expect":
            case.expected_stdout.append(value)
        elif kind in ("expect error", "expect error line"):
            case.expects_error = True
            if value:
                case.error_fragments.append((value, kind == "expect error line"))
        elif kind == "expect no error":
            case.absent_fragments.append(value)
        elif kind == "stdin":
            case.stdin_lines = (case.stdin_lines or []) + [value]
        elif kind == "exit":
            case.exit_status = int(value.strip())
        elif kind == "args":
            case.args = value.split()
        elif kind == "requires":
            case.requires.append(value.strip())
        elif kind == "env":
            name, _, setting = value.partition("=")
            case.env[name.strip()] = _resolve_env(name.strip(), setting.strip(), path.parent)
    return case


def _resolve_env(name: str, setting: str, case_dir: Path) -> str:
    if name != "ETAMIL_PATH":
        return setting
    return os.pathsep.join(str((case_dir / entry).resolve()) for entry in setting.split(os.pathsep))


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _require_services(case: Case) -> None:
    for service in case.requires:
        if _reachable(SERVICE_PORTS[service]):
            continue
        message = f"{service} is not reachable on 127.0.0.1:{SERVICE_PORTS[service]}"
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (ETAMIL_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(message)


def discover() -> list[Path]:
    return sorted(p for p in CASES_DIR.rglob("*.qmz") if not p.name.endswith(".mod.qmz"))


def _environment(case: Case) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ETAMIL_PATH"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(case.env)
    return env


def _stdout_lines(stdout: str) -> list[str]:
    if stdout == "":
        return []
    lines = stdout.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _assert_fragments_in_order(stderr: str, fragments: list[tuple[str, bool]], report: str) -> None:
    """Each fragment must occur after the previous one: errors are reported in program order. A
    whole-line fragment must have a line break (or the start or end of stderr) on both sides."""
    text = "\n" + stderr + ("" if stderr.endswith("\n") else "\n")
    position = 0
    for fragment, whole_line in fragments:
        wanted = f"\n{fragment}\n" if whole_line else fragment
        found = text.find(wanted, position)
        assert found >= 0, f"missing in stderr (after offset {position}): {wanted!r}\n{report}"
        position = found + len(wanted) - (1 if whole_line else 0)  # the line break starts the next line


CASE_PATHS = discover()
NATIVE_SWITCH = "ETAMIL_NATIVE_STDLIB"


def _parameters() -> list:
    """Every case once; a case that uses the standard library twice: with its native functions
    and with the eTamil definitions (``:definitions``), which must behave the same."""
    parameters = []
    for path in CASE_PATHS:
        name = str(path.relative_to(CASES_DIR))
        if "nUlakam" not in path.read_text(encoding="utf-8", errors="replace"):
            parameters.append(pytest.param(path, None, id=name))
            continue
        parameters.append(pytest.param(path, "1", id=name))
        parameters.append(pytest.param(path, "0", id=name + ":definitions"))
    return parameters


@pytest.mark.parametrize(("path", "native_switch"), _parameters())
def test_case(path: Path, native_switch: str | None) -> None:
    case = parse_case(path)
    if native_switch is not None:
        case.env.setdefault(NATIVE_SWITCH, native_switch)
    _require_services(case)
    stdin = "\n".join(case.stdin_lines).encode("utf-8") if case.stdin_lines is not None else b""
    completed = subprocess.run(
        [sys.executable, "-m", "etamil_server", *case.args, path.name],
        cwd=path.parent,
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        env=_environment(case),
    )
    stdout = completed.stdout.decode("utf-8", errors="replace")
    stderr = completed.stderr.decode("utf-8", errors="replace")
    report = f"exit {completed.returncode}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"

    assert "Traceback" not in stderr, report
    assert _stdout_lines(stdout) == case.expected_stdout, report
    if case.expects_error:
        if case.exit_status is None:
            assert completed.returncode != 0, report
        else:
            assert completed.returncode == case.exit_status, report
        _assert_fragments_in_order(stderr, case.error_fragments, report)
    else:
        expected_status = 0 if case.exit_status is None else case.exit_status
        assert completed.returncode == expected_status, report
        assert stderr == "", report
    for fragment in case.absent_fragments:
        assert fragment not in stderr, f"must not be in stderr: {fragment!r}\n{report}"


def test_a_whole_line_fragment_must_be_the_whole_line():
    """The harness itself: ``expect error line`` fails on a part of a line, passes on lines in order."""
    stderr = "✗ first  (one) more\n  second line\n"
    _assert_fragments_in_order(stderr, [("✗ first  (one) more", True), ("  second line", True)], "")
    with pytest.raises(AssertionError):
        _assert_fragments_in_order(stderr, [("✗ first  (one)", True)], "")
    with pytest.raises(AssertionError):
        _assert_fragments_in_order(stderr, [("  second line", True), ("✗ first  (one) more", True)], "")
    _assert_fragments_in_order(stderr, [("(one)", False), ("second", False)], "")
