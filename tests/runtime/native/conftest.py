"""Fixtures of the native standard library tests; the harness lives in native_helpers.py."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from native_helpers import Twin  # noqa: E402


@pytest.fixture(scope="session")
def twin() -> Twin:
    return Twin()
