"""Running other programs (HOST.md §7.5): ``கட்டளை_ஓட்டு(program, arguments, seconds)``.

Only programs listed in ``ETAMIL_EXEC_ALLOW`` run (unset or empty: none). The program gets its
arguments directly, never through a shell, and empty standard input. It runs in a session (and
so a process group) of its own, which is what lets the time limit — and, in a server, the
handler's deadline — kill it *and* whatever it started. Standard output and error are read while
it runs (a chatty child never blocks on a full pipe), each up to :data:`MAX_OUTPUT` bytes.

Our additions to the reference, which had neither: the server's deadline stops the wait (the run
then ends with the deadline error), and output beyond the bound fails the call with
:data:`too_much_output` rather than growing without limit. Also unlike the reference, what the
program left running in its process group when it finished is killed: nothing a call started
outlives it.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from ..base.errors import io_error_text
from ..runtime.values import Err, Ok

ALLOW_VARIABLE = "ETAMIL_EXEC_ALLOW"
POLL_SECONDS = 0.02
#: Bytes kept of each of standard output and standard error.
MAX_OUTPUT = 10 * 1024 * 1024
_CHUNK = 64 * 1024


def not_allowed(program: str) -> str:
    return f"'{program}' ETAMIL_EXEC_ALLOW இல் இல்லை  ('{program}' is not listed in ETAMIL_EXEC_ALLOW)"


def timed_out(program: str, seconds: int) -> str:
    return f"'{program}' {seconds} வினாடிகளுக்குள் முடியவில்லை  ('{program}' did not finish within {seconds}s)"


def cannot_run(program: str, detail: str) -> str:
    return f"'{program}' இயக்க முடியவில்லை  (cannot run '{program}'): {detail}"


def cannot_wait(program: str, detail: str) -> str:
    return f"'{program}' முடிவுக்காகக் காத்திருக்க முடியவில்லை  (cannot wait for '{program}'): {detail}"


def too_much_output(program: str, stream: str) -> str:
    return (
        f"'{program}' வெளியீடு வரம்பைத் தாண்டியது  "
        f"('{program}' wrote more than {MAX_OUTPUT} bytes to {stream})"
    )


def _file_name(path: str) -> str | None:
    """The last component the way Rust's ``Path::file_name`` sees it (none for ``..`` or ``/``)."""
    name = PurePath(path).name
    return name if name not in ("", "..") else None


def is_allowed(program: str, allow_list: str | None) -> bool:
    """Whether an entry of the list equals ``program`` or has the same file name."""
    if not allow_list:
        return False
    wanted_name = _file_name(program)
    for entry in allow_list.split(os.pathsep):
        if not entry:
            continue
        if PurePath(entry) == PurePath(program):
            return True
        if wanted_name is not None and _file_name(entry) == wanted_name:
            return True
    return False


def whole_seconds(value: Decimal) -> int:
    """The time limit: the fraction dropped; negative, or too large for 64 bits, is 0."""
    seconds = int(value)
    return seconds if 0 <= seconds < 2**64 else 0


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left in the group


class _Output:
    """Both pipes, read as data arrives."""

    def __init__(self, child: subprocess.Popen):
        self.selector = selectors.DefaultSelector()
        self.data: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        for name in self.data:
            self.selector.register(getattr(child, name), selectors.EVENT_READ, name)

    @property
    def open(self) -> bool:
        return bool(self.selector.get_map())

    def read(self, timeout: float) -> tuple[str | None, bool]:
        """Wait up to ``timeout`` for output and take it: (the stream that went past the bound,
        whether anything happened on the pipes)."""
        if not self.open:
            time.sleep(timeout)
            return None, False
        events = self.selector.select(timeout)
        for key, _ in events:
            chunk = os.read(key.fd, _CHUNK)
            if not chunk:
                self.selector.unregister(key.fileobj)
                continue
            buffer = self.data[key.data]
            buffer += chunk
            if len(buffer) > MAX_OUTPUT:
                return key.data, True
        return None, bool(events)

    def text(self, name: str) -> str:
        return self.data[name].decode("utf-8", "replace")

    def close(self) -> None:
        self.selector.close()


def run(ctx: Any, program: str, arguments: list[str], seconds: int) -> Ok | Err:
    """Run ``program`` (already allowed) and wait for it, at most ``seconds``."""
    try:
        child = subprocess.Popen(
            [program, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        return Err(cannot_run(program, io_error_text(error)))
    except ValueError:  # a NUL byte in the program or an argument
        return Err(cannot_run(program, "nul byte found in provided data"))
    output = _Output(child)
    started = time.monotonic()
    try:
        while True:
            try:
                status = child.poll()
            except OSError as error:
                return Err(cannot_wait(program, io_error_text(error)))
            if status is not None:
                break
            if ctx.stop:  # the server's deadline (or a drain) stops the run
                _kill_group(child)
                ctx.stopped()
            left = started + seconds - time.monotonic()
            if left <= 0:
                return Err(timed_out(program, seconds))
            try:
                overflow, _ = output.read(min(POLL_SECONDS, left))
            except OSError as error:
                return Err(cannot_wait(program, io_error_text(error)))
            if overflow is not None:
                return Err(too_much_output(program, overflow))
        # Finished. What it left running in its group goes too; then the pipes are read to their
        # end: what is in them always, and waiting for more only until the limit (something that
        # escaped the group may hold them open).
        _kill_group(child)
        while output.open:
            if ctx.stop:
                ctx.stopped()
            waiting = time.monotonic() < started + seconds
            try:
                overflow, active = output.read(POLL_SECONDS if waiting else 0)
            except OSError as error:
                return Err(cannot_wait(program, io_error_text(error)))
            if overflow is not None:
                return Err(too_much_output(program, overflow))
            if not active and not waiting:
                break
        return Ok(
            {
                "நிலை": Decimal(status if status >= 0 else -1),
                "பிழை": output.text("stderr"),
                "வெளியீடு": output.text("stdout"),
            }
        )
    finally:
        if child.returncode is None:
            _kill_group(child)
            child.wait()
        output.close()
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
