"""Files and CSV (HOST.md §6.1)."""

import errno
import io
from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host import files
from etamil_server.host.builtins import file_save
from etamil_server.host.services import HOST_SERVICES
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok

NOT_FOUND = "No such file or directory (os error 2)"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths are relative to the working directory
    return tmp_path


def test_io_error_text_renders_like_rust():
    assert files.io_error_text(FileNotFoundError(errno.ENOENT, "No such file or directory")) == NOT_FOUND
    assert files.io_error_text(OSError(errno.EACCES, "Permission denied")) == "Permission denied (os error 13)"
    with pytest.raises(UnicodeDecodeError) as caught:
        b"\xff".decode("utf-8")
    assert files.io_error_text(caught.value) == "stream did not contain valid UTF-8"


def test_open_for_write_creates_and_empties(in_tmp):
    (in_tmp / "out.txt").write_text("old\n")
    files.file_open("out.txt", "write")
    assert (in_tmp / "out.txt").read_bytes() == b""
    files.file_open("new.txt", "write")
    assert (in_tmp / "new.txt").exists()


def test_other_modes_do_nothing(in_tmp):
    (in_tmp / "keep.txt").write_text("kept\n")
    for mode in ("read", "append", "m", ""):
        files.file_open("keep.txt", mode)
        files.file_open("absent.txt", mode)
    assert (in_tmp / "keep.txt").read_text() == "kept\n"
    assert not (in_tmp / "absent.txt").exists()


def test_open_failure_message(in_tmp):
    (in_tmp / "dir").mkdir()
    with pytest.raises(EtamilError) as caught:
        files.file_open("missing/x.txt", "write")
    assert caught.value.message == (
        "கோப்பு 'missing/x.txt' திறக்க முடியவில்லை  (cannot open 'missing/x.txt' for writing): " + NOT_FOUND
    )
    with pytest.raises(EtamilError) as caught:
        files.file_open("dir", "write")
    assert caught.value.message.endswith("(cannot open 'dir' for writing): Is a directory (os error 21)")


def test_append_line_creates_then_appends(in_tmp):
    files.file_append_line("log.txt", "ஒன்று")
    files.file_append_line("log.txt", "two")
    assert (in_tmp / "log.txt").read_bytes() == "ஒன்று\ntwo\n".encode()


def test_append_failure_message():
    with pytest.raises(EtamilError) as caught:
        files.file_append_line("no/such.txt", "x")
    assert caught.value.message == (
        "கோப்பு 'no/such.txt' எழுத முடியவில்லை  (cannot write 'no/such.txt'): " + NOT_FOUND
    )


def test_read_removes_every_trailing_newline_but_keeps_carriage_return(in_tmp):
    (in_tmp / "a.txt").write_bytes(b"line1\nline2\n\n\n")
    assert files.file_read("a.txt") == "line1\nline2"
    (in_tmp / "b.txt").write_bytes(b"x\r\n")
    assert files.file_read("b.txt") == "x\r"
    (in_tmp / "c.txt").write_bytes(b"\n\n")
    assert files.file_read("c.txt") == ""


def test_read_failures(in_tmp):
    with pytest.raises(EtamilError) as caught:
        files.file_read("nope.txt")
    assert caught.value.message == "கோப்பு 'nope.txt' படிக்க முடியவில்லை  (cannot read 'nope.txt'): " + NOT_FOUND
    (in_tmp / "bin.dat").write_bytes(b"ok\xfe")
    with pytest.raises(EtamilError) as caught:
        files.file_read("bin.dat")
    assert caught.value.message == (
        "கோப்பு 'bin.dat' படிக்க முடியவில்லை  (cannot read 'bin.dat'): stream did not contain valid UTF-8"
    )


def test_nul_in_path_is_an_error_not_a_traceback():
    with pytest.raises(EtamilError) as caught:
        files.file_read("a\x00b")
    assert caught.value.message.endswith("file name contained an unexpected NUL byte")


@pytest.mark.parametrize(
    ("content", "count"),
    [
        ("name,amount\nrice,10\nsalt,2\n", 2),
        ("name,amount\n", 0),
        ("", 0),
        ("h\n\n   \n\t\r\nrow\n", 1),  # blank lines (after trimming) do not count
        ("h\r\nr1\r\nr2", 2),
        ("h\nr1\x0cstill r1\u2028still r1\n", 1),  # only \n separates lines
    ],
)
def test_csv_count(in_tmp, content, count):
    (in_tmp / "t.csv").write_text(content, encoding="utf-8", newline="")
    result = files.csv_count("t.csv")
    assert result == Decimal(count) and type(result) is Decimal


def test_csv_read_failure_uses_the_read_message():
    with pytest.raises(EtamilError) as caught:
        files.csv_count("missing.csv")
    assert caught.value.message.startswith("கோப்பு 'missing.csv' படிக்க முடியவில்லை  (cannot read 'missing.csv'): ")


def test_file_save_replaces_whole_file_and_counts_utf8_bytes(in_tmp):
    (in_tmp / "s.txt").write_text("much longer old content\n")
    result = file_save("s.txt", "வணக்கம்")
    assert isinstance(result, Ok) and result.value == Decimal(len("வணக்கம்".encode()))
    assert (in_tmp / "s.txt").read_bytes() == "வணக்கம்".encode()  # no newline added


def test_file_save_renders_values(in_tmp):
    assert file_save(Decimal("7"), {"b": Decimal("2.50"), "a": None}).value == Decimal(16)
    assert (in_tmp / "7").read_text() == "{a: nil, b: 2.5}"


def test_file_save_failure_is_a_result(in_tmp):
    (in_tmp / "d").mkdir()
    result = file_save("d", "x")
    assert isinstance(result, Err)
    assert result.value == "கோப்பு 'd' எழுத முடியவில்லை  (cannot write 'd'): Is a directory (os error 21)"


def test_run_context_file_statements_render_their_operands(in_tmp):
    ctx = RunContext(services=HOST_SERVICES, stdout=io.StringIO())
    ctx.file_open("r.csv", "write")
    ctx.file_write("r.csv", "id,amount")
    ctx.file_write("r.csv", Decimal("1.50"))
    ctx.file_write("r.csv", [Decimal(1), "x"])
    assert ctx.file_read("r.csv") == "id,amount\n1.5\n[1, x]"
    assert ctx.csv_read("r.csv") == Decimal(2)
