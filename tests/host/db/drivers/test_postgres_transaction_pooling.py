"""PostgreSQL behind PgBouncer in transaction pooling mode (``ETAMIL_DB_TRANSACTION_POOLING``).

The whole of test_postgres.py already runs through the pooler (its ``db`` fixture); these tests
pin what only this mode promises: nothing is left in the shared server session, values are quoted
by psycopg2 (never spliced), and the pooler may hand every statement to another server session.
The private PgBouncer has ONE server connection, shared by every client."""

from decimal import Decimal

import psycopg2
import pytest

from etamil_server.base import numbers

D = Decimal

NASTY_TEXTS = [
    "it's",
    "'; DROP TABLE x; --",
    "back\\slash\\' and \\\\",
    "$1 and $2 and %s and %(x)s and %%",
    "$$ dollar $$ $tag$ quoted $tag$",
    "/* not a comment */ -- nor this",
    "நன்றி",
    "line\nbreak\r\n\ttab",
]


@pytest.fixture
def pooled(new_session, make_pool, pgbouncer):
    """A session through PgBouncer with the transaction pooling setting on."""
    session = new_session(make_pool(transaction_pooling=True))
    session.connect("PostgreSQL", pgbouncer.dsn)
    return session


def statements_in_the_server_session(pgbouncer) -> list[str]:
    """The prepared statements of the pooler's only server session, seen by another client."""
    connection = psycopg2.connect(pgbouncer.dsn)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'etamil%'")
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_nothing_is_left_in_the_server_session(pooled, pgbouncer):
    for value in (D(1), D("2.5"), "3"):
        assert pooled.query("SELECT $1::numeric AS v, $2::text AS t", [value, "x"]) == [
            {"v": numbers.parse_text(str(value)), "t": "x"}
        ]
    assert statements_in_the_server_session(pgbouncer) == []


def test_the_session_check_can_fail(new_session, make_pool, pgbouncer):
    # without the setting the driver prepares statements in the server session: the check above
    # sees them (so its empty answer means something)
    session = new_session(make_pool(transaction_pooling=False))
    session.connect("PostgreSQL", pgbouncer.dsn)
    session.query("SELECT $1::int AS v", [D(1)])
    left = statements_in_the_server_session(pgbouncer)
    assert left, "a prepared statement should have stayed in the server session"
    session.execute("DEALLOCATE ALL", [])  # leave the shared server session clean


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_values_are_quoted_by_the_driver_never_spliced(pooled, pg_table, text):
    pooled.execute(f"CREATE TABLE {pg_table} (id int, note text)", [])
    pooled.execute(f"INSERT INTO {pg_table} VALUES ($1, $2)", [D(1), text])
    assert pooled.query(f"SELECT note FROM {pg_table} WHERE note = $1", [text]) == [{"note": text}]
    assert pooled.query("SELECT $1 AS same, length($1) AS n", [text]) == [{"same": text, "n": D(len(text))}]


def test_parameters_out_of_order_and_repeated(pooled):
    row = pooled.query("SELECT $2::int - $1::int AS d, $1::text || $1::text AS twice", [D(1), D(10)])
    assert row == [{"d": D(9), "twice": "11"}]


def test_placeholders_inside_strings_comments_and_identifiers_are_not_parameters(pooled):
    sql = 'SELECT \'$1\' AS s, $$ $1 $$ AS q, $1::int AS "a$1" /* $2 */ -- $3\n'
    assert pooled.query(sql, [D(7)]) == [{"s": "$1", "q": " $1 ", "a$1": D(7)}]


def test_each_value_gets_the_inferred_type(pooled, pg_table):
    # the cast keeps the server's inference: smallint's lowest value, subscripts, LIMIT
    assert pooled.query("SELECT $1::int2 AS v", [D(-32768)]) == [{"v": D(-32768)}]
    assert pooled.query("SELECT (ARRAY[10, 20, 30])[$1] AS v", [D(2)]) == [{"v": D(20)}]
    assert pooled.query("SELECT g FROM generate_series(1, 9) g LIMIT $1", ["2"]) == [{"g": D(1)}, {"g": D(2)}]
    pooled.execute(f"CREATE TABLE {pg_table} (amount numeric(12, 2), flag bool, n int8)", [])
    pooled.execute(f"INSERT INTO {pg_table} VALUES ($1, $2, $3)", ["1250.50", D(1), "+9"])
    assert pooled.query(f"SELECT amount, flag, n FROM {pg_table}", []) == [
        {"amount": D("1250.50"), "flag": True, "n": D(9)}
    ]


def test_a_failing_statement_leaves_no_transaction_open(pooled, pgbouncer):
    first = pooled.try_query("SELECT $1::int FROM no_such_table_here", [D(1)])
    assert first.value.startswith("தரவுத்தளப் பிழை  (database error): ")
    # the one server connection is free again: another client gets it at once
    other = psycopg2.connect(pgbouncer.dsn, connect_timeout=5)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        other.rollback()
    finally:
        other.close()
    assert pooled.query("SELECT $1::int AS v", [D(2)]) == [{"v": D(2)}]


def test_transactions_keep_one_server_session(pooled, new_session, make_pool, pgbouncer, pg_table):
    pooled.execute(f"CREATE TABLE {pg_table} (id int PRIMARY KEY)", [])
    pooled.execute("BEGIN", [])
    pooled.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(1)])
    backend = pooled.query("SELECT pg_backend_pid() AS p", [])[0]["p"]
    pooled.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(2)])
    assert pooled.query("SELECT pg_backend_pid() AS p", [])[0]["p"] == backend
    pooled.execute("COMMIT", [])
    # two clients interleaving statements through the one server connection
    other = new_session(make_pool(transaction_pooling=True))
    other.connect("PostgreSQL", pgbouncer.dsn)
    for number in range(3, 9):
        session = pooled if number % 2 else other
        session.execute(f"INSERT INTO {pg_table} VALUES ($1)", [D(number)])
    assert pooled.query(f"SELECT count(*) AS n, sum(id) AS s FROM {pg_table}", []) == [{"n": D(8), "s": D(36)}]
