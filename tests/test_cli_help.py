"""The help forms of the ``etamil`` command: ``--help`` / ``-h`` / ``help``, ``help COMMAND`` and
``COMMAND --help``; every file they name exists, and their run/check examples work."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 30
COMMANDS = ("run", "check", "serve")


def etamil(*args: str, stdin: str = "", cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etamil_server", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_SECONDS,
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def general_help() -> str:
    run = etamil("--help")
    assert (run.stderr, run.returncode) == ("", 0)
    return run.stdout


def usage(command: str) -> str:
    run = etamil(command, "--help")
    assert (run.stderr, run.returncode) == ("", 0), run.stderr
    return run.stdout


def examples(text: str) -> list[str]:
    """The command lines under ``EXAMPLES:`` (up to the next blank line)."""
    block = text.split("EXAMPLES:\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


# ------------------------------------------------------------------ etamil --help


def test_our_commands_come_first_then_the_reference_flags() -> None:
    text = general_help()
    order = ["etamil run ", "etamil check ", "etamil serve ", "etamil --repl", "--vm ", "--check ", "--server ",
             "--async ", "--llvm ", "--host <HOST>", "--port <PORT>", "-h, --help", "-V, --version"]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions, dict(zip(order, positions, strict=True))
    assert positions == sorted(positions)


@pytest.mark.parametrize("form", [["-h"], ["help"]])
def test_every_spelling_of_help_prints_the_same_text(form: list[str]) -> None:
    run = etamil(*form)
    assert (run.stdout, run.stderr, run.returncode) == (general_help(), "", 0)


def test_the_help_mentions_check_strict_and_each_commands_help() -> None:
    text = general_help()
    assert "etamil check [--strict] FILE" in text
    assert "etamil COMMAND --help" in text


# ------------------------------------------------------------------ per-command usage


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_forms_agree(command: str) -> None:
    text = usage(command)
    assert text.startswith(f"etamil {command} — ")
    assert "USAGE:" in text and "EXAMPLES:" in text
    for form in ([command, "-h"], ["help", command]):
        run = etamil(*form)
        assert (run.stdout, run.stderr, run.returncode) == (text, "", 0)


def test_serve_help_is_no_longer_an_unknown_option() -> None:
    run = etamil("serve", "--help")
    assert "Unknown option" not in run.stdout + run.stderr
    assert run.returncode == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_help_acts_when_reached_and_an_error_before_it_wins(command: str) -> None:
    # the reference's rule (HOST.md §2.2), kept for our commands
    after = etamil(command, "--help", "--bogus", "missing.qmz")
    assert (after.stdout, after.returncode) == (usage(command), 0)
    before = etamil(command, "--bogus", "--help")
    assert before.stdout == ""
    assert before.stderr == f"✗ Unknown option: --bogus\n   Run `etamil {command} --help` to see its options.\n"
    assert before.returncode == 2


# every option each command parses (cli.py), and the word an example must contain to show it
OPTIONS = {
    "run": ["--dump-globals"],
    "check": ["--strict"],
    "serve": ["--host", "--port", "--workers", "--reload"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_described_and_has_an_example(command: str) -> None:
    text = usage(command)
    options_block = text.split("OPTIONS:\n", 1)[1].split("\n\n", 1)[0]
    lines = examples(text)
    for option in OPTIONS[command]:
        assert re.search(rf"^    {re.escape(option)}\b", options_block, re.M), f"{option} is not described"
        assert [line for line in lines if re.search(rf"(?<!\S){re.escape(option)}(?!\S)", line)], (
            f"no example of {option}"
        )
    assert re.search(r"^    -h, --help\b", options_block, re.M)


def test_serve_options_in_the_usage_are_the_ones_serve_accepts() -> None:
    # an option the help shows but the parser refuses would say "Unknown option"
    for option, value in (("--host", "127.0.0.1"), ("--port", "notaport"), ("--workers", "0")):
        run = etamil("serve", option, value)
        assert "Unknown option" not in run.stderr, option
        assert run.returncode == 2


def test_help_for_an_unknown_command() -> None:
    run = etamil("help", "deploy")
    assert run.stdout == ""
    assert run.stderr == "✗ Unknown command: deploy\n   `etamil help` takes one of: run, check, serve.\n"
    assert run.returncode == 2


def test_serve_without_a_file_points_to_its_help() -> None:
    run = etamil("serve")
    assert run.stderr == "✗ etamil serve needs a program file\n   Run `etamil serve --help` to see its options.\n"
    assert run.returncode == 2


# ------------------------------------------------------------------ what the help texts name


def all_help_texts() -> dict[str, str]:
    return {"--help": general_help(), **{command: usage(command) for command in COMMANDS}}


REPO_PATH = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.(?:qmz|py|md|service|socket))(?![\w/])")


def test_every_file_named_in_the_help_exists() -> None:
    named = {path for text in all_help_texts().values() for path in REPO_PATH.findall(text)}
    assert "examples/income_tax.qmz" in named and "conf/etamil.py" in named  # the pattern finds them
    missing = sorted(path for path in named if not (REPO / path).exists())
    assert missing == []


@pytest.fixture
def etamil_on_path(tmp_path: Path) -> dict[str, str]:
    """A PATH whose ``etamil`` is this checkout's (the examples are shell command lines)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "etamil"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m etamil_server "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": pythonpath,
            "PYTHONIOENCODING": "utf-8"}


def runnable_examples() -> list[str]:
    """The run and check examples of every help text (serving ones start servers: their files
    are checked above)."""
    found: list[str] = []
    for text in all_help_texts().values():
        for line in examples(text) + [line.strip() for line in text.splitlines() if "| etamil --" in line]:
            words = shlex.split(line.split("#", 1)[0])
            if "serve" in words or "--server" in words or "--async" in words or "--repl" in words:
                continue
            if line not in found:
                found.append(line)
    return found


def test_the_run_and_check_examples_work(tmp_path: Path, etamil_on_path: dict[str, str]) -> None:
    lines = runnable_examples()
    assert any("etamil run" in line for line in lines) and any("etamil check" in line for line in lines)
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")  # relative paths as from the checkout
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=work, env=etamil_on_path, capture_output=True,
                              text=True, encoding="utf-8", timeout=TIMEOUT_SECONDS)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
    assert (work / "globals.json").exists()  # the --dump-globals example wrote its file
