"""eTamil programs using databases, end to end through the compiler and RunContext."""

import io

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host.db.pool import set_pool
from etamil_server.host.services import HOST_SERVICES
from etamil_server.lang.loader import load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext


@pytest.fixture
def run(pool):
    previous = set_pool(pool)

    def run_program(source: str) -> str:
        out = io.StringIO()
        ctx = RunContext(services=HOST_SERVICES, stdout=out)
        try:
            compile_program(load_text(source).statements).run(ctx)
        finally:
            ctx.release()
        return out.getvalue()

    yield run_program
    set_pool(previous)


def test_the_worked_example(run):
    output = run(
        'தளம்_இணை சீகுலைட், ":memory:";\n'
        'தளம்_செய் "CREATE TABLE pori (peyar TEXT, vilai NUMERIC)", [];\n'
        'தளம்_செய் "INSERT INTO pori VALUES (?, ?)", ["மை", 12.50];\n'
        'தளம்_வினா "SELECT peyar, vilai FROM pori WHERE vilai > ?", [10], varigal;\n'
        "அச்சு varigal;\n"
    )
    assert output == "[{peyar: மை, vilai: 12.5}]\n"


def test_try_builtins_and_a_rollback(run, tmp_path):
    path = tmp_path / "ledger.db"
    output = run(
        f'தளம்_இணை சீகுலைட், "{path}";\n'
        'தளம்_செய் "CREATE TABLE t (x UNIQUE)", [];\n'
        'தளம்_செய் "BEGIN", [];\n'
        'அச்சு தளம்_செய்_முயற்சி("INSERT INTO t VALUES (?)", [1]);\n'
        'அச்சு தளம்_செய்_முயற்சி("INSERT INTO t VALUES (?)", [1]);\n'
        'தளம்_செய் "ROLLBACK", [];\n'
        'அச்சு தளம்_வினா_முயற்சி("SELECT count(*) AS n FROM t", []);\n'
    )
    assert output == (
        "சரி(1)\n"
        "தவறு(தரவுத்தளப் பிழை  (database error): UNIQUE constraint failed: t.x)\n"
        "சரி([{n: 0}])\n"
    )


def test_runtime_errors_stop_the_program(run):
    with pytest.raises(EtamilError) as raised:
        run('தளம்_வினா "SELECT 1", [], x;\n')
    assert raised.value.message == (
        "தரவுத்தளம் இணைக்கப்படவில்லை  (not connected to a database): use தளம்_இணை first"
    )


def test_postgres_exact_money(run, pg_dsn, pg_table):
    output = run(
        f'தளம்_இணை போச்குரசீகுல், "{pg_dsn}";\n'
        f'தளம்_செய் "CREATE TABLE {pg_table} (amount numeric)", [];\n'
        f'தளம்_செய் "INSERT INTO {pg_table} VALUES ($1)", [0.1 + 0.2];\n'
        f'தளம்_வினா "SELECT amount, amount = 0.3 AS exact FROM {pg_table}", [], rows;\n'
        "அச்சு rows;\n"
    )
    assert output == "[{amount: 0.3, exact: true}]\n"


def test_mysql_identifier_type_name(run, mysql_url):
    # quirk: the plain identifier MySQL works as the database type
    output = run(f'தளம்_இணை MySQL, "{mysql_url}";\nதளம்_வினா "SELECT ? AS v", [1.50], r;\nஅச்சு r;\n')
    assert output == "[{v: 1.5}]\n"
