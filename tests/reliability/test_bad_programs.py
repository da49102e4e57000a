"""Scenario 10: bad programs (issue 11).

The real server (``gunicorn -c conf/etamil.py``) handed a program it cannot serve must refuse to
start with the eTamil error (bilingual, with line and column) and gunicorn's boot-error status
(3), before any worker is forked: no restart loop. A program that starts but whose prelude fails
at run time answers every route 500 with the error, and nothing dies: the same workers keep
answering, request after request.
"""

from __future__ import annotations

import os
import time

import pytest
from e2e_helpers import WAIT, Gunicorn, exchange, get

BOOT_ERROR = 3  # gunicorn's Arbiter.WORKER_BOOT_ERROR


def finished_stderr(server: Gunicorn) -> str:
    """stderr once the pump has read all of it (the process has exited)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        text = server.stderr
        time.sleep(0.2)
        if server.stderr == text:
            return text
    return server.stderr


BROKEN = {
    "syntax error": (
        'வழி பெறு, "/" {\n    பதில் 200, ;\n}\n',
        "(line 2, column 16: ",
    ),
    "lexical error": (
        'x = 1 ¤ 2;\nவழி பெறு, "/" { பதில் 200, "a"; }\n',
        "(line 1, column 7: unrecognized input '¤')",
    ),
    "type error": (
        'எண் x = "text";\nவழி பெறு, "/" { பதில் 200, "a"; }\n',
        "(line 1, column ",
    ),
    "missing module": (
        'இறக்கு "no/such/module.qmz";\nவழி பெறு, "/" { பதில் 200, "a"; }\n',
        "(cannot open module 'no/such/module.qmz')",
    ),
    "too deeply nested": (
        'வழி பெறு, "/" {' + "(1) எனில் {" * 3000 + "x = 1;" + "}" * 3000 + "}\n",
        "too deeply",
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_program_that_cannot_be_served_refuses_the_start(gunicorn, kind):
    source, expected = BROKEN[kind]
    started = time.monotonic()
    server = gunicorn(source, processes=2)
    status = server.wait()
    elapsed = time.monotonic() - started
    stderr = finished_stderr(server)
    print(f"\n{kind}: exit {status} after {elapsed:.2f} s; stderr: {stderr.splitlines()[-1][:160]!r}")
    assert status == BOOT_ERROR
    lines = [line for line in stderr.splitlines() if line.startswith("✗ ")]
    assert lines, stderr
    assert any(expected in line for line in lines), stderr
    assert "Traceback" not in stderr
    assert "Booting worker" not in stderr  # refused in the master, before any fork: no loop


def test_a_type_error_message_is_the_spec_text(gunicorn):
    """The type error is reported as ``etamil check`` reports it (LANGUAGE.md §14.2)."""
    from etamil_server.lang.checker import check
    from etamil_server.lang.loader import load_text

    source, _ = BROKEN["type error"]
    expected = check(load_text(source))
    assert expected
    server = gunicorn(source)
    assert server.wait() == BOOT_ERROR
    assert f"✗ {expected[0]}" in finished_stderr(server).splitlines()


PRELUDE_FAILS = """
total = 0;
x = இல்லாத_மாறி;
வழி பெறு, "/" { பதில் 200, "never", {"Content-Type": "text/plain"}; }
வழி பெறு, "/items/:id" { பதில் 200, param_id, {"Content-Type": "text/plain"}; }
வழி பதி, "/items" { பதில் 201, request_body, {"Content-Type": "text/plain"}; }
"""

UNDEFINED = "அறிவிக்கப்படாத மாறி 'இல்லாத_மாறி'  (undefined variable 'இல்லாத_மாறி')"


def test_a_runtime_error_in_the_prelude_answers_500_everywhere_and_kills_nothing(gunicorn):
    server = gunicorn(PRELUDE_FAILS, processes=2).wait_ready()
    workers = server.wait_for_workers(2)
    rounds = int(os.environ.get("ETAMIL_BAD_PROGRAM_ROUNDS", "100"))
    statuses: dict[str, int] = {}
    for _ in range(rounds):
        for target in ("/", "/items/7"):
            status, _, body, _ = get(server.port, target)
            statuses[status] = statuses.get(status, 0) + 1
            assert status == "HTTP/1.1 500 Internal Server Error", (target, status, body)
            assert body.decode() == '{"error": "Handler error: ' + UNDEFINED + '"}'
        status, _, body, _ = post(server.port, "/items", b"{}")
        assert status == "HTTP/1.1 500 Internal Server Error", body
    # the server's own endpoints do not run the prelude: the process is alive and says so
    assert get(server.port, "/health")[0] == "HTTP/1.1 200 OK"
    # an unknown route is still the router's 404, not the prelude's 500
    assert get(server.port, "/no/such/route")[0] == "HTTP/1.1 404 Not Found"
    assert server.wait_for_workers(2) == workers  # the same processes: nothing died or restarted
    assert server.stderr.count("Booting worker") == 2
    assert "Traceback" not in server.stderr
    print(f"\nprelude error: {sum(statuses.values()) + rounds} requests, {statuses}, workers {workers} unchanged")


def post(port: int, target: str, body: bytes):
    head = f"POST {target} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    return exchange(port, head + body)
