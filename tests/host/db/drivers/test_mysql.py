"""MySQL / MariaDB (HOST.md §5.3-§5.6, §5.8): every row of the §5.5 and §5.6 tables, on a real server."""

from decimal import Decimal

import pytest

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError
from etamil_server.host.db.drivers.mysql import parse_url
from etamil_server.runtime.values import Err, Ok

D = Decimal
DB_ERROR = "தரவுத்தளப் பிழை  (database error): "


def message_of(call, *args) -> str:
    with pytest.raises(EtamilError) as raised:
        call(*args)
    return raised.value.message


@pytest.fixture
def db(new_session, mysql_url):
    session = new_session()
    session.connect("MySQL", mysql_url)
    return session


def one(session, sql, params=()):
    rows = session.query(sql, list(params))
    assert len(rows) == 1
    return rows[0]


# ------------------------------------------------------------------------------ §5.3 connecting


@pytest.mark.parametrize(
    "url, lib",
    [("postgres://root@127.0.0.1/test", "the URL scheme must be mysql, not 'postgres'"),
     ("host=127.0.0.1 user=root", "the URL scheme must be mysql, not ''"),
     ("mysql://root@127.0.0.1:notaport/test", None),
     ("mysql://root@127.0.0.1/test?flavour=strawberry", "unknown URL parameter 'flavour'")],
)
def test_bad_urls(new_session, url, lib):
    message = message_of(new_session().connect, "MySQL", url)
    assert message.startswith(f"மைசீகுல் முகவரி செல்லாதது  (not a valid MySQL URL '{url}'): ")
    if lib:
        assert message.endswith(lib)


def test_bad_url_messages_mask_the_password(new_session):
    message = message_of(new_session().connect, "MySQL", "mysqlx://root:topsecret@127.0.0.1/test")
    assert "topsecret" not in message and "mysqlx://root:****@127.0.0.1/test" in message


def test_cannot_connect(new_session):
    message = message_of(new_session().connect, "MySQL", "mysql://root@127.0.0.1:1/test")
    assert message.startswith("மைசீகுல் இணைக்க முடியவில்லை  (cannot connect to MySQL): ")
    assert "127.0.0.1" in message


def test_percent_encoded_user_and_database(new_session, mysql_url):
    params = parse_url(mysql_url)

    def encoded(text: str) -> str:
        return "".join(f"%{byte:02X}" for byte in text.encode())

    password = f":{encoded(params['password'])}" if params["password"] else ""
    url = f"mysql://{encoded(params['user'])}{password}@{params['host']}:{params['port']}/{encoded(params['database'])}"
    session = new_session()
    session.connect("MySQL", url)
    assert one(session, "SELECT DATABASE() AS d") == {"d": params["database"]}


# ------------------------------------------------------------------------------ §5.5 values in


def test_numbers_bind_as_their_decimal_text(db, mysql_table):
    assert one(db, "SELECT ? AS v", [D("12.50")]) == {"v": "12.5"}  # a string: the server coerces
    db.execute(f"CREATE TABLE {mysql_table} (d DECIMAL(30,2), i INT, f DOUBLE)", [])
    db.execute(f"INSERT INTO {mysql_table} VALUES (?, ?, ?)", [D("12.5"), D(7), D("0.25")])
    assert one(db, f"SELECT d, i, f FROM {mysql_table}") == {"d": D("12.50"), "i": D(7), "f": D("0.25")}


def test_text_booleans_nil(db):
    row = one(db, "SELECT ? AS t, ? AS yes, ? AS no, ? AS n", ["it's \\ \"here\" ?", True, False, None])
    assert row == {"t": "it's \\ \"here\" ?", "yes": D(1), "no": D(0), "n": None}


def test_tamil_text(db):
    assert one(db, "SELECT ? AS t", ["வணக்கம்"]) == {"t": "வணக்கம்"}


@pytest.mark.parametrize("value, kind", [([D(1)], "an array"), ({"a": D(1)}, "a record"), (Err("x"), "a result")])
def test_compound_values_are_refused(db, value, kind):
    assert message_of(db.query, "SELECT ? AS v", [value]) == (
        f"இதை ஒரு அளவுருவாக பிணைக்க முடியாது  (cannot bind {kind} as a query parameter)"
    )


def test_placeholders_only_in_code(db):
    row = one(db, "SELECT '?' AS q, ? AS p, `x?` AS i FROM (SELECT 1 AS `x?`) AS s /* ? */", ["v"])
    assert row == {"q": "?", "p": "v", "i": D(1)}


def test_parameter_count_mismatch(db):
    assert message_of(db.query, "SELECT ? AS a", []) == f"{DB_ERROR}Statement takes 1 parameters but 0 was supplied"
    assert message_of(db.execute, "SELECT 1", [D(1)]).startswith(DB_ERROR)


# ------------------------------------------------------------------------------ §5.6 values out


def test_null_integers_decimal(db):
    row = one(db, "SELECT NULL AS n, 42 AS i, 18446744073709551615 AS u, CAST(12.50 AS DECIMAL(10,2)) AS d, "
                  "CAST(-7 AS SIGNED) AS s")
    assert row == {"n": None, "i": D(42), "u": D(2**64 - 1), "d": D("12.50"), "s": D(-7)}
    assert numbers.display_scaled(row["d"]) == "12.50"


def test_floats(db, mysql_table):
    assert one(db, "SELECT CAST(0.1 AS DOUBLE) + CAST(0.2 AS DOUBLE) AS f, 1e300 AS big") == {
        "f": D("0.30000000000000004"), "big": None,
    }
    db.execute(f"CREATE TABLE {mysql_table} (f FLOAT)", [])
    db.execute(f"INSERT INTO {mysql_table} VALUES (?)", [D("1.5")])
    assert one(db, f"SELECT f FROM {mysql_table}") == {"f": D("1.5")}


def test_tinyint_booleans_are_numbers(db, mysql_table):
    db.execute(f"CREATE TABLE {mysql_table} (b BOOLEAN)", [])
    db.execute(f"INSERT INTO {mysql_table} VALUES (?)", [True])
    assert one(db, f"SELECT b, TRUE AS t FROM {mysql_table}") == {"b": D(1), "t": D(1)}


def test_text_stays_text(db, mysql_table):
    db.execute(f"CREATE TABLE {mysql_table} (v VARCHAR(10), c CHAR(4), t TEXT)", [])
    db.execute(f"INSERT INTO {mysql_table} VALUES (?, ?, ?)", ["007", "ab", "1e3"])
    assert one(db, f"SELECT v, c, t FROM {mysql_table}") == {"v": "007", "c": "ab", "t": "1e3"}


def test_binary_becomes_text_with_replacement(db):
    assert one(db, "SELECT X'E0AEAE' AS ok, X'FF41' AS bad, CAST('x' AS BINARY) AS b") == {
        "ok": "ம", "bad": "\ufffdA", "b": "x",
    }


def test_dates_and_times(db, mysql_table):
    db.execute(f"CREATE TABLE {mysql_table} (d DATE, dt DATETIME(3), ts TIMESTAMP NULL, t TIME(2))", [])
    db.execute(f"INSERT INTO {mysql_table} VALUES (?, ?, ?, ?)",
               ["2024-01-31", "2024-01-31 13:45:07.250", "2024-02-01 00:00:00", "-50:01:02.5"])
    db.execute(f"INSERT INTO {mysql_table} VALUES (?, ?, NULL, ?)", ["2024-03-01", "2024-03-01 00:00:00", "7:08:09"])
    rows = db.query(f"SELECT d, dt, ts, t FROM {mysql_table} ORDER BY d", [])
    assert rows == [
        {"d": "2024-01-31", "dt": "2024-01-31T13:45:07", "ts": "2024-02-01", "t": "-50:01:02"},
        {"d": "2024-03-01", "dt": "2024-03-01", "ts": None, "t": "07:08:09"},
    ]


def test_time_folds_days_into_hours(db):
    assert one(db, "SELECT CAST('2 03:04:05' AS TIME) AS t") == {"t": "51:04:05"}


def test_exact_decimals_round_trip(db, mysql_table):
    db.execute(f"CREATE TABLE {mysql_table} (id INT, amount DECIMAL(30,2))", [])
    total = numbers.add(D("0.1"), D("0.2"))
    db.execute(f"INSERT INTO {mysql_table} VALUES (1, ?), (2, ?)", [total, D("99999999999999999999.99")])
    rows = db.query(f"SELECT amount FROM {mysql_table} ORDER BY id", [])
    assert rows == [{"amount": D("0.3")}, {"amount": D("99999999999999999999.99")}]
    assert one(db, f"SELECT COUNT(*) AS n FROM {mysql_table} WHERE amount = ?", [D("0.3")]) == {"n": D(1)}


# ------------------------------------------------------------------------------ §5.4 statements


def test_row_counts_and_errors(db, mysql_table):
    db.execute(f"CREATE TABLE {mysql_table} (id INT PRIMARY KEY)", [])
    inserted = db.try_execute(f"INSERT INTO {mysql_table} VALUES (?), (?), (?)", [D(1), D(2), D(3)])
    assert isinstance(inserted, Ok) and inserted.value == D(3)
    duplicate = db.try_execute(f"INSERT INTO {mysql_table} VALUES (?)", [D(1)])
    assert isinstance(duplicate, Err) and duplicate.value.startswith(f"{DB_ERROR}ERROR 1062: Duplicate entry")
    assert db.query(f"DELETE FROM {mysql_table} WHERE id = ?", [D(1)]) == []
    assert message_of(db.query, "SELECT * FROM etamil_no_such_table", []).startswith(DB_ERROR)


def test_one_statement_at_a_time(db):
    assert message_of(db.execute, "SELECT 1; SELECT 2", []).startswith(DB_ERROR)


# ------------------------------------------------------------------------------ §5.8 transactions


def ids_seen_by_another_connection(new_session, mysql_url, table) -> list:
    other = new_session()
    other.connect("MySQL", another_key(mysql_url))  # another key: its own connection
    rows = other.query(f"SELECT id FROM {table} ORDER BY id", [])
    other.release_all()
    return [row["id"] for row in rows]


@pytest.fixture
def accounts(db, mysql_table):
    db.execute(f"CREATE TABLE {mysql_table} (id INT PRIMARY KEY) ENGINE=InnoDB", [])
    return mysql_table


def test_begin_commit_rollback(db, new_session, mysql_url, accounts):
    db.execute("BEGIN", [])
    db.execute(f"INSERT INTO {accounts} VALUES (?)", [D(1)])
    assert ids_seen_by_another_connection(new_session, mysql_url, accounts) == []
    db.execute("COMMIT", [])
    db.execute("START TRANSACTION", [])
    db.execute(f"INSERT INTO {accounts} VALUES (?)", [D(2)])
    db.execute("ROLLBACK", [])
    assert ids_seen_by_another_connection(new_session, mysql_url, accounts) == [D(1)]


def test_a_lease_released_mid_transaction_is_rolled_back(db, new_session, mysql_url, accounts):
    connection_id = one(db, "SELECT CONNECTION_ID() AS c")["c"]
    db.execute("BEGIN", [])
    db.execute(f"INSERT INTO {accounts} VALUES (?)", [D(1)])
    db.release_all()
    again = new_session()
    again.connect("MySQL", mysql_url)
    assert one(again, "SELECT CONNECTION_ID() AS c")["c"] == connection_id  # LIFO: the same one
    assert again.query(f"SELECT id FROM {accounts}", []) == []
    assert ids_seen_by_another_connection(new_session, mysql_url, accounts) == []


def another_key(url: str) -> str:
    """The same MySQL server under another connection text: a separate pool key."""
    return url + ("&" if "?" in url else "?") + "socket="
