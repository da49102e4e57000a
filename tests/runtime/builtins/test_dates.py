import datetime
import re
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etamil_server.base.errors import EtamilError
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.builtins.dates import (
    add_days,
    civil_from_days,
    days_between,
    days_from_civil,
    today,
)

DAYS_ERROR = "நாட்கள் ஒரு முழு எண்ணாக இருக்க வேண்டும்  (days must be a whole number)"


def not_a_date(text):
    return f"'{text}' ஒரு நாள் அல்ல  ('{text}' is not a date; expected YYYY-MM-DD)"


@pytest.mark.parametrize(
    ("spellings", "function", "arity", "returns"),
    [
        (("நாள்_வேறுபாடு", "nAL_vERupAtu", "_daysBetween"), days_between, 2, "number"),
        (("நாள்_கூட்டு", "nAL_kUttu", "_addDays"), add_days, 2, "string"),
        (("இன்று", "iZRu", "_today"), today, 0, "string"),
    ],
)
def test_registered_under_three_spellings(spellings, function, arity, returns):
    for spelling in spellings:
        entry = BUILTINS[spelling]
        assert entry.function is function
        assert (entry.name, entry.arity, entry.returns) == (spellings[0], arity, returns)


def test_days_between():
    assert days_between("2026-01-10", "2026-04-30") == D(110)
    assert days_between("2026-04-30", "2026-01-10") == D(-110)
    assert days_between("2024-01-01", "2025-01-01") == D(366)
    assert days_between("2023-01-01", "2024-01-01") == D(365)
    assert days_between("2024-05-05", "2024-05-05") == D(0)


def test_days_between_is_a_whole_number_of_scale_zero():
    result = days_between("2024-01-01", "2024-01-31")
    assert type(result) is D and result.as_tuple().exponent == 0


def test_add_days():
    assert add_days("2024-02-28", D(1)) == "2024-02-29"
    assert add_days("2023-02-28", D(1)) == "2023-03-01"
    assert add_days("2024-12-31", D(1)) == "2025-01-01"
    assert add_days("2024-03-01", D(-1)) == "2024-02-29"
    assert add_days("1900-02-28", D(1)) == "1900-03-01"  # 1900 is not a leap year
    assert add_days("2000-02-28", D(1)) == "2000-02-29"  # 2000 is


def test_add_days_truncates_toward_zero():
    assert add_days("2024-01-10", D("1.9")) == "2024-01-11"
    assert add_days("2024-01-10", D("-1.9")) == "2024-01-09"
    assert add_days("2024-01-10", "abc") == "2024-01-10"
    assert add_days("2024-01-10", " 3 ") == "2024-01-13"
    assert add_days("2024-01-10", True) == "2024-01-11"
    assert add_days("2024-01-10", None) == "2024-01-10"


def test_add_days_accepts_the_whole_signed_64_bit_range():
    add_days("2024-01-01", D(2**63 - 1))
    add_days("2024-01-01", D(-(2**63)))


@pytest.mark.parametrize("days", [D(2**63), D(-(2**63) - 1), D("79228162514264337593543950335")])
def test_add_days_outside_64_bits_is_an_error(days):
    with pytest.raises(EtamilError) as caught:
        add_days("2024-01-01", days)
    assert caught.value.message == DAYS_ERROR


def test_the_day_is_not_checked_against_the_month():
    assert add_days("2024-02-30", D(0)) == "2024-03-01"
    assert add_days("2023-02-31", D(0)) == "2023-03-03"
    assert add_days("2024-04-31", D(0)) == "2024-05-01"
    assert days_between("2024-02-29", "2024-02-31") == D(2)


def test_lenient_date_syntax():
    assert add_days("+2024-1-5", D(0)) == "2024-01-05"
    assert add_days("2024-+1-+5", D(0)) == "2024-01-05"
    assert add_days("  2024-01-05\n", D(0)) == "2024-01-05"
    assert add_days("24-1-5", D(0)) == "0024-01-05"
    assert add_days("002024-001-005", D(0)) == "2024-01-05"


def test_years_outside_datetime_range():
    assert add_days("0001-01-01", D(-1)) == "0000-12-31"
    assert add_days("0000-03-01", D(-1)) == "0000-02-29"  # year 0 is a leap year
    assert add_days("0000-01-01", D(-1)) == "-001-12-31"  # Rust's {:04} counts the sign
    assert add_days("9999-12-31", D(1)) == "10000-01-01"
    assert days_between("0000-01-01", "0001-01-01") == D(366)


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-01-32",
        "2024/01/05",
        "2024-01",
        "2024-01-05-01",
        "-2024-01-05",
        "2024- 1-05",
        "2024-01-5x",
        "2024-01-",
        "2024-+-05",
        "2024-1.0-05",
        "２０２４-01-05",
        "",
        "  2024-13-01 ",
        "99999999999999999999-01-01",
    ],
)
def test_bad_dates_report_the_untrimmed_text(text):
    with pytest.raises(EtamilError) as caught:
        add_days(text, D(1))
    assert caught.value.message == not_a_date(text)


def test_dates_are_read_from_the_text_of_any_value():
    with pytest.raises(EtamilError) as caught:
        days_between(D(2024), "2024-01-01")
    assert caught.value.message == not_a_date("2024")
    with pytest.raises(EtamilError) as caught:
        days_between("2024-01-01", None)
    assert caught.value.message == not_a_date("nil")


def test_the_first_bad_argument_is_reported():
    with pytest.raises(EtamilError) as caught:
        days_between("x", "y")
    assert caught.value.message == not_a_date("x")
    with pytest.raises(EtamilError) as caught:
        add_days("x", D(2**70))
    assert caught.value.message == not_a_date("x")


def test_today_is_todays_utc_date():
    before = datetime.datetime.now(datetime.UTC).date().isoformat()
    result = today()
    after = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", result)
    assert result in (before, after)


dates = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31))
EPOCH = datetime.date(1970, 1, 1)


@given(dates)
def test_day_count_agrees_with_python_dates(date):
    days = (date - EPOCH).days
    assert days_from_civil(date.year, date.month, date.day) == days
    assert civil_from_days(days) == (date.year, date.month, date.day)


# Bounded so that the result keeps a year >= 0: a negative year can be written but not read.
@given(
    st.dates(min_value=datetime.date(300, 1, 1), max_value=datetime.date(9999, 12, 31)),
    st.integers(min_value=-(10**5), max_value=10**7),
)
def test_add_days_then_days_between_round_trips(date, days):
    moved = add_days(date.isoformat(), D(days))
    assert days_between(date.isoformat(), moved) == D(days)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_civil_from_days_inverts_days_from_civil(days):
    assert days_from_civil(*civil_from_days(days)) == days
