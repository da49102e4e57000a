"""Observability of the real server (``gunicorn -c conf/etamil.py``): /metrics summed over two
workers and parsed with prometheus_client's own parser, series that stay bounded whatever the
paths, request ids in responses, access lines and handler-error lines, and what systemd hears."""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import socket
import time

import pytest
from e2e_helpers import WAIT, FakeNotifySocket, children, get, read_response

PROGRAM = """
வழி பெறு, "/" { பதில் 200, "hi"; }
வழி பெறு, "/users/:id" { பதில் 200, "user " & param_id; }
வழி பதி, "/orders" { பதில் 201, request_body; }
வழி பெறு, "/error" { x = இல்லாத_மாறி; }
"""

# the server's own series, whose counts depend on the test's own polling
OWN_ROUTES = ("/health", "/metrics")


def scrape(port: int) -> dict:
    # imported here, not at collection: prometheus_client picks its storage when first imported,
    # and in-process tests of the metrics (tests/web) need it to find the directory they set
    from prometheus_client.parser import text_string_to_metric_families

    status, _, body, _ = get(port, "/metrics")
    assert status == "HTTP/1.1 200 OK"
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def values(families: dict, family: str, sample: str | None = None) -> dict[tuple, float]:
    found = families.get(family)
    if found is None:
        return {}
    wanted = sample or family
    return {tuple(sorted(s.labels.items())): s.value for s in found.samples if s.name == wanted}


def request_counts(families: dict) -> dict[tuple[str, str, str], float]:
    counted = {}
    for labels, value in values(families, "etamil_http_requests", "etamil_http_requests_total").items():
        found = dict(labels)
        if found["route"] not in OWN_ROUTES:
            counted[(found["route"], found["method"], found["code"])] = value
    return counted


def scrape_until(port: int, done, seconds: float = WAIT) -> dict:
    """Scrape until ``done(families)`` (each worker moves its counts to the shared files in its
    once-a-second sweep); the last scrape either way."""
    deadline = time.monotonic() + seconds
    while True:
        families = scrape(port)
        if done(families) or time.monotonic() > deadline:
            return families
        time.sleep(0.2)


class Client:
    """One keep-alive connection that remembers the request ids it was answered with."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.buffer = bytearray()

    def send(self, method: str, target: str, body: bytes = b"", extra: str = ""):
        head = f"{method} {target} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        self.sock.sendall(head.encode() + body)
        return read_response(self.sock, self.buffer, head_only=method == "HEAD")

    def close(self):
        self.sock.close()


def prefix(request_id: str) -> str:
    return request_id.rsplit("-", 1)[0]


def clients_on_both_workers(port: int) -> list[Client]:
    """Connections until both workers have answered one (the generated ids' prefix is per
    worker); every connection is kept and used."""
    clients: list[Client] = []
    seen = set()
    while len(seen) < 2:
        assert len(clients) < 64, "every connection went to one worker"
        client = Client(port)
        _, headers, _, _ = client.send("GET", "/")
        seen.add(prefix(headers["x-request-id"]))
        clients.append(client)
    return clients


# ------------------------------------------------------------------------------ /metrics


def test_metrics_count_every_request_two_workers_answered(gunicorn):
    server = gunicorn(PROGRAM, processes=2, env={"ETAMIL_METRICS": "on"}).wait_ready()
    expected: collections.Counter = collections.Counter()
    clients = clients_on_both_workers(server.port)
    expected[("/", "GET", "200")] += len(clients)
    traffic = [
        ("GET", "/", b"", ("/", "GET", "200")),
        ("HEAD", "/", b"", ("/", "HEAD", "200")),
        ("GET", "/users/7", b"", ("/users/:id", "GET", "200")),
        ("GET", "/users/%E0%AE%95", b"", ("/users/:id", "GET", "200")),
        ("POST", "/orders", b'{"n": 1}', ("/orders", "POST", "201")),
        ("GET", "/error", b"", ("/error", "GET", "500")),
        ("GET", "/no/such/path", b"", ("unmatched", "GET", "404")),
        ("DELETE", "/", b"", ("method_not_allowed", "DELETE", "405")),
        ("FROB", "/", b"", ("method_not_allowed", "other", "405")),
        ("OPTIONS", "/users/1", b"", ("preflight", "OPTIONS", "204")),
    ]
    for round_number in range(5):
        for index, client in enumerate(clients):
            for method, target, body, key in traffic[(round_number + index) % 3 :]:
                client.send(method, target, body)
                expected[key] += 1
    for client in clients:
        client.close()
    # refused by the protocol before any route: a target over the limit
    status, headers, _, _ = get(server.port, "/" + "x" * 9000)
    assert status.startswith("HTTP/1.1 414") and headers["x-request-id"]
    expected[("refused", "other", "414")] += 1

    families = scrape_until(server.port, lambda found: request_counts(found) == dict(expected))
    assert request_counts(families) == dict(expected)

    # the latency histogram: one observation per answered request of each route (refusals have
    # no latency), cumulative buckets ending at the count
    name = "etamil_http_request_duration_seconds"
    counts = {dict(labels)["route"]: value for labels, value in values(families, name, name + "_count").items()}
    per_route: collections.Counter = collections.Counter()
    for (route, _, _), count in expected.items():
        if route != "refused":
            per_route[route] += count
    assert {route: counts[route] for route in per_route} == dict(per_route)
    buckets = collections.defaultdict(list)
    for labels, value in values(families, name, name + "_bucket").items():
        found = dict(labels)
        buckets[found["route"]].append((float(found["le"]), value))
    for route, count in per_route.items():
        ordered = [value for _, value in sorted(buckets[route])]
        assert ordered == sorted(ordered) and ordered[-1] == count

    assert values(families, "etamil_workers")[(("state", "serving"),)] == 2.0
    assert values(families, "etamil_workers")[(("state", "draining"),)] == 0.0
    assert values(families, "etamil_vm_pool_size")[()] > 0
    assert values(families, "etamil_executor_threads")[()] > 0
    assert values(families, "etamil_worker_restarts", "etamil_worker_restarts_total") == {(): 0.0}

    # a worker killed: the master replaces it and counts a restart; what the dead worker had
    # counted stays counted, its gauges leave the sum
    victim = server.booted_workers()[0]
    os.kill(victim, signal.SIGKILL)
    server.wait_for_workers(2, exclude={victim})
    families = scrape_until(
        server.port,
        lambda found: values(found, "etamil_worker_restarts", "etamil_worker_restarts_total") == {(): 1.0}
        and values(found, "etamil_workers").get((("state", "serving"),)) == 2.0,
    )
    assert values(families, "etamil_worker_restarts", "etamil_worker_restarts_total") == {(): 1.0}
    assert values(families, "etamil_workers")[(("state", "serving"),)] == 2.0
    assert request_counts(families) == dict(expected)


def test_a_thousand_distinct_paths_add_no_series(gunicorn):
    server = gunicorn(PROGRAM, processes=2, env={"ETAMIL_METRICS": "on"}).wait_ready()

    def send(first: int, count: int) -> None:
        client = Client(server.port)
        try:
            for n in range(first, first + count):
                client.send("GET", f"/users/{n}", extra=f"X-Request-Id: id-{n}\r\n")
                client.send("GET", f"/nowhere/{n}?q={n}")
                client.send(f"M{n}", "/")  # a method word never seen before
        finally:
            client.close()

    def total(found: dict) -> float:
        return sum(request_counts(found).values())

    def series(found: dict) -> set[tuple]:
        """Every sample's name and labels (the server's own /health and /metrics aside: they
        appear as the test polls)."""
        return {
            (sample.name, tuple(sorted(sample.labels.items())))
            for family in found.values()
            for sample in family.samples
            if sample.labels.get("route") not in OWN_ROUTES
        }

    send(0, 10)
    before = scrape_until(server.port, lambda found: total(found) == 30)
    series_before = series(before)
    send(10, 1000)
    after = scrape_until(server.port, lambda found: total(found) == 3030)
    assert request_counts(after) == {
        ("/users/:id", "GET", "200"): 1010,
        ("unmatched", "GET", "404"): 1010,
        ("method_not_allowed", "other", "405"): 1010,
    }
    assert series(after) == series_before  # the same label sets, whatever the paths and methods
    assert len(series_before) < 100


# ------------------------------------------------------------------------------ request ids

TEXT_LINE = re.compile(
    r'^(?P<remote>\S+) - - \[[^\]]+\] "(?P<method>\S+) (?P<target>(?:[^"\\]|\\x[0-9a-f]{2})*) HTTP/[\d.]+" '
    r"(?P<status>\d{3}) (?P<bytes>\d+) (?P<seconds>\d+\.\d{6}) (?P<request_id>\S+)$"
)
ERROR_LINE = re.compile(
    r'❌ Handler execution error: (?P<message>.*) \[route="(?P<route>[^"]*)"(?: \w+="[^"]*")* request_id="(?P<id>[^"]*)"\]$'
)


def parse_access(text: str, fmt: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line]
    if fmt == "json":
        return [json.loads(line) for line in lines]
    parsed = []
    for line in lines:
        match = TEXT_LINE.match(line)
        assert match, line
        parsed.append({**match.groupdict(), "status": int(match.group("status"))})
    return parsed


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_request_ids_reach_the_response_the_access_line_and_the_error_line(gunicorn, tmp_path, fmt):
    log = tmp_path / "access.log"
    server = gunicorn(PROGRAM, processes=1, env={"ETAMIL_ACCESS_LOG": str(log), "ETAMIL_LOG_FORMAT": fmt})
    server.wait_ready()
    client = Client(server.port)
    answered = []
    try:
        for method, target, extra in [
            ("GET", "/users/1", "X-Request-Id: client.id:42\r\n"),  # kept
            ("GET", "/users/2", "X-Request-Id: not safe!\r\n"),  # replaced
            ("GET", "/users/3", "X-Request-Id: " + "a" * 200 + "\r\n"),  # too long: replaced
            ("GET", "/error", "X-Request-Id: failing-1\r\n"),
            ("GET", "/error", ""),
            ("GET", "/missing", ""),
        ]:
            status, headers, _, _ = client.send(method, target, extra=extra)
            answered.append((target, int(status.split()[1]), headers["x-request-id"]))
    finally:
        client.close()
    ids = [request_id for _, _, request_id in answered]
    assert ids[0] == "client.id:42" and ids[3] == "failing-1"
    assert ids[1] != "not safe!" and len(ids[2]) < 128
    assert len(set(ids)) == len(ids)
    assert len({prefix(request_id) for request_id in ids[1:3] + ids[4:]}) == 1  # one worker made them

    def logged() -> list[dict]:
        return parse_access(log.read_text(encoding="utf-8"), fmt) if log.exists() else []

    deadline = time.monotonic() + WAIT
    while len([r for r in logged() if r["target"] != "/health"]) < len(answered) and time.monotonic() < deadline:
        time.sleep(0.1)  # the access log is written by the sweep, about once a second
    records = [record for record in logged() if record["target"] != "/health"]
    assert [(r["target"], r["status"], r["request_id"]) for r in records] == answered

    deadline = time.monotonic() + WAIT
    while server.stderr.count("Handler execution error") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    errors = [ERROR_LINE.search(line) for line in server.err_lines if "Handler execution error" in line]
    assert [(match.group("route"), match.group("id")) for match in errors] == [
        ("GET /error", "failing-1"),
        ("GET /error", ids[4]),
    ]
    assert "(undefined variable 'இல்லாத_மாறி')" in errors[0].group("message")


def test_a_handler_s_own_request_id_header_is_not_doubled(gunicorn):
    source = 'வழி பெறு, "/" { பதில் 200, "x", {"X-Request-Id": "mine"}; }\n'
    server = gunicorn(source, processes=1).wait_ready()
    _, headers, _, raw = get(server.port, "/", "X-Request-Id: theirs\r\n")
    assert headers["x-request-id"] == "mine"
    assert raw.lower().count(b"x-request-id") == 1


# ------------------------------------------------------------------------------ systemd


def test_systemd_hears_ready_reloading_and_stopping(gunicorn, tmp_path):
    notify = FakeNotifySocket(tmp_path)
    try:
        server = gunicorn(PROGRAM, processes=2, env={"NOTIFY_SOCKET": notify.path})
        assert notify.wait_for_count(1) == ["READY"]
        assert get(server.port, "/")[0] == "HTTP/1.1 200 OK"  # ready means answering
        first = set(server.wait_ready().workers())
        assert all("Gunicorn arbiter booted" not in fields.get("STATUS", "") for fields in notify.messages)

        server.signal(signal.SIGHUP)
        assert notify.wait_for_count(3) == ["READY", "RELOADING", "READY"]
        assert "MONOTONIC_USEC" in notify.messages[1]
        # READY after the reload came from a worker of the new generation: one that was not there
        assert set(children(server.process.pid)) - first

        server.signal(signal.SIGTERM)
        assert server.wait() == 0
        assert notify.wait_for_count(4) == ["READY", "RELOADING", "READY", "STOPPING"]
    finally:
        notify.close()


def test_no_ready_while_the_workers_cannot_serve(gunicorn, tmp_path):
    notify = FakeNotifySocket(tmp_path)
    try:
        # every worker fails as it builds its server (the access log cannot be opened): gunicorn
        # itself would have said READY=1 as soon as it listened
        env = {"NOTIFY_SOCKET": notify.path, "ETAMIL_ACCESS_LOG": str(tmp_path / "missing" / "access.log")}
        server = gunicorn(PROGRAM, processes=1, env=env)
        deadline = time.monotonic() + WAIT
        while server.stderr.count("Booting worker") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.stderr.count("Booting worker") >= 3, server.stderr
        assert notify.states() == []
        server.signal(signal.SIGTERM)
        server.wait()
        assert notify.wait_for_count(1) == ["STOPPING"]
    finally:
        notify.close()
