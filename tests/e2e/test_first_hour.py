"""A newcomer's first hour: clone the repository, then run exactly the README's two commands.

The clone is of this checkout's HEAD, in a fresh directory, with no virtual environment, no
``etamil`` or ``gunicorn`` on PATH and, where the machine has one, Debian's externally managed
``/usr/bin/python3`` as ``PYTHON`` (so only the Makefile's ``.venv`` can work). ``make serve`` must
answer on its port and leave nothing untracked; ``make test`` must pass. The inner ``make test``
runs a small part of the suite (selected through ``PYTEST_ADDOPTS``, which the command honours
without changing it), never this test again.

It installs the project from the package index into a new venv (about a minute), so it runs in CI
(``CI=true`` or ``ETAMIL_TEST_REQUIRE_SERVICES=1``) and when asked with ``ETAMIL_TEST_FIRST_HOUR=1``;
elsewhere it skips with a one-line reason.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_WAIT = 600  # seconds: the first make serve creates the venv and installs everything
TEST_WAIT = 900
STOP_WAIT = 30
#: the part of the suite the inner ``make test`` runs: quick, and it does not contain this file
INNER_SELECTION = "tests/test_cli_check.py tests/lang/test_strict.py tests/host/db/test_program.py"
INNER_MARK = "ETAMIL_FIRST_HOUR_INNER"

WANTED = any(
    os.environ.get(name) == value
    for name, value in (("CI", "true"), ("ETAMIL_TEST_REQUIRE_SERVICES", "1"), ("ETAMIL_TEST_FIRST_HOUR", "1"))
)
pytestmark = [
    pytest.mark.skipif(os.environ.get(INNER_MARK) == "1", reason="inside the first-hour test's own make test"),
    pytest.mark.skipif(not WANTED, reason="clones and installs (~1 min): CI runs it; ETAMIL_TEST_FIRST_HOUR=1 here"),
]


def readme_commands() -> list[str]:
    """The commands of the README's first shell block, comments removed."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```sh\n(.*?)^```$", text, re.M | re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def externally_managed_python() -> str | None:
    """Debian's /usr/bin/python3 when it is externally managed and can make a venv."""
    if not os.path.exists("/usr/bin/python3") or not glob.glob("/usr/lib/python3*/EXTERNALLY-MANAGED"):
        return None
    probe = subprocess.run(["/usr/bin/python3", "-c", "import ensurepip, venv"], capture_output=True, timeout=60)
    return "/usr/bin/python3" if probe.returncode == 0 else None


def clean_environment() -> dict[str, str]:
    """The outer environment without anything that would let the clone use this checkout or its
    venv: no PYTHONPATH / VIRTUAL_ENV / make flags, and no PATH entry holding etamil or gunicorn."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ADDOPTS",
            "PORT", "PROGRAM", "VENV", "DATA_DIR", "LEDGER_DB", "PYTHON"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    entries = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry]
    env["PATH"] = os.pathsep.join(
        entry for entry in entries
        if not any(os.access(os.path.join(entry, tool), os.X_OK) for tool in ("etamil", "gunicorn"))
    )
    python = externally_managed_python()
    if python:
        env["PYTHON"] = python
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, method: str, target: str, body: bytes = b"") -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=STOP_WAIT) as sock:
        sock.sendall(
            f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(payload)


def git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=clone, check=True, capture_output=True, text=True,
                          timeout=STOP_WAIT).stdout


def tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-4000:]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    target = tmp_path / "etamil-server"
    target.mkdir()
    git(target, "init", "-q")
    git(target, "fetch", "-q", str(REPO), "HEAD")  # this checkout's HEAD, whatever branch it is on
    git(target, "checkout", "-q", "FETCH_HEAD")
    return target


def stop_group(process: subprocess.Popen) -> None:
    """TERM the process group this test started (make and the server under it), KILL if it stays."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_WAIT)


def wait_answering(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + INSTALL_WAIT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"make serve ended ({process.returncode}):\n{tail(log)}"
        try:
            if request(port, "GET", "/")[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"make serve did not answer on port {port}:\n{tail(log)}")


def test_a_fresh_clone_with_the_readme_commands(clone: Path, tmp_path: Path) -> None:
    assert readme_commands() == ["make serve", "make test"]
    serve_command, test_command = readme_commands()
    env = clean_environment()

    # ---- make serve: answers on its port (PORT= picks it: the default may be taken here)
    port = free_port()
    serve_log = tmp_path / "serve.log"
    with serve_log.open("wb") as output:
        process = subprocess.Popen(["bash", "-c", serve_command], cwd=clone, env={**env, "PORT": str(port)},
                                   stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        wait_answering(process, port, serve_log)
        assert request(port, "GET", "/") == (200, {"service": "ledger", "status": "ok"})
        entry = json.dumps({"amount": "1250.50", "note": "rent"}).encode()
        assert request(port, "POST", "/accounts/cash/entries", entry)[0] == 201
        status, balance = request(port, "GET", "/accounts/cash/balance")
        assert (status, balance["balance"]) == (200, 1250.5)
    finally:
        stop_group(process)

    assert git(clone, "status", "--porcelain") == "", tail(serve_log)  # nothing untracked, nothing changed
    assert (clone / "data" / "ledger.db").is_file()  # the example's database went to the data directory
    if "PYTHON" in env:  # the venv is Debian's interpreter's, which pip itself refuses to install into
        config = (clone / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
        assert re.search(r"^home = /usr/bin$", config, re.M), config
    again = subprocess.run(["make", "-q", "install"], cwd=clone, env=env, capture_output=True, timeout=STOP_WAIT)
    assert again.returncode == 0  # installed, and up to date: make test will not reinstall

    # ---- make test: the same command, a small part of the suite
    inner = {**env, "PYTEST_ADDOPTS": f"{INNER_SELECTION} -p no:cacheprovider", INNER_MARK: "1"}
    done = subprocess.run(["bash", "-c", test_command], cwd=clone, env=inner, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=TEST_WAIT)
    report = f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, report
    assert re.search(r"^\d+ passed", done.stdout.splitlines()[-1]), report
    assert "pip install" not in done.stdout  # the stamp held
    assert git(clone, "status", "--porcelain") == ""
