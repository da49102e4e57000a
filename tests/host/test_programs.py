"""Running other programs (HOST.md §7.5): the allow-list, arguments without a shell, the time limit
killing the program and its own children, the run's stop flag (the server's deadline), bounded
output."""

from __future__ import annotations

import os
import shutil
import threading
import time
from decimal import Decimal

import pytest

from etamil_server.base.errors import DeadlineExceeded
from etamil_server.host import builtins as host
from etamil_server.host import programs
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok

WAIT = 20  # seconds: generous limits for a slow machine, never asserted as timings


@pytest.fixture
def allow(monkeypatch):
    def set_list(*entries: str) -> None:
        monkeypatch.setenv(programs.ALLOW_VARIABLE, os.pathsep.join(entries))

    return set_list


def run(program: str, arguments: list, seconds=5, ctx: RunContext | None = None):
    return host.run_program(ctx or RunContext(), program, arguments, Decimal(seconds))


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for a parent that does not reap."""
    try:
        with open(f"/proc/{pid}/stat", encoding="latin-1") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until_dead(pid: int) -> bool:
    deadline = time.monotonic() + WAIT
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def read_pids(path) -> list[int]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text().split()
            if len(text) >= 2:
                return [int(pid) for pid in text]
        time.sleep(0.02)
    raise AssertionError("the program never wrote its pids")


# ------------------------------------------------------------------------------ the allow-list


@pytest.mark.parametrize(
    ("program", "allow_list", "allowed"),
    [
        ("echo", None, False),
        ("echo", "", False),
        ("echo", "echo", True),
        ("echo", "/bin/echo", True),  # the same file name
        ("/usr/bin/echo", "echo", True),
        ("/elsewhere/echo", f"/bin/echo{os.pathsep}/bin/true", True),
        ("echo", "/bin/echo-not", False),
        ("echo", f"{os.pathsep}{os.pathsep}", False),
        ("", f"{os.pathsep}x", False),
        ("..", "..", True),  # equal entries, although neither has a file name
        ("..", "/a/..", False),
        ("/", "/usr", False),
        ("soffice", "/opt/libreoffice/program/soffice/", True),
    ],
)
def test_allow_list(program, allow_list, allowed):
    assert programs.is_allowed(program, allow_list) is allowed


def test_refused_without_running(allow, tmp_path):
    allow("/bin/true")
    marker = tmp_path / "ran"
    result = run("sh", ["-c", f"touch {marker}"])
    assert isinstance(result, Err) and result.value == programs.not_allowed("sh")
    assert not marker.exists()


# ------------------------------------------------------------------------------ running


def test_arguments_are_passed_directly(allow, tmp_path):
    allow("printf")
    result = run("printf", ["%s|", "a b", "$(touch x)", "*", "", Decimal("2.50"), True, None])
    assert isinstance(result, Ok)
    assert result.value == {"நிலை": Decimal(0), "பிழை": "", "வெளியீடு": "a b|$(touch x)|*||2.5|true|nil|"}
    assert not (tmp_path / "x").exists()


def test_stdin_is_empty_and_output_is_read_while_running(allow):
    allow("cat", "sh")
    assert run("cat", []).value["வெளியீடு"] == ""
    # more than a pipe holds, on both streams: the child never blocks on a full pipe
    result = run("sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' a; head -c 2000000 /dev/zero | tr '\\0' b >&2"])
    assert isinstance(result, Ok)
    assert result.value["வெளியீடு"] == "a" * 3000000 and result.value["பிழை"] == "b" * 2000000


def test_invalid_utf8_is_replaced(allow):
    allow("printf")
    assert run("printf", ["\\377ok"]).value["வெளியீடு"] == "\ufffdok"


def test_an_absolute_program_path(allow):
    path = shutil.which("printf")
    allow(path)
    assert run(path, ["x"]).value["வெளியீடு"] == "x"


def test_start_failures(allow, tmp_path):
    allow("etamil-no-such-program", "file.txt")
    assert run("etamil-no-such-program", []).value == programs.cannot_run(
        "etamil-no-such-program", "No such file or directory (os error 2)"
    )
    plain = tmp_path / "file.txt"
    plain.write_text("not a program")
    assert run(str(plain), []).value == programs.cannot_run(str(plain), "Permission denied (os error 13)")
    allow("printf")
    assert run("printf", ["a\0b"]).value == programs.cannot_run("printf", "nul byte found in provided data")


# ------------------------------------------------------------------------------ killing


def test_the_time_limit_kills_the_program_and_its_children(allow, tmp_path):
    allow("sh")
    pids = tmp_path / "pids"
    # the shell starts a grandchild in the background, writes both pids, then waits
    script = f"sleep 300 & echo $$ $! > {pids}; wait"
    result = run("sh", ["-c", script], seconds=1)
    assert isinstance(result, Err) and result.value == programs.timed_out("sh", 1)
    for pid in read_pids(pids):
        assert wait_until_dead(pid), f"process {pid} outlived the time limit"


def test_what_a_finished_program_left_running_is_killed(allow, tmp_path):
    allow("sh")
    pids = tmp_path / "pids"
    result = run("sh", ["-c", f"sleep 300 > /dev/null 2>&1 & echo $$ $! > {pids}; echo done"], seconds=30)
    assert isinstance(result, Ok) and result.value["வெளியீடு"] == "done\n"
    assert wait_until_dead(read_pids(pids)[1])


def test_the_runs_stop_flag_kills_the_program(allow, tmp_path):
    """What the server's watchdog does at the handler deadline: append to ``ctx.stop``."""
    allow("sh")
    pids = tmp_path / "pids"
    ctx = RunContext()
    ctx.deadline_seconds = 0.5
    timer = threading.Timer(0.5, ctx.stop.append, args=("deadline",))
    timer.start()
    try:
        with pytest.raises(DeadlineExceeded) as raised:
            run("sh", ["-c", f"sleep 300 & echo $$ $! > {pids}; wait"], seconds=300, ctx=ctx)
    finally:
        timer.cancel()
    assert "deadline" in raised.value.message
    for pid in read_pids(pids):
        assert wait_until_dead(pid)


def test_output_beyond_the_bound_fails_and_kills(allow, monkeypatch):
    allow("sh")
    monkeypatch.setattr(programs, "MAX_OUTPUT", 100_000)
    result = run("sh", ["-c", "yes"], seconds=30)
    assert isinstance(result, Err)
    assert result.value == "'sh' வெளியீடு வரம்பைத் தாண்டியது  ('sh' wrote more than 100000 bytes to stdout)"
    result = run("sh", ["-c", "yes >&2"], seconds=30)
    assert result.value.endswith("bytes to stderr)")


def test_the_limit_is_whole_seconds():
    assert programs.whole_seconds(Decimal("1.9")) == 1
    assert programs.whole_seconds(Decimal("-0.5")) == 0
    assert programs.whole_seconds(Decimal(-3)) == 0
    assert programs.whole_seconds(Decimal(2**64)) == 0
    assert programs.whole_seconds(Decimal(2**64 - 1)) == 2**64 - 1


def test_a_process_that_escaped_the_group_holds_the_output_only_until_the_limit(allow, tmp_path):
    """``setsid`` puts the grandchild out of reach of the group kill; it keeps stdout open. The call
    still returns — at the limit, with what the program wrote — and does not wait 300 s."""
    allow("sh")
    pids = tmp_path / "pids"
    result = run("sh", ["-c", f"echo first; setsid sleep 300 & echo $$ $! > {pids}"], seconds=1)
    escaped = read_pids(pids)[1]
    try:
        assert isinstance(result, Ok) and result.value["வெளியீடு"] == "first\n"
    finally:
        os.kill(escaped, 9)
