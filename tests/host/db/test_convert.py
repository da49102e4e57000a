"""Conversions every driver shares (HOST.md §5.5, §5.6)."""

from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host.db.convert import check_params, number_from_float, number_from_int
from etamil_server.runtime.values import Err, Ok, display


@pytest.mark.parametrize(
    "value, shown",
    [
        (12.0, "12"),
        (0.1, "0.1"),
        (0.30000000000000004, "0.30000000000000004"),
        (-2.5, "-2.5"),
        (1e16, "10000000000000000"),
        (1.5e-10, "0.00000000015"),
        (-0.0, "0"),
        (7.9e28, "79000000000000000000000000000"),
    ],
)
def test_floats_become_their_shortest_text(value, shown):
    assert display(number_from_float(value)) == shown


def test_more_than_28_places_are_rounded():
    assert number_from_float(1e-30) == 0
    assert number_from_float(1.25e-28) == Decimal("0.0000000000000000000000000001")


@pytest.mark.parametrize("value", [1e30, 1e300, float("inf"), float("-inf"), float("nan")])
def test_floats_too_large_are_nil(value):
    assert number_from_float(value) is None


def test_integers():
    assert number_from_int(2**63 - 1) == Decimal(2**63 - 1)
    assert number_from_int(2**96) is None


@pytest.mark.parametrize(
    "params, kind",
    [(Decimal(1), "a number"), ("x", "a string"), (True, "a boolean"), ({}, "a record"),
     (Ok(1), "a result"), (Err("e"), "a result"), (None, "nil")],
)
def test_parameters_must_be_an_array(params, kind):
    with pytest.raises(EtamilError) as raised:
        check_params(params)
    assert raised.value.message == (
        f"அளவுருக்கள் ஒரு அணியாக இருக்க வேண்டும்  (query parameters must be an array, got {kind})"
    )
