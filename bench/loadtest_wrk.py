"""One wrk run, its figures read exactly: wrk's text output has no p95 and rounds everything, so
each run gets a generated Lua script whose ``done()`` hook prints one machine-readable line
(``LOADTEST_RESULT {json}``) with the request count, the duration, exact p50/p95/p99/max/mean in
microseconds and every error kind wrk counts (connect, read, write, timeout, and status: a
response with a status of 400 or more).

wrk's "read" errors need one correction for a server that closes every connection after its
answer *without* ``Connection: close`` (``etamil --server`` does, like the reference): wrk then
reads the close as an error on a connection it meant to reuse, one per answered request. For such
a server the answered requests are taken off that count (:func:`unanswered_reads`); the raw count
is kept in the results.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

RESULT_MARK = "LOADTEST_RESULT "
DEFAULT_TIMEOUT = 5  # seconds: a request without an answer by then is a timeout error
ERROR_KINDS = ("status", "connect", "read", "write", "timeout")


class WrkError(RuntimeError):
    """wrk could not run or printed no result line; the message carries what it said."""


@dataclass(frozen=True)
class Request:
    """What every wrk connection sends, again and again."""

    method: str
    path: str
    body: str | None = None
    content_type: str | None = None


@dataclass
class WrkResult:
    connections: int
    threads: int
    seconds: float  # the measured duration as wrk reports it
    requests: int  # answered requests (any status)
    rps: float
    p50_ms: float | None  # None when nothing was answered
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    errors: dict[str, int]  # ERROR_KINDS -> count (read already corrected, see the module doc)
    wrk_read_raw: int  # wrk's own read-error count, before any correction
    wrk_cpu_seconds: float  # the load generator's own CPU (it shares the machine with the server)

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    def to_json(self) -> dict:
        data = asdict(self)
        data["error_total"] = self.error_total
        return data


def lua_string(text: str) -> str:
    """A Lua string literal for any text (wrk's scripts are Lua 5.1 / LuaJIT)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def lua_script(request: Request) -> str:
    """The wrk script for ``request``: the request itself, then the ``done()`` reporter."""
    lines = ["-- written by bench/loadtest_wrk.py for one run", f"wrk.method = {lua_string(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    if request.content_type is not None:
        lines.append(f'wrk.headers["Content-Type"] = {lua_string(request.content_type)}')
    lines.append(
        """
done = function(summary, latency, requests)
  local n = summary.requests
  local e = summary.errors
  local function q(p) if n > 0 then return latency:percentile(p) else return -1 end end
  local max = -1
  local mean = -1
  if n > 0 then max = latency.max; mean = latency.mean end
  io.write(string.format(
    '%s{"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, ' ..
    '"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f, ' ..
    '"p50_us": %.0f, "p95_us": %.0f, "p99_us": %.0f, "max_us": %.0f, "mean_us": %.1f}\\n',
    "MARK", n, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    q(50), q(95), q(99), max, mean))
end
""".replace("MARK", RESULT_MARK)
    )
    return "\n".join(lines)


def unanswered_reads(raw_read: int, answered: int, closes_after_response: bool) -> int:
    """wrk's read errors that are real: for a server that closes after each answer, one read
    error per answered request is that close, not a failure."""
    if not closes_after_response:
        return raw_read
    return max(0, raw_read - answered)


def _millis(micros: float) -> float | None:
    return None if micros < 0 else micros / 1000.0


def parse_result(output: str, connections: int, threads: int, closes_after_response: bool = False,
                 wrk_cpu_seconds: float = 0.0) -> WrkResult:
    """The WrkResult of one run from wrk's stdout (the line the script's ``done()`` printed)."""
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK):])
            break
    else:
        raise WrkError("wrk printed no result line:\n" + output[-1500:])
    seconds = data["duration_us"] / 1e6
    requests = int(data["requests"])
    errors = {kind: int(data[kind]) for kind in ERROR_KINDS}
    errors["read"] = unanswered_reads(errors["read"], requests, closes_after_response)
    return WrkResult(
        connections=connections,
        threads=threads,
        seconds=seconds,
        requests=requests,
        rps=requests / seconds if seconds > 0 else 0.0,
        p50_ms=_millis(data["p50_us"]),
        p95_ms=_millis(data["p95_us"]),
        p99_ms=_millis(data["p99_us"]),
        max_ms=_millis(data["max_us"]),
        mean_ms=_millis(data["mean_us"]),
        errors=errors,
        wrk_read_raw=int(data["read"]),
        wrk_cpu_seconds=wrk_cpu_seconds,
    )


def threads_for(connections: int) -> int:
    """wrk needs at least one connection per thread; two threads for the machine's two cores."""
    return max(1, min(2, connections))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(url: str, request: Request, connections: int, seconds: int, *, timeout: int = DEFAULT_TIMEOUT,
            closes_after_response: bool = False) -> WrkResult:
    """Run wrk against ``url`` for ``seconds`` with ``connections`` and return its figures."""
    if shutil.which("wrk") is None:
        raise WrkError("wrk is not installed: run `bash bench/install_wrk.sh` (Debian package 'wrk')")
    threads = threads_for(connections)
    with tempfile.TemporaryDirectory(prefix="loadtest-wrk-") as folder:
        script = Path(folder) / "request.lua"
        script.write_text(lua_script(request), encoding="utf-8")
        command = [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s",
            "-s", str(script), url.rstrip("/") + request.path,
        ]
        cpu_before = _children_cpu()
        try:
            finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60)
        except subprocess.TimeoutExpired as error:
            raise WrkError(f"wrk did not finish within {seconds + timeout + 60} s") from error
        cpu = _children_cpu() - cpu_before
    if finished.returncode != 0:
        raise WrkError(f"wrk exited with status {finished.returncode}: {(finished.stderr or finished.stdout).strip()[-1500:]}")
    return parse_result(finished.stdout, connections, threads, closes_after_response, cpu)
