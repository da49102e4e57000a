"""The handler-error line: the reference's prefix first, then fields a log parser can take apart."""

from __future__ import annotations

import json
import re

from etamil_server.web.logs import handler_error_line

# what a log parser would use: the fields are a bracketed group at the very end of the line
LINE = re.compile(r'^❌ Handler execution error: (?P<message>.*) \[(?P<fields>(?:\w+="(?:[^"\\]|\\.)*" ?)+)\]$', re.S)
FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*")')


def parse(line: str) -> tuple[str, dict[str, str]]:
    match = LINE.match(line)
    assert match, line
    return match.group("message"), {name: json.loads(value) for name, value in FIELD.findall(match.group("fields"))}


def test_without_context_it_is_the_reference_line():
    assert handler_error_line("boom  (boom)") == "❌ Handler execution error: boom  (boom)"


def test_the_route_and_the_request_id_follow_the_message():
    message = "அறிவிக்கப்படாத மாறி 'x'  (undefined variable 'x')"
    line = handler_error_line(message, route="GET /orders/:id", request_id="3f9a-1")
    assert line.startswith("❌ Handler execution error: " + message + " [")
    assert parse(line) == (message, {"route": "GET /orders/:id", "request_id": "3f9a-1"})


def test_the_file_and_line_of_the_error_come_before_the_request_id():
    message = "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"
    line = handler_error_line(message, route="GET /", request_id="r-1", file="shop.qmz", line=12)
    assert line.endswith('[route="GET /" file="shop.qmz" line="12" request_id="r-1"]')
    assert parse(line) == (message, {"route": "GET /", "file": "shop.qmz", "line": "12", "request_id": "r-1"})


def test_a_message_with_brackets_quotes_and_newlines_still_parses():
    message = 'bad [value] "q" = x\nsecond line ]'
    line = handler_error_line(message, route='POST /a"b', request_id="r-2")
    assert parse(line) == (message, {"route": 'POST /a"b', "request_id": "r-2"})
