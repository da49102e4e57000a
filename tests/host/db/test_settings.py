"""The database settings (etamil_server/config.py, DatabaseSettings)."""

import pytest

from etamil_server.config import ConfigError, DatabaseSettings, load_database_settings, load_settings


def test_defaults():
    settings = load_database_settings({})
    assert settings == DatabaseSettings()
    assert (settings.idle, settings.pool_max, settings.pool_timeout) == (8, 20, 5.0)
    assert (settings.check_idle, settings.max_lifetime, settings.connect_timeout) == (30.0, 3600.0, 5.0)


@pytest.mark.parametrize(
    "text, idle",
    [("3", 3), ("0", 0), ("+4", 4), ("abc", 8), ("-1", 8), (" 5", 8), ("", 8), ("2.5", 8)],
)
def test_idle_follows_the_reference_never_failing(text, idle):
    # HOST.md §2.9: unparsable -> 8, 0 keeps none
    assert load_database_settings({"ETAMIL_DB_IDLE": text}).idle == idle


def test_every_variable_is_read():
    settings = load_database_settings(
        {
            "ETAMIL_DB_POOL_MAX": "7",
            "ETAMIL_DB_POOL_TIMEOUT": "1.5",
            "ETAMIL_DB_CHECK_IDLE": "0",
            "ETAMIL_DB_MAX_LIFETIME": "60",
            "ETAMIL_DB_CONNECT_TIMEOUT": "2",
        }
    )
    assert settings == DatabaseSettings(8, 7, 1.5, 0.0, 60.0, 2.0)


@pytest.mark.parametrize("name", ["ETAMIL_DB_POOL_MAX", "ETAMIL_DB_POOL_TIMEOUT", "ETAMIL_DB_CONNECT_TIMEOUT"])
def test_bad_values_name_the_variable(name):
    with pytest.raises(ConfigError, match=name):
        load_database_settings({name: "lots"})


@pytest.mark.parametrize("text, expected", [("1", True), ("on", True), ("no", False), ("", False)])
def test_transaction_pooling_is_an_on_off_setting(text, expected):
    assert DatabaseSettings().transaction_pooling is False
    assert load_database_settings({"ETAMIL_DB_TRANSACTION_POOLING": text}).transaction_pooling is expected
    with pytest.raises(ConfigError, match="ETAMIL_DB_TRANSACTION_POOLING"):
        load_database_settings({"ETAMIL_DB_TRANSACTION_POOLING": "pgbouncer"})


def test_unrelated_bad_variables_do_not_matter_to_the_pool():
    assert load_database_settings({"ETAMIL_MAX_BODY": "huge"}).idle == 8


def test_part_of_the_whole_settings():
    assert load_settings({"ETAMIL_DB_POOL_MAX": "3"}).database.pool_max == 3


def test_sqlite_journal_is_default_or_wal():
    assert DatabaseSettings().sqlite_journal == "default"
    assert load_database_settings({"ETAMIL_SQLITE_JOURNAL": " WAL "}).sqlite_journal == "wal"
    with pytest.raises(ConfigError, match="ETAMIL_SQLITE_JOURNAL"):
        load_database_settings({"ETAMIL_SQLITE_JOURNAL": "truncate"})
