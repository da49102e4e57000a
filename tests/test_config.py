"""Settings read from ETAMIL_* variables (the database section has its tests in tests/host/db)."""

from __future__ import annotations

import pytest

from etamil_server.config import ConfigError, Settings, documented_variables, load_settings


def test_defaults_are_right_for_one_machine():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.http.max_body == 1024 * 1024
    assert settings.http.max_header == 16 * 1024
    assert settings.execution.handler_deadline == 30.0
    assert settings.drain.idle_grace == 1.0
    assert settings.process.bind == ("127.0.0.1:8080",)
    assert settings.process.worker_count >= 1
    assert settings.execution.pool_size == settings.execution.executor_threads + 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1048576", 1048576), ("16k", 16384), ("16KiB", 16384), ("2m", 2 * 1024 * 1024), ("1MiB", 1048576), ("3 kb", 3072)],
)
def test_sizes(text, expected):
    assert load_settings({"ETAMIL_MAX_BODY": text}).http.max_body == expected


def test_every_area_reads_its_variables():
    settings = load_settings(
        {
            "ETAMIL_KEEPALIVE_TIMEOUT": "2.5",
            "ETAMIL_THREADS": "8",
            "ETAMIL_VM_POOL": "3",
            "ETAMIL_HANDLER_DEADLINE": "0",
            "ETAMIL_MAX_CONCURRENCY": "50",
            "ETAMIL_DRAIN_GRACE": "0.5",
            "ETAMIL_GRACEFUL_TIMEOUT": "20",
            "ETAMIL_PROGRAM": "ledger.qmz",
            "ETAMIL_BIND": "0.0.0.0:80, [::1]:81",
            "ETAMIL_PROCESSES": "4",
            "ETAMIL_LOG_FORMAT": "JSON",
            "ETAMIL_METRICS": "on",
        }
    )
    assert settings.http.keepalive_timeout == 2.5
    assert settings.execution.executor_threads == 8
    assert settings.execution.pool_size == 3
    assert settings.execution.handler_deadline == 0
    assert settings.execution.max_concurrency == 50
    assert settings.drain.idle_grace == 0.5
    assert settings.drain.deadline == 18.0
    assert settings.process.program == "ledger.qmz"
    assert settings.process.bind == ("0.0.0.0:80", "[::1]:81")
    assert settings.process.worker_count == 4
    assert settings.log.format == "json"
    assert settings.metrics.enabled is True


def test_etamil_workers_is_not_the_process_count():
    # the reference gives ETAMIL_WORKERS to --server as its thread count (HOST.md §2.9)
    assert load_settings({"ETAMIL_WORKERS": "7"}).process.processes == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ETAMIL_MAX_BODY", "lots"),
        ("ETAMIL_THREADS", "-1"),
        ("ETAMIL_THREADS", "0"),
        ("ETAMIL_HANDLER_DEADLINE", "soon"),
        ("ETAMIL_KEEPALIVE_TIMEOUT", "-2"),
        ("ETAMIL_METRICS", "maybe"),
        ("ETAMIL_LOG_FORMAT", "xml"),
        ("ETAMIL_BIND", " , "),
    ],
)
def test_a_bad_value_names_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        load_settings({name: value})
    assert str(error.value).startswith(name + ":")
    assert value.strip() in str(error.value) or value in str(error.value)


def test_every_variable_is_documented_with_its_default():
    variables = {name: default for name, _, default in documented_variables()}
    assert variables["ETAMIL_MAX_BODY"] == 1024 * 1024
    assert variables["ETAMIL_DRAIN_GRACE"] == 1.0
    assert len(variables) == len(documented_variables())  # no variable twice
