"""Access lines in both formats, parsed back field by field (whatever the target holds)."""

from __future__ import annotations

import json
import logging
import re

import pytest

from etamil_server.web import logs
from etamil_server.web.accesslog import AccessLog
from etamil_server.web.request import Request
from etamil_server.web.response import Response

# the common log format with the duration and the request id appended
TEXT_LINE = re.compile(
    r'^(?P<remote>\S+) - - \[(?P<time>\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] '
    r'"(?P<method>\S+) (?P<target>(?:[^"\\]|\\x[0-9a-f]{2})*) HTTP/(?P<version>[\d.]+)" '
    r"(?P<status>\d{3}) (?P<bytes>\d+) (?P<seconds>\d+\.\d{6}) (?P<request_id>\S+)$"
)


def unescape(text: str) -> str:
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[str] = []

    def emit(self, record):
        self.records.extend(record.getMessage().split("\n"))


@pytest.fixture
def written():
    handler = Lines()
    logs._replace_handlers(logs.ACCESS_LOG, [handler])
    logs.ACCESS_LOG.setLevel(logging.INFO)
    logs.ACCESS_LOG.propagate = False
    yield handler.records
    logs._replace_handlers(logs.ACCESS_LOG, [])


def request(target: str, method: str = "GET", request_id: str = "abc-1") -> Request:
    made = Request.from_target(method, target, [("Host", "x")])
    made.request_id = request_id
    return made


TARGETS = ["/orders/7?q=1", '/q?name="x"', "/back\\slash", "/tab\there", "/கமலா"]


def test_text_lines_parse_back(written):
    log = AccessLog("text")
    for index, target in enumerate(TARGETS):
        log(request(target, request_id=f"id-{index}"), Response(200, [], b"ok"), 131, "10.0.0.1", 0.000412)
    log(request("/x", method="FROB", request_id=""), Response(405, [], b""), 10, None, 1.5)
    log.flush()
    assert len(written) == len(TARGETS) + 1
    for index, (line, target) in enumerate(zip(written, TARGETS, strict=False)):
        match = TEXT_LINE.match(line)
        assert match, line
        assert unescape(match.group("target")) == target
        assert (match.group("remote"), match.group("method"), match.group("version")) == ("10.0.0.1", "GET", "1.1")
        assert (match.group("status"), match.group("bytes"), match.group("seconds")) == ("200", "131", "0.000412")
        assert match.group("request_id") == f"id-{index}"
    last = TEXT_LINE.match(written[-1])
    assert (last.group("remote"), last.group("method"), last.group("status"), last.group("request_id")) == (
        "-", "FROB", "405", "-"
    )


def test_json_lines_parse_back(written):
    log = AccessLog("json")
    for index, target in enumerate(TARGETS):
        log(request(target, request_id=f"id-{index}"), Response(201, [], b""), 99, "127.0.0.1", 0.25)
    log.flush()
    records = [json.loads(line) for line in written]
    assert [record["target"] for record in records] == TARGETS
    assert [record["request_id"] for record in records] == [f"id-{i}" for i in range(len(TARGETS))]
    first = records[0]
    assert (first["method"], first["status"], first["bytes"], first["seconds"], first["remote"]) == (
        "GET", 201, 99, 0.25, "127.0.0.1"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])


def test_nothing_is_written_until_the_flush(written):
    log = AccessLog("text")
    log(request("/"), Response(200, [], b""), 1, None, 0.0)
    assert written == []
    log.close()
    assert len(written) == 1
