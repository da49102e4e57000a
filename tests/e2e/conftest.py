"""Fixtures for the end-to-end tests; the helpers live in e2e_helpers.py."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from e2e_helpers import servers_in  # noqa: E402


@pytest.fixture
def gunicorn(tmp_path):
    with servers_in(tmp_path) as start:
        yield start


@pytest.fixture
def upstream():
    from e2e_helpers import SlowUpstream

    server = SlowUpstream()
    yield server
    server.close()
