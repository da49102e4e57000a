"""The README's hello world, taken out of README.md and served, so that the README cannot go stale:
the programs (Tamil script and romanized) print, answer a route and query the database, in ten
lines each, and the answer is the one the README shows."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from etamil_server.families import load_families
from etamil_server.lang.loader import load_path
from etamil_server.lang.strict import strict_findings

REPO = Path(__file__).resolve().parents[2]
WAIT = 30  # generous limits for a slow machine, never asserted as timings


def hello_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Hello, world\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", section, re.M | re.S)


PROGRAMS = code_blocks(hello_section(), "qmz")


def readme_commands() -> tuple[str, str, str]:
    """(the serve command, the curl target path, the answer the README shows for it)."""
    (commands,) = code_blocks(hello_section(), "sh")
    serve = next(line for line in commands.splitlines() if line.startswith("etamil serve "))
    curl = next(line for line in commands.splitlines() if line.startswith("curl "))
    url, _, comment = curl[len("curl ") :].partition("#")
    answer = re.split(r"\s{2,}", comment.strip())[0]
    path = "/" + url.strip().split("://", 1)[1].split("/", 1)[1]
    return serve.split("#")[0].strip(), path, answer


def get(port: int, target: str) -> tuple[str, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body.decode("utf-8")


def serve(directory: Path, command: str) -> tuple[subprocess.Popen, int]:
    """The README's ``etamil serve FILE`` in ``directory``, on a free port (``--port 0``)."""
    words = command.split()
    assert words[:2] == ["etamil", "serve"] and len(words) == 3, command
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", ETAMIL_STATE_DIR=str(directory))
    process = subprocess.Popen(
        [sys.executable, "-m", "etamil_server", "serve", words[2], "--port", "0"],
        cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, encoding="utf-8",
    )
    for line in process.stdout:
        match = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return process, int(match.group(1))
    process.wait(timeout=WAIT)
    raise AssertionError(f"the server did not start: {process.stderr.read()}")


def test_two_programs_of_at_most_ten_lines_the_same_as_examples() -> None:
    assert len(PROGRAMS) == 2
    tamil, romanized = PROGRAMS
    for program in PROGRAMS:
        assert len(program.splitlines()) <= 10
    assert tamil == (REPO / "examples" / "hello.qmz").read_text(encoding="utf-8")
    assert romanized == (REPO / "examples" / "hello_roman.qmz").read_text(encoding="utf-8")
    # printing, a route and a database query, in each spelling
    for keyword in ("அச்சு", "வழி", "தளம்_வினா"):
        assert keyword in tamil
    for keyword in ("accu", "vazhi", "qaLam_viZA"):
        assert keyword in romanized
    assert romanized.isascii()


@pytest.mark.parametrize(("index", "greeting"), [(0, "வணக்கம்"), (1, "vaNakkam")], ids=["tamil", "romanized"])
def test_the_readme_hello_world_serves_what_the_readme_says(tmp_path: Path, index: int, greeting: str) -> None:
    command, target, answer = readme_commands()
    (tmp_path / "hello.qmz").write_text(PROGRAMS[index], encoding="utf-8")
    assert strict_findings(load_path(str(tmp_path / "hello.qmz")), load_families()) == []
    process, port = serve(tmp_path, command)
    try:
        first = get(port, target)
        second = get(port, target)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=WAIT)
    name = target.rsplit("/", 1)[1]
    assert first == ("HTTP/1.1 200 OK", f"{greeting}, {name}! visit 1\n")
    assert second == ("HTTP/1.1 200 OK", f"{greeting}, {name}! visit 2\n")  # the row was stored
    if index == 0:
        assert first[1] == answer + "\n"  # what the README's curl line shows
    assert out.count(f"{greeting}, {name}\n") == 2  # the print, once per request
    assert (tmp_path / "hello.db").exists()
    assert "Traceback" not in err
