"""The load-test tool lives in bench/ (a package at the repository root, not installed): put the
root on sys.path so the tests import it as ``bench.loadtest_*``, the way ``python -m bench.loadtest``
runs it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture
def wrk_installed():
    """wrk must be there (bench/install_wrk.sh installs it as root); elsewhere the test skips, except
    in CI (ETAMIL_TEST_REQUIRE_SERVICES=1), where a missing tool is a failure."""
    if shutil.which("wrk") is None:
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail("wrk is not installed (bash bench/install_wrk.sh) and CI requires it")
        pytest.skip("wrk is not installed (bash bench/install_wrk.sh)")


@pytest.fixture
def plotting():
    """matplotlib (the loadtest extra, also in the test extra) must be importable; elsewhere the
    test skips, except in CI, where it is a failure."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail("matplotlib is not installed: pip install -e '.[test]' (or '.[loadtest]')")
        pytest.skip("matplotlib is not installed (pip install -e '.[loadtest]')")
