"""Document packages (HOST.md §7.5): reading entries, and rewriting with byte-level checks that the
untouched entries are copied exactly."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host import builtins as host
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.values import Err, Ok

STAMP = (2025, 3, 4, 5, 6, 8)
PICTURE = bytes(range(256)) * 8


class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors (flag bit 3) after each entry."""

    def __init__(self, sink: io.BytesIO):
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self.sink.write(data)


def make_package(path: Path, *, descriptors: bool = False) -> None:
    """An ODF-like package: stored mimetype first, deflated XML, a binary picture, a directory,
    a non-ASCII name, an extra field, an entry comment and an archive comment."""
    buffer = io.BytesIO()
    target = Unseekable(buffer) if descriptors else buffer
    with zipfile.ZipFile(target, "w") as archive:
        archive.comment = b"made for the test"

        def add(name: str, data: bytes, method=zipfile.ZIP_DEFLATED, **extra) -> None:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = method
            info.external_attr = 0o100640 << 16
            for key, value in extra.items():
                setattr(info, key, value)
            archive.writestr(info, data)

        add("mimetype", b"application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        add("content.xml", "<office:text>வணக்கம் {பெயர்}</office:text>".encode())
        add("styles.xml", b"<style:style/>" * 200, comment=b"styles")
        add("Pictures/", b"")
        add("Pictures/logo.png", PICTURE, extra=struct.pack("<HH4s", 0xCAFE, 4, b"abcd"))
        add("பட்டியல்.xml", "<list>பொருள்</list>".encode())
        add("settings.xml", b"<settings/>", zipfile.ZIP_STORED)
    path.write_bytes(buffer.getvalue())


def raw_entries(path: Path) -> dict[str, dict]:
    """Each entry's compressed bytes and its central-directory metadata, read straight from the file."""
    data = path.read_bytes()
    entries = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_length + extra_length
            entries[info.filename] = {
                "data": data[start : start + info.compress_size],
                "local_extra": data[info.header_offset + 30 + name_length : start],
                "meta": (info.compress_type, info.CRC, info.compress_size, info.file_size, info.date_time,
                         info.external_attr, info.create_system, info.create_version, info.extract_version,
                         info.flag_bits & ~0x08, info.extra, info.comment, info.internal_attr),
            }
    return entries


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "letter.odt"
    make_package(path)
    return path


def test_spellings_and_arity():
    for spellings, arity in {("பொதி_படி", "poqi_pati", "_packageRead"): 2,
                             ("பொதி_மாற்று", "poqi_mARRu", "_packageWrite"): 3,
                             ("கட்டளை_ஓட்டு", "kattaLY_Ottu", "_run"): 3}.items():
        (entry,) = {BUILTINS[s] for s in spellings}
        assert entry.name == spellings[0] and entry.arity == arity and entry.blocking


def test_read_entries(package):
    assert host.package_read(str(package), "content.xml").value == "<office:text>வணக்கம் {பெயர்}</office:text>"
    assert host.package_read(str(package), "பட்டியல்.xml").value == "<list>பொருள்</list>"
    assert host.package_read(str(package), "Pictures/").value == ""
    failure = host.package_read(str(package), "Pictures/logo.png")
    assert isinstance(failure, Err) and failure.value.endswith("as text): stream did not contain valid UTF-8")
    assert host.package_read(str(package), "content").value == "பொதியில் 'content' இல்லை  (no entry 'content' in the package)"


def test_read_failures(tmp_path, package):
    directory = host.package_read(str(tmp_path), "x").value
    assert directory == f"'{tmp_path}' ஒரு பொதி அல்ல  ('{tmp_path}' is not a package): Is a directory (os error 21)"
    damaged = tmp_path / "damaged.odt"
    data = bytearray(package.read_bytes())  # corrupt the deflate stream of content.xml
    info = zipfile.ZipFile(package).getinfo("content.xml")
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    first = info.header_offset + 30 + name_length + extra_length
    data[first : first + 4] = b"\xff\xff\xff\xff"
    damaged.write_bytes(bytes(data))
    failure = host.package_read(str(damaged), "content.xml").value
    assert failure.startswith("'content.xml' உரையாகப் படிக்க முடியவில்லை  (cannot read 'content.xml' as text): ")
    empty = tmp_path / "empty.odt"
    empty.write_bytes(b"")
    assert host.package_read(str(empty), "x").value == f"'{empty}' ஒரு பொதி அல்ல  ('{empty}' is not a package): File is not a zip file"


@pytest.mark.parametrize("descriptors", [False, True], ids=["sizes-in-headers", "data-descriptors"])
def test_rewrite_copies_untouched_entries_byte_for_byte(tmp_path, descriptors):
    source, target = tmp_path / "in.odt", tmp_path / "out.odt"
    make_package(source, descriptors=descriptors)
    with zipfile.ZipFile(source) as archive:
        assert {bool(info.flag_bits & 0x08) for info in archive.infolist()} == {descriptors}
    changes = {"content.xml": "<office:text>வணக்கம் ரவி</office:text>", "mimetype": "application/x-test",
               "settings.xml": Decimal("12.50")}
    result = host.package_write(str(source), str(target), changes)
    assert isinstance(result, Ok) and result.value == Decimal(7)

    before, after = raw_entries(source), raw_entries(target)
    assert list(after) == list(before)  # the source's order
    for name in ("styles.xml", "Pictures/", "Pictures/logo.png", "பட்டியல்.xml"):
        assert after[name]["data"] == before[name]["data"], name
        assert after[name]["meta"] == before[name]["meta"], name
        assert after[name]["local_extra"] == before[name]["local_extra"], name
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        assert archive.comment == b"made for the test"
        assert archive.read("content.xml").decode() == "<office:text>வணக்கம் ரவி</office:text>"
        assert archive.read("settings.xml") == b"12.5"  # rendered
        assert archive.read("Pictures/logo.png") == PICTURE
        mimetype, content = archive.getinfo("mimetype"), archive.getinfo("content.xml")
        assert mimetype.compress_type == zipfile.ZIP_STORED and mimetype.extra == b""
        assert archive.read("mimetype") == b"application/x-test"
        assert content.compress_type == zipfile.ZIP_DEFLATED
        assert archive.getinfo("settings.xml").compress_type == zipfile.ZIP_DEFLATED  # was stored
    # mimetype's data starts at byte 38, uncompressed, as ODF readers look for it
    assert target.read_bytes()[30:38] == b"mimetype" and target.read_bytes()[38:56] == b"application/x-test"


def test_nothing_is_written_when_an_entry_is_missing(tmp_path, package):
    target = tmp_path / "out.odt"
    result = host.package_write(str(package), str(target), {"content.xml": "x", "zzz.xml": "y", "aaa.xml": "z"})
    assert result.value == "பொதியில் 'aaa.xml' இல்லை  (no entry 'aaa.xml' to replace)"
    assert sorted(os.listdir(tmp_path)) == ["letter.odt"]
    target.write_bytes(b"keep me")
    host.package_write(str(package), str(target), {"nope": "x"})
    assert target.read_bytes() == b"keep me"


def test_a_package_rewritten_onto_itself(package):
    assert host.package_write(str(package), str(package), {"content.xml": "new"}).value == Decimal(7)
    assert host.package_read(str(package), "content.xml").value == "new"
    assert host.package_read(str(package), "styles.xml").value == "<style:style/>" * 200


def test_an_existing_target_keeps_its_permissions(tmp_path, package):
    target = tmp_path / "out.odt"
    target.write_bytes(b"old")
    target.chmod(0o600)
    host.package_write(str(package), str(target), {})
    assert target.stat().st_mode & 0o777 == 0o600
    assert zipfile.ZipFile(target).namelist() == zipfile.ZipFile(package).namelist()


def test_rewrite_failures(tmp_path, package):
    missing_dir = tmp_path / "nowhere" / "out.odt"
    assert host.package_write(str(package), str(missing_dir), {}).value == (
        f"பொதி '{missing_dir}' எழுத முடியவில்லை  (cannot write package '{missing_dir}'): No such file or directory (os error 2)"
    )
    assert host.package_write(str(package), str(tmp_path), {}).value == (
        f"பொதி '{tmp_path}' எழுத முடியவில்லை  (cannot write package '{tmp_path}'): Is a directory (os error 21)"
    )
    assert host.package_write(str(package), "", {}).value == (
        "பொதி '' எழுத முடியவில்லை  (cannot write package ''): No such file or directory (os error 2)"
    )
    assert sorted(os.listdir(tmp_path)) == ["letter.odt"]  # no temporary file left behind
    with pytest.raises(EtamilError) as raised:
        host.package_write(str(package), str(tmp_path / "x.odt"), "content.xml")
    assert raised.value.message == "பொதி_மாற்று ஒரு பொருள் தேவை  (package changes must be a record, got a string)"


def test_a_damaged_local_header_fails_with_nothing_written(tmp_path, package):
    data = bytearray(package.read_bytes())
    offset = zipfile.ZipFile(package).getinfo("styles.xml").header_offset
    data[offset : offset + 4] = b"XXXX"
    package.write_bytes(bytes(data))
    target = tmp_path / "out.odt"
    result = host.package_write(str(package), str(target), {"content.xml": "x"})
    assert result.value == "பொதியைப் படிக்க முடியவில்லை  (cannot read the package): bad local file header for 'styles.xml'"
    assert sorted(os.listdir(tmp_path)) == ["letter.odt"]
