"""The location line after ``✗ Runtime error: …`` (issue 7 §3)."""

from __future__ import annotations

from etamil_server.base.errors import Location, call_chain, location_text


def test_the_location_line_is_bilingual_with_the_file_position_and_calls():
    line = location_text(Location(12, 5, "/abs/ledger.qmz", ["pay", "fee"]), "ledger.qmz")
    assert line == (
        "  இடம்: ledger.qmz, வரி 12, நெடுவரிசை 5, அழைப்புகள்: pay → fee  "
        "(at ledger.qmz, line 12, column 5, calls: pay → fee)"
    )


def test_without_a_file_or_calls_those_parts_are_left_out():
    assert location_text(Location(3, 1, None, []), None) == "  இடம்: வரி 3, நெடுவரிசை 1  (at line 3, column 1)"


def test_a_run_of_one_function_is_counted():
    assert call_chain(["main", "walk", "walk", "walk", "leaf"]) == "main → walk ×3 → leaf"


def test_a_long_chain_keeps_its_two_ends():
    calls = [f"f{n}" for n in range(20)]
    assert call_chain(calls) == "f0 → f1 → f2 → f3 → … → f16 → f17 → f18 → f19"
    assert call_chain(["a", "b"] * 2) == "a → b → a → b"  # short enough: whole
