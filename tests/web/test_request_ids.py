"""Request ids: a client's X-Request-Id is kept only when it is short and of safe characters."""

from __future__ import annotations

import pytest

from etamil_server.web.request_ids import MAX_LENGTH, RequestIds, acceptable


@pytest.mark.parametrize("value", ["abc", "a.b_c:d-e", "0" * MAX_LENGTH, "F00D-42", "req:2026.11.27"])
def test_safe_ids_are_kept(value):
    assert acceptable(value)
    assert RequestIds("p").for_request([("Host", "x"), ("X-Request-Id", value)]) == value


@pytest.mark.parametrize(
    "value",
    ["", "has space", 'quote"', "new\r\nline", "கமலா", "a/b", "semi;colon", "0" * (MAX_LENGTH + 1), "a=b"],
)
def test_unsafe_ids_are_replaced_by_a_generated_one(value):
    assert not acceptable(value)
    assert RequestIds("p").for_request([("x-request-id", value)]) == "p-1"


def test_the_header_name_is_matched_in_any_case_and_the_last_one_counts():
    ids = RequestIds("p")
    assert ids.for_request([("X-REQUEST-ID", "first"), ("x-Request-Id", "second")]) == "second"
    assert ids.for_request([("X-Request-Id", "  padded\t")]) == "padded"


def test_generated_ids_are_unique_and_differ_between_processes():
    one, two = RequestIds(), RequestIds()
    assert one.prefix != two.prefix  # a random prefix per process (per worker, after the fork)
    made = {one.for_request([]) for _ in range(1000)} | {two.new() for _ in range(1000)}
    assert len(made) == 2000
    assert all(acceptable(value) for value in made)
