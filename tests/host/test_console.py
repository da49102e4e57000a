"""உள்ளிடு's line reading (HOST.md §3.2)."""

import io

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host.console import read_line
from etamil_server.host.services import HOST_SERVICES
from etamil_server.runtime.context import RunContext


def stdin_of(data: bytes) -> io.TextIOWrapper:
    """A stream shaped like sys.stdin: text on top of a binary buffer."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def test_reads_one_line_at_a_time_then_empty_text_at_end_of_input():
    stream = stdin_of("முதல்\nஇரண்டு\n".encode())
    assert read_line(stream) == "முதல்"
    assert read_line(stream) == "இரண்டு"
    assert read_line(stream) == ""
    assert read_line(stream) == ""


def test_last_line_without_newline_is_read():
    assert read_line(stdin_of(b"42")) == "42"


def test_unicode_white_space_is_trimmed_at_both_ends_only():
    line = "\u00a0\t  a b \u3000\r\n".encode()
    assert read_line(stdin_of(line)) == "a b"


def test_information_separators_are_kept_unlike_str_strip():
    assert read_line(stdin_of(b"\x1cx\x1f\n")) == "\x1cx\x1f"


def test_blank_line_is_empty_text_not_end_of_input():
    stream = stdin_of(b"\n   \nlast\n")
    assert read_line(stream) == ""
    assert read_line(stream) == ""
    assert read_line(stream) == "last"


def test_invalid_utf8_is_a_runtime_error_with_the_io_text():
    with pytest.raises(EtamilError) as caught:
        read_line(stdin_of(b"ok\xff\n"))
    assert caught.value.message == "stream did not contain valid UTF-8"


def test_text_stream_without_buffer_works():
    stream = io.StringIO("  hello  \nworld")
    assert read_line(stream) == "hello"
    assert read_line(stream) == "world"
    assert read_line(stream) == ""


def test_missing_or_closed_stdin_reads_as_end_of_input():
    assert read_line(None) == ""
    stream = stdin_of(b"x\n")
    stream.close()
    assert read_line(stream) == ""


def test_run_context_input_reads_its_own_stdin():
    ctx = RunContext(services=HOST_SERVICES, stdout=io.StringIO(), stdin=stdin_of(b" 12.50 \n"))
    assert ctx.input() == "12.50"
