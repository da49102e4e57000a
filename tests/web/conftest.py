"""Fixtures shared by the server tests."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # protocol_fakes.py, imported by name

from etamil_server.web import logs


@pytest.fixture
def server_log():
    """The server's loggers set up as in one process (``etamil serve``): bare lines on whatever
    ``sys.stderr`` is when a line is written (so ``capsys`` and ``capfd`` see them)."""
    logs.configure()
    yield
    logs.configure(handlers=[])
    logs.ERROR_LOG.propagate = True


@pytest.fixture
def h():
    """A protocol on a fake transport (``protocol_fakes.Harness``), default limits."""
    from protocol_fakes import Harness

    harness = Harness()
    yield harness
    harness.close()
