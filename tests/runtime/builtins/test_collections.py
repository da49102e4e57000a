from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etamil_server.base.errors import EtamilError
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.builtins.collections import append, join, length
from etamil_server.runtime.values import Err, Ok


@pytest.mark.parametrize(
    ("spellings", "function", "arity", "returns"),
    [
        (("நீளம்", "nILam", "_length"), length, 1, "number"),
        (("இணை", "iNY", "_append"), append, 2, "array"),
        (("ஒன்றிணை", "oZRiNY", "_join"), join, 2, "string"),
    ],
)
def test_registered_under_three_spellings(spellings, function, arity, returns):
    for spelling in spellings:
        entry = BUILTINS[spelling]
        assert entry.function is function
        assert entry.name == spellings[0]
        assert (entry.arity, entry.returns, entry.context, entry.blocking) == (arity, returns, False, False)


def test_length_of_array_and_record():
    assert length([D(1), "a", None]) == 3
    assert length([]) == 0
    assert length({"a": D(1), "b": D(2)}) == 2
    assert length({}) == 0


def test_length_counts_letters_not_code_points():
    assert length("வணக்கம்") == 5
    assert length("a\r\nb") == 3
    assert length("abc") == 3
    assert length("") == 0
    assert length("க்ஷ") == 2


def test_length_is_a_whole_number_of_scale_zero():
    result = length("ab")
    assert type(result) is D
    assert result.as_tuple().exponent == 0


@pytest.mark.parametrize(
    ("value", "kind"),
    [(D(5), "a number"), (True, "a boolean"), (None, "nil"), (Ok(D(1)), "a result"), (Err("e"), "a result")],
)
def test_length_of_other_kinds_is_an_error(value, kind):
    with pytest.raises(EtamilError) as caught:
        length(value)
    assert caught.value.message == (
        f"நீளம் ஒரு அணி/பொருள்/சொல் தேவை  (length needs an array, record or string, got {kind})"
    )


def test_append_returns_a_new_array_and_leaves_the_argument():
    original = [D(1), D(2)]
    result = append(original, "x")
    assert result == [D(1), D(2), "x"]
    assert original == [D(1), D(2)]
    assert result is not original


def test_append_any_value_even_an_array():
    assert append([], [D(1)]) == [[D(1)]]


@pytest.mark.parametrize(
    ("value", "kind"), [("abc", "a string"), ({}, "a record"), (None, "nil"), (D(0), "a number")]
)
def test_append_to_a_non_array_says_ser(value, kind):
    with pytest.raises(EtamilError) as caught:
        append(value, D(1))
    assert caught.value.message == f"சேர் ஒரு அணி தேவை  (append needs an array, got {kind})"


def test_join_uses_display_forms():
    assert join([D(1), [D(2), D(3)], None], "-") == "1-[2, 3]-nil"
    assert join([D("1.50"), True, Ok("x"), {"b": D(2), "a": "y"}], ", ") == "1.5, true, சரி(x), {a: y, b: 2}"


def test_join_separator_is_taken_as_text():
    assert join(["a", "b"], D("0.50")) == "a0.5b"
    assert join(["a", "b"], None) == "anilb"
    assert join([], ",") == ""
    assert join(["only"], ",") == "only"


@pytest.mark.parametrize(("value", "kind"), [("a,b", "a string"), ({"a": D(1)}, "a record"), (True, "a boolean")])
def test_join_of_a_non_array_is_an_error(value, kind):
    with pytest.raises(EtamilError) as caught:
        join(value, ",")
    assert caught.value.message == f"ஒன்றிணை ஒரு அணி தேவை  (join needs an array, got {kind})"


@given(st.lists(st.text()), st.text())
def test_join_matches_python_join_for_strings(items, separator):
    assert join(items, separator) == separator.join(items)


@given(st.lists(st.integers(min_value=-5, max_value=5).map(D)), st.integers(min_value=-5, max_value=5).map(D))
def test_append_grows_length_by_one(items, value):
    assert length(append(items, value)) == length(items) + 1
