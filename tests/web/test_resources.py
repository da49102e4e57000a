"""web/resources.py: what a request's database failure tells /ready."""

from __future__ import annotations

import time

from etamil_server.web import resources


def test_a_failure_after_the_last_healthy_probe_is_reported_until_a_later_probe(monkeypatch):
    monkeypatch.setattr(resources, "_last_failure", None)
    assert resources.database_failure_since(0.0) is None
    probe_started = time.monotonic()
    resources.note_database_failure("cannot connect")
    assert resources.database_failure_since(probe_started) == "database unavailable: cannot connect"
    later_probe = time.monotonic() + 1  # a probe that started after the failure found it well
    assert resources.database_failure_since(later_probe) is None
