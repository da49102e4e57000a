"""Statement ends (PostgreSQL) and placeholders (MySQL) are found only in code."""

import pytest

from etamil_server.host.db.sqltext import mysql_split_placeholders, pg_is_single_statement


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "SELECT 1;",
        "SELECT 1;  \n",
        "SELECT 1;;",
        "SELECT 1; -- done",
        "SELECT 1; /* a /* nested */ comment */",
        "SELECT ';' AS semi",
        "SELECT 'it''s; fine'",
        "SELECT E'\\'; still a string'",
        'SELECT 1 AS "a;b"',
        "SELECT $$ ; $$",
        "SELECT $tag$ ; $other$ ; $tag$;",
        "SELECT $1; ",
        "SELECT 1 -- ; not code\n",
    ],
)
def test_single_statements(sql):
    assert pg_is_single_statement(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; SELECT 2",
        "SELECT ';'; DROP TABLE x",
        "INSERT INTO t VALUES (1);\nDELETE FROM t",
        "SELECT 1 -- c\n; SELECT 2",
        "SELECT 1; 'x'",
        "SELECT a$b$ ; SELECT 2",  # '$' inside an identifier is not a dollar quote
    ],
)
def test_several_statements(sql):
    assert not pg_is_single_statement(sql)


def test_mysql_placeholders_only_in_code():
    sql = "SELECT ?, '?', \"?\", `?`, ? # ?\n -- ?\n /* ? */ ?--?"
    assert mysql_split_placeholders(sql) == (
        "SELECT ",
        ", '?', \"?\", `?`, ",
        " # ?\n -- ?\n /* ? */ ",
        "--",  # no blank after '--': not a comment in MySQL
        "",
    )


def test_mysql_backslash_escapes_depend_on_the_server_mode():
    sql = "SELECT 'a\\', ?"  # with backslash escapes the string runs on past the ?
    assert len(mysql_split_placeholders(sql, True)) == 1
    assert len(mysql_split_placeholders(sql, False)) == 2


def test_mysql_no_placeholder():
    assert mysql_split_placeholders("SELECT 1") == ("SELECT 1",)
