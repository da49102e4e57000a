"""Date builtins (LANGUAGE.md §16.4): dates are ``YYYY-MM-DD`` strings, proleptic Gregorian.

Dates are converted to and from a day count with Howard Hinnant's ``days_from_civil`` /
``civil_from_days`` algorithms rather than ``datetime``: they have no 1..9999 year limit (year 0
and years past 9999 are valid) and they give the reference's quirk for free — a day 1..31 is
accepted in any month and rolls over into the next (``2024-02-30`` is ``2024-03-01``).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any

from ...base import numbers
from ...base.errors import EtamilError
from .. import values
from . import builtin

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_UNIX_EPOCH_DAY = 719468  # days from 0000-03-01 to 1970-01-01
_DAYS_PER_ERA = 146097  # 400 Gregorian years

#: One part of a date: ASCII digits with an optional plus (a minus would be a separator).
_PART = re.compile(r"\+?[0-9]+")

DAYS_ERROR = "நாட்கள் ஒரு முழு எண்ணாக இருக்க வேண்டும்  (days must be a whole number)"
CLOCK_ERROR = "கடிகாரம் படிக்க முடியவில்லை  (cannot read the clock)"


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01; ``day`` may run past the end of ``month``."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * _DAYS_PER_ERA + day_of_era - _UNIX_EPOCH_DAY


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01."""
    days += _UNIX_EPOCH_DAY
    era = days // _DAYS_PER_ERA
    day_of_era = days - era * _DAYS_PER_ERA
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153  # 0 = March
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def format_date(days: int) -> str:
    """Year padded to at least 4 digits (sign included, as Rust's ``{:04}``), month and day to 2."""
    year, month, day = civil_from_days(days)
    return f"{year:04d}-{month:02d}-{day:02d}"


def _integer(part: str) -> int | None:
    if not _PART.fullmatch(part):
        return None
    digits = part.lstrip("+").lstrip("0") or "0"
    if len(digits) > 19:  # beyond any 64-bit integer; also keeps int() away from huge texts
        return None
    return int(digits)


def read_date(value: Any) -> int:
    """The day count of a date argument, or the not-a-date error quoting the untrimmed text."""
    text = values.display(value)
    parts = text.strip(values.WHITE_SPACE).split("-")
    if len(parts) == 3:
        year, month, day = (_integer(part) for part in parts)
        if year is not None and year <= _I64_MAX and month in range(1, 13) and day in range(1, 32):
            return days_from_civil(year, month, day)
    raise EtamilError(f"'{text}' ஒரு நாள் அல்ல  ('{text}' is not a date; expected YYYY-MM-DD)")


@builtin("நாள்_வேறுபாடு", "nAL_vERupAtu", "_daysBetween", returns="number")
def days_between(start: Any, end: Any) -> Decimal:
    """Days from ``start`` to ``end``: negative when ``end`` is earlier."""
    first = read_date(start)
    return values.number(read_date(end) - first)


@builtin("நாள்_கூட்டு", "nAL_kUttu", "_addDays", returns="string")
def add_days(date: Any, days: Any) -> str:
    """The date ``days`` (truncated toward zero) after ``date``; negative goes back."""
    start = read_date(date)
    offset = numbers.truncate_to_int(values.to_number(days))
    if not _I64_MIN <= offset <= _I64_MAX:
        raise EtamilError(DAYS_ERROR)
    return format_date(start + offset)


@builtin("இன்று", "iZRu", "_today", returns="string")
def today() -> str:
    """Today's date in UTC, from the system clock."""
    try:
        seconds = time.time()
    except (OSError, OverflowError, ValueError) as error:
        raise EtamilError(CLOCK_ERROR) from error
    return format_date(int(seconds // 86400))
