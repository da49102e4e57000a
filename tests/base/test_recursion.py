"""The recursion limit: set by the entry points through one helper, never by an import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from etamil_server.base import recursion

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_front_end_and_the_compiler_leaves_the_limit_alone():
    code = (
        "import sys; before = sys.getrecursionlimit(); "
        "import etamil_server.lang.loader, etamil_server.runtime.compiler, etamil_server.families; "
        "print(before, sys.getrecursionlimit())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=60, check=True)
    before, after = done.stdout.split()
    assert before == after


def test_the_helper_raises_the_limit_and_never_lowers_it(monkeypatch):
    limits = []
    monkeypatch.setattr(sys, "getrecursionlimit", lambda: 1000)
    monkeypatch.setattr(sys, "setrecursionlimit", limits.append)
    recursion.allow_deep_recursion()
    assert limits == [recursion.RECURSION_LIMIT]
    monkeypatch.setattr(sys, "getrecursionlimit", lambda: recursion.RECURSION_LIMIT * 2)
    recursion.allow_deep_recursion()
    assert limits == [recursion.RECURSION_LIMIT]


def test_the_command_sets_it_before_loading(tmp_path):
    """A program nested deeper than Python's default limit allows loads and runs from the command."""
    depth = 400
    path = tmp_path / "deep.qmz"
    path.write_text("x = " + "(" * depth + "1" + ")" * depth + ";\naccu x;\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "etamil_server", "run", str(path)], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=60)
    assert (done.stdout, done.stderr, done.returncode) == ("1\n", "", 0)
