"""PostgreSQL (HOST.md §5.3-§5.6, §5.8): every row of the §5.5 and §5.6 tables, on a real server."""

from decimal import Decimal

import pytest

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError
from etamil_server.runtime.values import Err, Ok

D = Decimal
DB_ERROR = "தரவுத்தளப் பிழை  (database error): "


def message_of(call, *args) -> str:
    with pytest.raises(EtamilError) as raised:
        call(*args)
    return raised.value.message


@pytest.fixture(params=["direct", "pgbouncer"])
def db(request, new_session, make_pool, pg_dsn):
    """A session on the test server: directly, and through PgBouncer in transaction pooling mode
    with the driver's setting for it (every test of this file runs both ways)."""
    if request.param == "direct":
        session = new_session()
        session.connect("PostgreSQL", pg_dsn)
        return session
    bouncer = request.getfixturevalue("pgbouncer")
    session = new_session(make_pool(transaction_pooling=True))
    session.connect("PostgreSQL", bouncer.dsn)
    return session


@pytest.fixture
def direct_db(new_session, pg_dsn):
    session = new_session()
    session.connect("PostgreSQL", pg_dsn)
    return session


def one(session, sql, params=()):
    rows = session.query(sql, list(params))
    assert len(rows) == 1
    return rows[0]


# ------------------------------------------------------------------------------ §5.3 connecting


def test_url_form(new_session, pg_params):
    session = new_session()
    user = pg_params["user"] + (f":{pg_params['password']}" if "password" in pg_params else "")
    where = f"{user}@{pg_params['host']}:{pg_params['port']}/{pg_params['dbname']}"
    session.connect("PostgreSQL", f"postgres://{where}")
    assert one(session, "SELECT current_database() AS d") == {"d": pg_params["dbname"]}
    session.disconnect("PostgreSQL")
    session.connect("PostgreSQL", f"postgresql://{where}")
    assert one(session, "SELECT 1 AS x") == {"x": 1}


def test_cannot_connect(new_session):
    session = new_session()
    message = message_of(session.connect, "PostgreSQL", "host=127.0.0.1 port=1 dbname=test user=postgres")
    assert message.startswith("போச்குரசீகுல் இணைக்க முடியவில்லை  (cannot connect to PostgreSQL): ")
    assert '"127.0.0.1", port 1 failed' in message  # names the server
    assert "\n" not in message
    bad = message_of(session.connect, "PostgreSQL", "this is not a connection string")
    assert bad.startswith("போச்குரசீகுல் இணைக்க முடியவில்லை  (cannot connect to PostgreSQL): ")


# ------------------------------------------------------------------------------ §5.5 values in


@pytest.mark.parametrize(
    "cast, value, expected",
    [
        ("int2", D("12.9"), D(12)),  # fraction dropped
        ("int4", D("-12.9"), D(-12)),
        ("int8", D("9223372036854775807"), D(2**63 - 1)),
        ("numeric", D("12.50"), D("12.50")),
        ("float8", D("0.1"), D("0.1")),
        ("text", D("12.50"), "12.5"),
        ("varchar", D("-0.050"), "-0.05"),
        ("bpchar", D(7), "7"),
        ("bool", D(2), True),
        ("bool", D(0), False),
    ],
)
def test_numbers_adapt_to_the_inferred_type(db, cast, value, expected):
    got = one(db, f"SELECT $1::{cast} AS v", [value])["v"]
    assert got == expected and type(got) is type(expected)


def test_numbers_into_float4(db, pg_table):
    db.execute(f"CREATE TABLE {pg_table} (r real)", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D("1.5")])
    assert one(db, f"SELECT r::float8 AS r FROM {pg_table}") == {"r": D("1.5")}


@pytest.mark.parametrize(
    "cast, value, what",
    [("int2", D(32768), "32768 does not fit in a smallint"),
     ("int4", D(2**31), f"{2**31} does not fit in an integer"),
     ("int8", D(2**63), f"{2**63} does not fit in a bigint"),
     ("int2", "40000", "40000 does not fit in a smallint")],
)
def test_integer_range_checks(db, cast, value, what):
    assert message_of(db.query, f"SELECT $1::{cast} AS v", [value]) == (
        f"{DB_ERROR}error serializing parameter 0: {what}"
    )


@pytest.mark.parametrize(
    "cast, value, expected",
    [("numeric", " 12.50 ", D("12.50")), ("numeric", "1_000.5", D("1000.5")), ("int4", " 42 ", D(42)),
     ("int8", "+7", D(7)), ("text", "007", "007"), ("varchar", "x", "x"), ("date", "2024-01-31", "2024-01-31")],
)
def test_text_adapts_to_the_inferred_type(db, cast, value, expected):
    sql = f"SELECT $1::{cast}::text AS v" if cast == "date" else f"SELECT $1::{cast} AS v"
    got = one(db, sql, [value])["v"]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "cast, value, what",
    [("numeric", "abc", "'abc' is not a number"), ("numeric", "1e3", "'1e3' is not a number"),
     ("int4", "1.5", "'1.5' is not a whole number"), ("int4", "1_000", "'1_000' is not a whole number"),
     ("int8", "99999999999999999999", "'99999999999999999999' is not a whole number")],
)
def test_text_that_does_not_convert(db, cast, value, what):
    assert message_of(db.query, f"SELECT $1::{cast} AS v", [value]) == f"{DB_ERROR}error serializing parameter 0: {what}"


def test_the_failing_parameter_is_named(db):
    message = message_of(db.query, "SELECT $1::int4 AS a, $2::int2 AS b", [D(1), D(99999)])
    assert message == f"{DB_ERROR}error serializing parameter 1: 99999 does not fit in a smallint"


def test_booleans(db):
    assert one(db, "SELECT $1::text AS t, $2::varchar AS v, $3::bool AS b", [True, False, True]) == {
        "t": "true", "v": "false", "b": True,
    }


def test_nil_binds_as_null(db):
    assert one(db, "SELECT $1::int4 AS i, $2::text AS t, $3::numeric IS NULL AS n", [None, None, None]) == {
        "i": None, "t": None, "n": True,
    }


@pytest.mark.parametrize("value, kind", [([D(1)], "an array"), ({"a": D(1)}, "a record"), (Ok(D(1)), "a result")])
def test_compound_values_are_refused(db, value, kind):
    assert message_of(db.query, "SELECT $1::text AS v", [value]) == (
        f"இதை ஒரு அளவுருவாக பிணைக்க முடியாது  (cannot bind {kind} as a query parameter)"
    )


def test_an_untyped_parameter_is_text(db):
    assert one(db, "SELECT $1 AS v", [D("1.50")]) == {"v": "1.5"}


def test_parameter_count_mismatch(db):
    assert message_of(db.query, "SELECT $1::int AS v", [D(1), D(2)]).startswith(DB_ERROR)
    assert message_of(db.query, "SELECT $1::int AS v", []).startswith(DB_ERROR)


# ------------------------------------------------------------------------------ §5.6 values out


def test_null_integers_numeric_float8_bool(db):
    row = one(db, "SELECT NULL::int4 AS n, 1::int2 AS s, 2::int4 AS i, 9223372036854775807::int8 AS b, "
                  "12.50::numeric AS num, 0.1::float8 + 0.2::float8 AS f, true AS yes, false AS no")
    assert row == {"n": None, "s": D(1), "i": D(2), "b": D(2**63 - 1), "num": D("12.50"),
                   "f": D("0.30000000000000004"), "yes": True, "no": False}


def test_float8_too_large_is_nil(db):
    assert one(db, "SELECT 1e300::float8 AS big, 1e-300::float8 AS tiny") == {"big": None, "tiny": D(0)}


def test_numeric_keeps_its_scale_and_rounds_past_28_places(db):
    row = one(db, "SELECT 1.10::numeric(10,2) AS a, ('0.' || repeat('3', 30))::numeric AS b")
    assert numbers.display_scaled(row["a"]) == "1.10"
    assert row["b"] == D("0." + "3" * 28)


@pytest.mark.parametrize("sql", ["SELECT 'NaN'::numeric AS v", "SELECT 1e40::numeric AS v"])
def test_numeric_that_is_not_a_number_fails(db, sql):
    assert message_of(db.query, sql, []).startswith(
        "நெடுவரிசை படிக்க முடியவில்லை  (cannot read a numeric column): "
    )


def test_text_like_types_stay_text(db):
    row = one(db, "SELECT '007'::text AS t, '+5'::varchar AS v, 'ab'::char(4) AS c, 'x'::name AS n")
    assert row == {"t": "007", "v": "+5", "c": "ab  ", "n": "x"}


def test_float4_fails_the_query(db):
    assert message_of(db.query, "SELECT 1.5::real AS r", []).startswith(
        "நெடுவரிசை படிக்க முடியவில்லை  (cannot read a float column): "
    )


@pytest.mark.parametrize(
    "expression",
    ["now()", "current_date", "'2024-01-01'::timestamp", "gen_random_uuid()", "'{}'::json", "'{}'::jsonb",
     "'\\x00'::bytea", "ARRAY[1,2]", "interval '1 day'", "NULL::date"],
)
def test_other_types_fail_the_query(db, expression):
    assert message_of(db.query, f"SELECT {expression} AS v", []).startswith(
        "நெடுவரிசை படிக்க முடியவில்லை  (cannot read a text column): "
    )
    db.execute(f"SELECT {expression} AS v", [])  # execute reads nothing: fine


def test_other_types_cast_to_text_work(db):
    assert one(db, "SELECT '2024-01-31'::date::text AS d") == {"d": "2024-01-31"}


def test_other_types_without_rows_do_not_fail(db):
    assert db.query("SELECT now() AS v WHERE false", []) == []


def test_column_names_fold_to_lower_case_unless_quoted(db):
    assert one(db, 'SELECT 1 AS Total, 2 AS "Total"') == {"total": D(1), "Total": D(2)}
    assert db.query("SELECT 1 AS x, 2 AS x", []) == [{"x": D(2)}]


def test_exact_decimals_round_trip(db, pg_table):
    db.execute(f"CREATE TABLE {pg_table} (id int, amount numeric)", [])
    total = numbers.add(D("0.1"), D("0.2"))
    db.execute(f"INSERT INTO {pg_table} VALUES (1, $1), (2, $2), (3, $3)",
               [total, D("99999999999999999999.99"), "0.1"])
    rows = db.query(f"SELECT amount FROM {pg_table} ORDER BY id", [])
    assert rows == [{"amount": D("0.3")}, {"amount": D("99999999999999999999.99")}, {"amount": D("0.1")}]
    assert one(db, f"SELECT sum(amount) AS s FROM {pg_table} WHERE id <> 2") == {"s": D("0.4")}
    assert one(db, f"SELECT count(*) AS n FROM {pg_table} WHERE amount = $1", [D("0.3")]) == {"n": D(1)}


# ------------------------------------------------------------------------------ §5.4 statements


def test_execute_and_row_counts(db, pg_table):
    db.execute(f"CREATE TABLE {pg_table} (id int PRIMARY KEY)", [])
    assert db.try_execute(f"INSERT INTO {pg_table} SELECT generate_series(1, $1::int)", [D(3)]).value == D(3)
    assert db.try_execute(f"UPDATE {pg_table} SET id = id + 10 WHERE id > $1", [D(1)]).value == D(2)
    assert db.try_execute(f"CREATE INDEX ON {pg_table} (id)", []).value == D(0)
    failure = db.try_execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)])
    assert isinstance(failure, Err)
    assert failure.value.startswith(DB_ERROR) and "duplicate key" in failure.value
    assert db.query(f"DELETE FROM {pg_table} WHERE id = $1", [D(1)]) == []


def test_one_statement_at_a_time(db):
    assert message_of(db.execute, "SELECT 1; SELECT 2", []).startswith(DB_ERROR)
    assert message_of(db.query, "SELECT $1::int; SELECT 2", [D(1)]).startswith(DB_ERROR)
    assert db.query("SELECT ';' AS s;", []) == [{"s": ";"}]


def test_errors_are_one_line(db):
    message = message_of(db.query, "SELECT * FROM no_such_table_here", [])
    assert message.startswith(DB_ERROR) and "no_such_table_here" in message and "\n" not in message
    message = message_of(db.query, "SELECT $1::int AS v /* an open comment", [D(1)])
    assert message.startswith(DB_ERROR) and "\n" not in message


def test_percent_signs_are_not_special(db):
    assert one(db, "SELECT 'a%sb' AS p, 'x%%' LIKE $1 AS l", ["x%"]) == {"p": "a%sb", "l": True}


def test_prepared_statements_survive_schema_changes(db, pg_table):
    db.execute(f"CREATE TABLE {pg_table} (id int)", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)])
    assert db.query(f"SELECT * FROM {pg_table} WHERE id = $1", [D(1)]) == [{"id": D(1)}]
    db.execute(f"ALTER TABLE {pg_table} ADD COLUMN note text DEFAULT 'n'", [])
    assert db.query(f"SELECT * FROM {pg_table} WHERE id = $1", [D(1)]) == [{"id": D(1), "note": "n"}]


def test_the_program_may_deallocate_everything(db):
    assert one(db, "SELECT $1::int AS v", [D(1)]) == {"v": D(1)}
    db.execute("DEALLOCATE ALL", [])
    assert one(db, "SELECT $1::int AS v", [D(2)]) == {"v": D(2)}
    db.execute("DISCARD ALL", [])
    assert one(db, "SELECT $1::int AS v", [D(3)]) == {"v": D(3)}


# ------------------------------------------------------------------------------ §5.8 transactions


def rows_seen_by_another_connection(new_session, pg_dsn, table) -> list:
    other = new_session()
    other.connect("PostgreSQL", pg_dsn + " application_name=other")  # another key: its own connection
    rows = other.query(f"SELECT id FROM {table} ORDER BY id", [])
    other.release_all()
    return [row["id"] for row in rows]


def test_begin_commit_rollback(db, new_session, pg_dsn, pg_table):
    db.execute(f"CREATE TABLE {pg_table} (id int)", [])
    db.execute("BEGIN", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)])
    assert rows_seen_by_another_connection(new_session, pg_dsn, pg_table) == []
    db.execute("COMMIT", [])
    db.execute("BEGIN", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(2)])
    db.execute("ROLLBACK", [])
    assert rows_seen_by_another_connection(new_session, pg_dsn, pg_table) == [D(1)]


def test_savepoints_and_a_failed_write(db, new_session, pg_dsn, pg_table):
    db.execute(f"CREATE TABLE {pg_table} (id int PRIMARY KEY)", [])
    db.execute("BEGIN", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)])
    db.execute("SAVEPOINT s", [])
    assert isinstance(db.try_execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)]), Err)
    db.execute("ROLLBACK TO SAVEPOINT s", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(2)])
    db.execute("COMMIT", [])
    assert rows_seen_by_another_connection(new_session, pg_dsn, pg_table) == [D(1), D(2)]


def test_a_lease_released_mid_transaction_is_rolled_back(direct_db, new_session, pg_dsn, pg_table, pool):
    db = direct_db
    db.execute(f"CREATE TABLE {pg_table} (id int)", [])
    backend = one(db, "SELECT pg_backend_pid() AS p")["p"]
    db.execute("BEGIN", [])
    db.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)])
    db.release_all()
    again = new_session()
    again.connect("PostgreSQL", pg_dsn)
    # the same connection (LIFO), which would see its own uncommitted row
    assert one(again, "SELECT pg_backend_pid() AS p")["p"] == backend
    assert again.query(f"SELECT id FROM {pg_table}", []) == []
    assert one(again, "SELECT txid_current_if_assigned() IS NULL AS outside") == {"outside": True}
