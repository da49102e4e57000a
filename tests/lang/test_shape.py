"""lang/shape.py: the connection texts of a program's PostgreSQL connects, known without running it
(the server's cluster-wide timer leadership reaches the program's database with them)."""

from __future__ import annotations

import pytest

from etamil_server.lang.loader import load_text
from etamil_server.lang.shape import program_shape


def recipes(source: str):
    return [recipe for _line, _column, recipe, _top in program_shape(load_text(source)).postgres]


def texts(source: str, environ: dict[str, str]):
    return [recipe.text(environ) if recipe is not None else None for recipe in recipes(source)]


def test_literal_text():
    assert texts('தளம்_இணை போச்குரசீகுல், "host=db dbname=ledger";', {}) == ["host=db dbname=ledger"]


@pytest.mark.parametrize("spelling", ["சூழல்", "cUzal", "_env"])
def test_environment_with_a_fallback(spelling):
    source = f'தளம்_இணை போச்குரசீகுல், {spelling}("LEDGER_PG", "host=fallback");'
    assert texts(source, {}) == ["host=fallback"]
    assert texts(source, {"LEDGER_PG": "host=set"}) == ["host=set"]
    assert texts(source, {"LEDGER_PG": ""}) == [""]  # set but empty: the builtin gives ""


def test_concatenation_and_a_constant_and_nested_fallbacks():
    source = """
    முகவரி = "host=" & சூழல்("DB_HOST", சூழல்("OTHER_HOST", "localhost")) & " dbname=ledger";
    தளம்_இணை போச்குரசீகுல், முகவரி;
    """
    assert texts(source, {}) == ["host=localhost dbname=ledger"]
    assert texts(source, {"OTHER_HOST": "b"}) == ["host=b dbname=ledger"]
    assert texts(source, {"DB_HOST": "a", "OTHER_HOST": "b"}) == ["host=a dbname=ledger"]


def test_connects_inside_branches_and_routes_count_and_other_databases_do_not():
    source = """
    (சூழல்("LEDGER_PG", "") != "") எனில் {
        தளம்_இணை போச்குரசீகுல், சூழல்("LEDGER_PG", "");
    } இன்றேல் {
        தளம்_இணை சீகுலைட், "ledger.db";
    }
    வழி பெறு, "/" { தளம்_இணை PostgreSQL, "host=route"; பதில் 200, "ok"; }
    """
    assert texts(source, {"LEDGER_PG": "host=x"}) == ["host=x", "host=route"]


def test_connects_at_the_top_of_the_prelude_come_first():
    source = """
    வழி பெறு, "/" { தளம்_இணை PostgreSQL, "host=route"; பதில் 200, "ok"; }
    தளம்_இணை போச்குரசீகுல், "host=prelude";
    """
    entries = program_shape(load_text(source)).postgres
    assert [(recipe.text({}), top) for _line, _column, recipe, top in entries] == [
        ("host=prelude", True), ("host=route", False),
    ]


@pytest.mark.parametrize(
    "source",
    [
        'x = "host=a"; x = "host=b"; தளம்_இணை போச்குரசீகுல், x;',  # assigned twice
        'செயல் f() { திரும்பு "host=a"; } தளம்_இணை போச்குரசீகுல், f();',  # a user function
        'ஒவ்வொரு x இல் ["host=a"] { தளம்_இணை போச்குரசீகுல், x; }',  # a loop variable
        'செயல் சூழல்(a, b) { திரும்பு "host=mine"; } தளம்_இணை போச்குரசீகுல், சூழல்("A", "host=a");',  # shadowed
        'தளம்_இணை போச்குரசீகுல், சூழல்("A" & "B", "host=a");',  # the name is not literal
        'தளம்_இணை போச்குரசீகுல், "host=" & 5;',  # a number: rendering is the runtime's business
    ],
)
def test_texts_that_depend_on_the_run_are_not_guessed(source):
    assert texts(source, {}) == [None]


def test_no_postgres_no_recipes():
    assert recipes('தளம்_இணை சீகுலைட், ":memory:";') == []
