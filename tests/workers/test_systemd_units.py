"""The systemd units in conf/: systemd's own checker finds nothing to say, the stop timeout leaves
the drain its time, and the EnvironmentFile the unit names has an example beside it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etamil_server.config import DrainSettings, load_settings

CONF = Path(__file__).resolve().parents[2] / "conf"
SERVICE = CONF / "etamil.service"
SOCKET = CONF / "etamil.socket"
ENV_EXAMPLE = CONF / "etamil.env.example"


def directives(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            name, _, value = line.partition("=")
            found.setdefault(name.strip(), []).append(value.strip())
    return found


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min)?", text)
    assert match, f"not a plain systemd time span: {text}"
    return float(match.group(1)) * (60 if match.group(2) == "min" else 1)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    # The one site-specific path systemd checks is the gunicorn the unit starts: point it at ours
    # (it must exist and be executable); everything else is verified as shipped.
    gunicorn = Path(sys.executable).with_name("gunicorn")
    assert gunicorn.exists()
    text = SERVICE.read_text(encoding="utf-8")
    assert "ExecStart=/opt/etamil/venv/bin/gunicorn " in text
    (tmp_path / "etamil.service").write_text(text.replace("/opt/etamil/venv/bin/gunicorn", str(gunicorn)))
    shutil.copy(SOCKET, tmp_path / "etamil.socket")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "etamil.service"), str(tmp_path / "etamil.socket")],
        capture_output=True, text=True, timeout=60,
    )
    # verify exits 0 even when it warns about an unknown key or a bad value: it must say nothing
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stderr


def test_readiness_comes_from_the_master():
    service = directives(SERVICE)
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]  # gunicorn is ExecStart itself: the master is main
    assert service["ExecReload"] == ["/bin/kill -s HUP $MAINPID"]
    assert service["KillSignal"] == ["SIGTERM"] and service["KillMode"] == ["mixed"]


def test_the_stop_timeout_stays_above_the_graceful_timeout():
    service = directives(SERVICE)
    [stop] = service["TimeoutStopSec"]
    graceful = DrainSettings().graceful_timeout
    example = env_file(ENV_EXAMPLE)
    if "ETAMIL_GRACEFUL_TIMEOUT" in example:
        graceful = load_settings({"ETAMIL_GRACEFUL_TIMEOUT": example["ETAMIL_GRACEFUL_TIMEOUT"]}).drain.graceful_timeout
    assert seconds(stop) > graceful


def test_the_environment_file_example_is_what_the_unit_reads_and_parses():
    service = directives(SERVICE)
    [named] = service["EnvironmentFile"]
    assert named.startswith("-/etc/etamil/")  # "-": a missing file is no error
    example = env_file(ENV_EXAMPLE)
    assert all(name.startswith(("ETAMIL_", "PROMETHEUS_")) for name in example)
    settings = load_settings(example)  # every value in it is one our settings accept
    assert settings.metrics.enabled and settings.process.processes == 4
