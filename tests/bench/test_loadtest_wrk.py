"""The wrk run's script and the reading of its result line."""

from __future__ import annotations

import json

import pytest

from bench.loadtest_wrk import (
    RESULT_MARK,
    Request,
    WrkError,
    lua_script,
    lua_string,
    parse_result,
    threads_for,
    unanswered_reads,
)


def result_line(**overrides) -> str:
    data = {"requests": 1000, "duration_us": 2_000_000, "bytes": 123456, "connect": 0, "read": 0, "write": 0,
            "status": 0, "timeout": 0, "p50_us": 1200, "p95_us": 3400, "p99_us": 9100, "max_us": 15000,
            "mean_us": 1500.5}
    data.update(overrides)
    return RESULT_MARK + json.dumps(data)


def test_lua_string_escapes_quotes_backslashes_and_newlines():
    assert lua_string('{"a": "b\\c"}\n') == '"{\\"a\\": \\"b\\\\c\\"}\\n"'


def test_the_script_sets_method_body_and_content_type_and_reports_in_done():
    script = lua_script(Request("POST", "/x", '{"amount": "1"}', "application/json"))
    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = "{\\"amount\\": \\"1\\"}"' in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script
    assert "done = function(summary, latency, requests)" in script
    assert RESULT_MARK in script and "latency:percentile(p)" in script and "q(95)" in script


def test_a_get_script_has_no_body():
    script = lua_script(Request("GET", "/"))
    assert "wrk.body" not in script and "Content-Type" not in script


def test_parse_result_reads_every_figure_in_milliseconds():
    output = "Running 2s test @ http://127.0.0.1:1/\n" + result_line(timeout=3, status=2) + "\n"
    result = parse_result(output, connections=10, threads=2)
    assert result.requests == 1000 and result.seconds == 2.0 and result.rps == 500.0
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms) == (1.2, 3.4, 9.1, 15.0)
    assert result.errors == {"status": 2, "connect": 0, "read": 0, "write": 0, "timeout": 3}
    assert result.error_total == 5
    assert result.to_json()["error_total"] == 5


def test_no_answered_request_gives_no_latencies():
    result = parse_result(result_line(requests=0, p50_us=-1, p95_us=-1, p99_us=-1, max_us=-1, mean_us=-1,
                                      connect=10), 10, 2)
    assert result.p50_ms is None and result.p99_ms is None and result.rps == 0.0
    assert result.errors["connect"] == 10


def test_a_server_that_closes_after_each_answer_has_its_closes_taken_off_the_read_errors():
    result = parse_result(result_line(read=1003), 10, 2, closes_after_response=True)
    assert result.errors["read"] == 3
    assert result.wrk_read_raw == 1003
    # a keep-alive server's read errors are all real
    assert parse_result(result_line(read=7), 10, 2).errors["read"] == 7


def test_unanswered_reads_never_goes_below_zero():
    assert unanswered_reads(5, 10, True) == 0
    assert unanswered_reads(15, 10, True) == 5
    assert unanswered_reads(15, 10, False) == 15


def test_missing_result_line_is_an_error_that_shows_what_wrk_said():
    with pytest.raises(WrkError, match="unable to connect"):
        parse_result("unable to connect to 127.0.0.1:1 Connection refused\n", 1, 1)


@pytest.mark.parametrize(("connections", "threads"), [(1, 1), (2, 2), (1000, 2)])
def test_threads_never_outnumber_connections(connections, threads):
    assert threads_for(connections) == threads
