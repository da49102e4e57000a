"""Fixtures for the end-to-end tests; the helpers live in e2e_helpers.py."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from e2e_helpers import Gunicorn  # noqa: E402


@pytest.fixture
def gunicorn(tmp_path):
    started: list[Gunicorn] = []

    def start(source: str, **options) -> Gunicorn:
        server = Gunicorn(tmp_path, source, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def upstream():
    from e2e_helpers import SlowUpstream

    server = SlowUpstream()
    yield server
    server.close()
