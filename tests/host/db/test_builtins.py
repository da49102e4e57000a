"""தளம்_செய்_முயற்சி / தளம்_வினா_முயற்சி (HOST.md §5.4): registered, and never stop a program."""

from decimal import Decimal

import pytest

import etamil_server.host.db.builtins  # noqa: F401 - registers the two builtins
from etamil_server.host.db.pool import set_pool
from etamil_server.host.services import HOST_SERVICES
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok


@pytest.fixture
def ctx(pool):
    previous = set_pool(pool)
    context = RunContext(services=HOST_SERVICES)
    yield context
    context.release()
    set_pool(previous)


@pytest.mark.parametrize(
    "spellings",
    [("தளம்_செய்_முயற்சி", "qaLam_cey_muyaRci", "_tryExecute"),
     ("தளம்_வினா_முயற்சி", "qaLam_viZA_muyaRci", "_tryQuery")],
)
def test_registered_under_three_spellings(spellings):
    entries = {id(BUILTINS[spelling]) for spelling in spellings}
    assert len(entries) == 1
    entry = BUILTINS[spellings[0]]
    assert (entry.name, entry.arity, entry.context, entry.blocking, entry.returns) == (
        spellings[0], 2, True, True, "result",
    )


def call(name, ctx, *args):
    return BUILTINS[name].function(ctx, *args)


def test_results_instead_of_errors(ctx):
    failure = call("_tryExecute", ctx, "SELECT 1", [])
    assert isinstance(failure, Err) and failure.value.startswith("தரவுத்தளம் இணைக்கப்படவில்லை")
    ctx.db_connect("SQLite", ":memory:")
    assert call("_tryExecute", ctx, "CREATE TABLE t (x)", []).value == Decimal(0)
    inserted = call("தளம்_செய்_முயற்சி", ctx, "INSERT INTO t VALUES (?), (?)", [Decimal(1), "இரண்டு"])
    assert isinstance(inserted, Ok) and inserted.value == Decimal(2)
    rows = call("qaLam_viZA_muyaRci", ctx, "SELECT x FROM t ORDER BY rowid", [])
    assert isinstance(rows, Ok) and rows.value == [{"x": Decimal(1)}, {"x": "இரண்டு"}]
    empty = call("_tryQuery", ctx, "SELECT x FROM t WHERE 0", [])
    assert isinstance(empty, Ok) and empty.value == []
    assert isinstance(call("_tryQuery", ctx, "SELECT * FROM nowhere", []), Err)
    assert call("_tryQuery", ctx, "SELECT 1", Decimal(5)).value.endswith("got a number)")


def test_the_sql_is_rendered(ctx):
    ctx.db_connect("SQLite", ":memory:")
    assert call("_tryQuery", ctx, Decimal("12.50"), []).value.startswith("வினா தயாரிக்க முடியவில்லை")
