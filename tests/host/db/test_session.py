"""One run's databases: HOST.md §5.4 and §5.7 (one database at a time), on SQLite."""

from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.runtime.values import Err, Ok

NOT_CONNECTED = "தரவுத்தளம் இணைக்கப்படவில்லை  (not connected to a database): use தளம்_இணை first"
SEVERAL = "பல தரவுத்தளங்கள் திறந்துள்ளன  (several databases are open); close all but one for now"


def message_of(call, *args) -> str:
    with pytest.raises(EtamilError) as raised:
        call(*args)
    return raised.value.message


@pytest.fixture
def db_file(tmp_path):
    return str(tmp_path / "ledger.db")


def test_connecting_again_with_the_same_text_does_nothing(new_session, db_file, pool):
    session = new_session()
    session.connect("SQLite", db_file)
    session.execute("CREATE TABLE t (x)", [])
    session.connect("SQLite", db_file)
    assert session.databases_in_use() == ["SQLite"]
    assert pool.stats()[0]["in_use"] == 1
    assert session.query("SELECT count(*) AS n FROM t", []) == [{"n": 0}]


def test_connecting_again_with_another_text_fails_and_keeps_the_first(new_session, db_file, tmp_path):
    session = new_session()
    session.connect("SQLite", db_file)
    other = str(tmp_path / "other.db")
    assert message_of(session.connect, "SQLite", other) == (
        f"'SQLite' ஏற்கனவே '{db_file}' உடன் இணைக்கப்பட்டுள்ளது  ('SQLite' is already connected to "
        f"'{db_file}'): தளம்_பிரி first — a query cannot say which of two it means"
    )
    assert session.query("SELECT 1 AS one", []) == [{"one": 1}]
    session.disconnect("SQLite")
    session.connect("SQLite", other)  # after தளம்_பிரி the other one is fine
    assert session.databases_in_use() == ["SQLite"]


def test_two_names_may_be_open_but_then_statements_fail(new_session, db_file):
    session = new_session()
    session.connect("SQLite", db_file)
    session.connect("SQL", db_file)  # a different name although the same driver and file
    assert session.databases_in_use() == ["SQLite", "SQL"]
    assert message_of(session.execute, "SELECT 1", []) == SEVERAL
    assert message_of(session.query, "SELECT 1", []) == SEVERAL
    assert session.try_execute("SELECT 1", []).value == SEVERAL
    assert isinstance(session.try_query("SELECT 1", []), Err)
    session.disconnect("SQL")
    assert session.query("SELECT 2 AS two", []) == [{"two": 2}]


def test_nothing_open(new_session):
    session = new_session()
    assert message_of(session.execute, "SELECT 1", []) == NOT_CONNECTED
    assert message_of(session.query, "SELECT 1", []) == NOT_CONNECTED
    result = session.try_query("SELECT 1", [])
    assert isinstance(result, Err) and result.value == NOT_CONNECTED


def test_disconnect_without_a_connection(new_session):
    session = new_session()
    assert message_of(session.disconnect, "PostgreSQL") == (
        "'PostgreSQL' இணைக்கப்படவில்லை  (not connected to PostgreSQL)"
    )


def test_unknown_and_unsupported_types(new_session):
    session = new_session()
    assert message_of(session.connect, "Oracle", "x") == (
        "அறியப்படாத தரவுத்தள வகை 'Oracle'  (unknown database type 'Oracle')"
    )
    for name in ("MongoDB", "Redis", "JSONdb", "NoSQL"):
        assert message_of(session.connect, name, "x") == (
            f"{name} இன்னும் ஆதரிக்கப்படவில்லை  ({name} is not supported yet); "
            "SQLite, PostgreSQL and MySQL are the backends today"
        )
    assert session.databases_in_use() == []


def test_parameters_must_be_an_array(new_session):
    session = new_session()
    session.connect("SQLite", ":memory:")
    expected = "அளவுருக்கள் ஒரு அணியாக இருக்க வேண்டும்  (query parameters must be an array, got a string)"
    assert message_of(session.execute, "SELECT ?", "x") == expected
    assert message_of(session.query, "SELECT ?", "x") == expected
    assert session.try_execute("SELECT ?", "x").value == expected
    assert session.try_query("SELECT ?", None).value.endswith("got nil)")


def test_try_builtins_return_results(new_session):
    session = new_session()
    session.connect("SQLite", ":memory:")
    assert session.try_execute("CREATE TABLE t (x INTEGER PRIMARY KEY)", []).value == Decimal(0)
    inserted = session.try_execute("INSERT INTO t VALUES (1), (2), (3)", [])
    assert isinstance(inserted, Ok) and inserted.value == Decimal(3)
    duplicate = session.try_execute("INSERT INTO t VALUES (1)", [])
    assert isinstance(duplicate, Err)
    assert duplicate.value == "தரவுத்தளப் பிழை  (database error): UNIQUE constraint failed: t.x"
    rows = session.try_query("SELECT x FROM t WHERE x > ?", [Decimal(1)])
    assert isinstance(rows, Ok) and rows.value == [{"x": 2}, {"x": 3}]
    none = session.try_query("SELECT x FROM t WHERE x > 9", [])
    assert isinstance(none, Ok) and none.value == []


def test_the_reference_reports_sqlite_changes_for_other_statements(new_session):
    # rusqlite returns sqlite3_changes(): the count of the last INSERT/UPDATE/DELETE
    session = new_session()
    session.connect("SQLite", ":memory:")
    session.execute("CREATE TABLE t (x)", [])
    session.execute("INSERT INTO t VALUES (1), (2)", [])
    assert session.try_execute("CREATE TABLE u (y)", []).value == Decimal(2)


def test_connections_belong_to_the_run_until_released(new_session, pool, db_file):
    session = new_session()
    session.connect("SQLite", db_file)
    assert pool.stats()[0]["in_use"] == 1
    session.release_all()
    assert session.databases_in_use() == []
    assert pool.stats()[0]["in_use"] == 0
    assert pool.stats()[0]["idle"] == 1
    session.release_all()  # nothing left: harmless
