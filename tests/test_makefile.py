"""The Makefile's contract, with a stand-in interpreter (no network, no real install): the venv is
made with $(PYTHON), everything else goes through $(VENV)/bin, ``make install`` does nothing when
the package definition has not changed, and a failed venv leaves nothing behind. The real thing,
from a fresh clone, is tests/e2e/test_first_hour.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 60

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

# A stand-in for python3: `-m venv DIR` makes DIR/bin/python (this same script); anything else is
# logged to $FAKE_LOG and succeeds.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "venv $3" >> "$FAKE_LOG"
    exit $?
fi
echo "$0 $*" >> "$FAKE_LOG"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with the Makefile and the files its install step depends on."""
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy2(REPO / name, tmp_path / name)
    fake = tmp_path / "fake-python3"
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(0o755)
    return tmp_path


def make(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "PORT")}
    environment.update({"FAKE_LOG": str(project / "log"), "PYTHON": str(project / "fake-python3"), **env})
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, env=environment,
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def log(project: Path) -> list[str]:
    path = project / "log"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def test_install_makes_the_venv_with_PYTHON_and_installs_through_it(project: Path) -> None:
    done = make(project, "install")
    assert done.returncode == 0, done.stderr
    venv_python = ".venv/bin/python"  # $0 of the stand-in, as make called it
    assert log(project) == [
        "venv .venv",
        f"{venv_python} -m pip install -q -e .[test] --config-settings editable_mode=compat",
        f"{venv_python} -m compileall -q etamil_server workers conf",
    ]


def test_install_again_does_nothing_until_the_package_definition_changes(project: Path) -> None:
    assert make(project, "install").returncode == 0
    log(project)
    assert make(project, "install").returncode == 0
    assert log(project) == []
    stamp = project / ".venv" / ".installed"
    later = stamp.stat().st_mtime + 10
    os.utime(project / "setup.cfg", (later, later))
    assert make(project, "install").returncode == 0
    assert [line.split(" -m ")[1].split()[0] for line in log(project)] == ["pip", "compileall"]


def test_a_failed_venv_leaves_nothing_behind_and_says_what_to_install(project: Path) -> None:
    broken = project / "broken-python3"  # like Debian's python3 without python3-venv: a half-made venv
    broken.write_text('#!/bin/sh\nmkdir -p "$3/bin"\necho "ensurepip is not available" >&2\nexit 1\n',
                      encoding="utf-8")
    broken.chmod(0o755)
    done = make(project, "install", PYTHON=str(broken))
    assert done.returncode != 0
    assert "apt-get install python3-venv" in done.stderr
    assert not (project / ".venv").exists()


def test_the_venv_location_can_be_chosen(project: Path) -> None:
    assert make(project, "install", VENV="elsewhere/venv").returncode == 0
    assert (project / "elsewhere" / "venv" / ".installed").exists()
    assert not (project / ".venv").exists()


@pytest.mark.parametrize(
    ("target", "commands"),
    [
        ("serve", ["LEDGER_DB=data/ledger.db .venv/bin/etamil serve examples/ledger_api.qmz --port 8080"]),
        ("test", ["bash .ci/services.sh",
                  'bash bench/install_wrk.sh || [ "${ETAMIL_TEST_REQUIRE_SERVICES:-0}" != 1 ]',
                  ".venv/bin/python -m pytest -q"]),
        ("lint", [".venv/bin/python -m ruff check etamil_server workers conf tests bench"]),
        ("bench", [".venv/bin/python bench/vm_tax.py"]),
    ],
)
def test_every_target_runs_the_installed_tools_through_the_venv(project: Path, target: str,
                                                                 commands: list[str]) -> None:
    assert make(project, "install").returncode == 0
    done = make(project, "-n", target)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("mkdir ")]
    assert lines == commands


def test_serve_takes_port_program_and_data_dir_from_the_environment(project: Path) -> None:
    assert make(project, "install").returncode == 0
    done = make(project, "-n", "serve", PORT="9000", PROGRAM="examples/hello.qmz", DATA_DIR="var")
    assert done.stdout.splitlines()[-1] == "LEDGER_DB=var/ledger.db .venv/bin/etamil serve examples/hello.qmz --port 9000"


def test_the_serve_data_directory_is_ignored_by_git() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/ledger.db"], cwd=REPO, timeout=TIMEOUT_SECONDS)
    assert ignored.returncode == 0
