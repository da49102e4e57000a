from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etamil_server.base.errors import EtamilError
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.builtins.results import (
    err,
    is_err,
    is_ok,
    ok,
    type_of,
    unwrap,
    unwrap_err,
    unwrap_or,
)
from etamil_server.runtime.values import Err, Ok, equal


@pytest.mark.parametrize(
    ("spellings", "function", "arity", "returns"),
    [
        (("சரி", "cari", "_ok"), ok, 1, "result"),
        (("தவறு", "qavaRu", "_err"), err, 1, "result"),
        (("சரியா", "cariyA", "_isOk"), is_ok, 1, "boolean"),
        (("தவறா", "qavaRA", "_isErr"), is_err, 1, "boolean"),
        (("மதிப்பு", "maqippu", "_unwrap"), unwrap, 1, None),
        (("தவறு_மதிப்பு", "qavaRu_maqippu", "_unwrapErr"), unwrap_err, 1, None),
        (("இயல்பு", "iyalpu", "_unwrapOr"), unwrap_or, 2, None),
        (("வகை", "vakY", "_typeof"), type_of, 1, "string"),
    ],
)
def test_registered_under_three_spellings(spellings, function, arity, returns):
    for spelling in spellings:
        entry = BUILTINS[spelling]
        assert entry.function is function
        assert (entry.name, entry.arity, entry.returns) == (spellings[0], arity, returns)


def test_ok_and_err_wrap_any_value():
    assert type(ok(D(5))) is Ok and ok(D(5)).value == D(5)
    assert type(err("e")) is Err and err("e").value == "e"
    assert ok(None).value is None
    assert type(ok(err("x")).value) is Err


def test_is_ok_and_is_err():
    assert is_ok(Ok(False)) is True
    assert is_ok(Err(D(1))) is False
    assert is_err(Err(None)) is True
    assert is_err(Ok(None)) is False


@pytest.mark.parametrize("value", [D(1), "x", True, None, [], {}])
def test_is_ok_and_is_err_are_false_for_non_results(value):
    assert is_ok(value) is False
    assert is_err(value) is False


def test_unwrap():
    assert unwrap(Ok([D(1)])) == [D(1)]
    with pytest.raises(EtamilError) as caught:
        unwrap(Err([D("1.50"), "x"]))
    assert caught.value.message == "தவறான முடிவை விரித்தது: [1.5, x]  (unwrap on an error: [1.5, x])"


@pytest.mark.parametrize(("value", "kind"), [(D(5), "a number"), ("x", "a string"), (None, "nil"), ([], "an array")])
def test_unwrap_of_a_non_result(value, kind):
    with pytest.raises(EtamilError) as caught:
        unwrap(value)
    assert caught.value.message == f"மதிப்பு க்கு ஒரு முடிவு தேவை  (unwrap needs a result, got {kind})"


def test_unwrap_err():
    assert unwrap_err(Err("bad")) == "bad"
    with pytest.raises(EtamilError) as caught:
        unwrap_err(Ok(True))
    assert caught.value.message == (
        "வெற்றியான முடிவில் பிழை இல்லை: true  (there is no error in a successful result: true)"
    )


@pytest.mark.parametrize(("value", "kind"), [(True, "a boolean"), ({}, "a record"), (None, "nil")])
def test_unwrap_err_of_a_non_result(value, kind):
    with pytest.raises(EtamilError) as caught:
        unwrap_err(value)
    assert caught.value.message == f"தவறு_மதிப்பு க்கு ஒரு முடிவு தேவை  (it needs a result, got {kind})"


def test_unwrap_or():
    assert unwrap_or(Ok(D(1)), D(2)) == D(1)
    assert unwrap_or(Err("x"), D(2)) == D(2)
    assert unwrap_or(Err("x"), None) is None


@pytest.mark.parametrize(("value", "kind"), [(D(0), "a number"), ("", "a string"), ([D(1)], "an array")])
def test_unwrap_or_of_a_non_result(value, kind):
    with pytest.raises(EtamilError) as caught:
        unwrap_or(value, D(1))
    assert caught.value.message == f"இயல்பு க்கு ஒரு முடிவு தேவை  (unwrapOr needs a result, got {kind})"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (D("1.5"), "a number"),
        ("", "a string"),
        (False, "a boolean"),
        (None, "nil"),
        ([], "an array"),
        ({"a": D(1)}, "a record"),
        (Ok(D(1)), "a result"),
        (Err("e"), "a result"),
    ],
)
def test_type_of(value, name):
    assert type_of(value) == name


leaves = st.one_of(st.none(), st.booleans(), st.text(), st.integers().map(D))
eTamil_values = st.recursive(
    leaves, lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)), max_leaves=10
)


@given(eTamil_values, eTamil_values)
def test_wrapping_then_unwrapping_gives_the_value_back(value, fallback):
    assert equal(unwrap(ok(value)), value)
    assert equal(unwrap_err(err(value)), value)
    assert equal(unwrap_or(ok(value), fallback), value)
    assert equal(unwrap_or(err(value), fallback), fallback)
