"""col.qmz natively (LANGUAGE.md §17.1): letters are grapheme clusters, and the loops the
definitions leave to a deadline still end at the deadline."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from etamil_server.config import LimitSettings
from etamil_server.runtime import limits
from etamil_server.runtime.native import col

DEADLINE = ("error", "DeadlineExceeded", "நிரல் நேர வரம்பைத் தாண்டியது  (the program ran past its deadline)")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("வணக்கம்", D(1), D(3)), "ணக்கம்"[:4]),
        (("a\r\nb", D(1), D(1)), "\r\n"),
        (("abc", D(1), D("1.5")), "bc"),
        (("abc", D(-1), D(0)), ""),
        ((["x", D(1), [D(2)]], D(0), D(3)), "x1[2]"),
    ],
)
def test_piece_counts_letters(arguments, expected):
    assert col.piece(*arguments) == expected


def test_search_compares_letter_by_letter():
    assert col.search("கைகை", "க") == D(-1)  # க is only part of the letter கை
    assert col.search("abcab", "ca") == D(2)
    assert col.search("வணக்கம்", "க்") == D(2)
    assert col.search("x", "") == D(0)
    assert col.starts_with("கா", "க") is False and col.starts_with("கா", "கா") is True
    assert col.trim(" \u0301 a  ") == " \u0301 a"  # a space carrying a mark is not a space


@pytest.mark.parametrize("pad", ["", "\u0301", "\u200d", "\u0600", "ᄀ"])
def test_a_pad_that_never_lengthens_the_text_runs_until_the_deadline(twin, pad):
    # §17.1: "Never terminates if pad is "" and the text is shorter than width" (quirk); a pad
    # that joins the letter after it never lengthens the text either
    text = "ᄀ" if pad == "ᄀ" else "7"
    for outcome in twin.both("இடமிருந்து_நிரப்பு", text, D(3), pad, deadline=0.3):
        assert outcome == DEADLINE


def test_a_huge_repeat_stops_at_the_deadline_or_the_text_limit(twin):
    # the definition adds a copy at a time and meets the deadline long before the text limit;
    # the native knows the size first and refuses at once (runtime/limits.py)
    natively, as_written = twin.both("திரும்பச்செய்", "abc", D(10) ** 15, deadline=0.3)
    assert as_written == DEADLINE
    assert natively[:2] == ("error", "LimitExceeded") and "(text too large: " in natively[2]
    limits.apply(LimitSettings(max_text_bytes=0))  # no limit: the native runs to the deadline too
    try:
        natively, _ = twin.both("திரும்பச்செய்", "abc", D(10) ** 15, deadline=0.3)
    finally:
        limits.from_environment()
    assert natively == DEADLINE
