"""A small zip writer for rewriting document packages (HOST.md §7.5): entries copied from another
zip *without recompression* (the compressed bytes go across unchanged), and new entries stored or
deflated.

The standard ``zipfile`` module can only write an entry by compressing it again, which would
change the bytes of every entry a program did not touch (and, for an ODF package, possibly the
way a strict reader sees it). So the copy is done here: a copied entry keeps its compressed data,
its CRC, sizes, times, flags, attributes, name bytes and extra fields; only where it sits in the
file changes. Archives that need ZIP64 (an entry or the archive past 4 GiB, more than 65 535
entries) are refused with :class:`ZipLimit`: document packages never come near that.
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from typing import BinaryIO

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sBBBBHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_DESCRIPTOR = struct.Struct("<4sIII")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_SIGNATURE = b"PK\x05\x06"
_DESCRIPTOR_SIGNATURE = b"PK\x07\x08"

_DATA_DESCRIPTOR_FLAG = 0x08
_UTF8_FLAG = 0x800
_ZIP64_EXTRA = 0x0001
_LIMIT32 = 0xFFFFFFFF
_MAX_ENTRIES = 0xFFFF
_CHUNK = 1 << 20


class ZipLimit(ValueError):
    """The archive would need ZIP64."""


class SourceError(ValueError):
    """The source entry's local header or data cannot be read."""


def _strip_zip64(extra: bytes) -> bytes:
    """The extra field without its ZIP64 block: the copy writes the real sizes in the headers."""
    kept = bytearray()
    position = 0
    while position + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, position)
        block = extra[position : position + 4 + size]
        if tag != _ZIP64_EXTRA:
            kept += block
        position += 4 + size
    kept += extra[position:]  # a malformed tail is copied as it was
    return bytes(kept)


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _name_bytes(info: zipfile.ZipInfo) -> bytes:
    if info.flag_bits & _UTF8_FLAG:
        return info.orig_filename.encode("utf-8")
    try:
        return info.orig_filename.encode("cp437")
    except UnicodeEncodeError:  # not from a zip we read: a name only UTF-8 can carry
        return info.orig_filename.encode("utf-8")


class ZipCopyWriter:
    """Writes a zip to ``out`` entry by entry; :meth:`finish` writes the central directory."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.offset = 0
        self.central: list[bytes] = []

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)

    def _check_size(self, *values: int) -> None:
        if any(value >= _LIMIT32 for value in values):
            raise ZipLimit("entries of 4 GiB or more need ZIP64, which this writer does not write")

    def _add(self, info: zipfile.ZipInfo, name: bytes, flags: int, local_extra: bytes,
             write_data: object) -> None:
        """Local header, data (written by ``write_data()``), descriptor, central record."""
        self._check_size(self.offset, info.compress_size, info.file_size)
        header_offset = self.offset
        dos_time, dos_date = _dos_time(info.date_time)
        described = flags & _DATA_DESCRIPTOR_FLAG
        crc, compressed, size = (0, 0, 0) if described else (info.CRC, info.compress_size, info.file_size)
        self._write(
            _LOCAL.pack(_LOCAL_SIGNATURE, info.extract_version, flags, info.compress_type, dos_time, dos_date,
                        crc, compressed, size, len(name), len(local_extra))
            + name
            + local_extra
        )
        write_data()  # type: ignore[operator]
        if described:
            self._write(_DESCRIPTOR.pack(_DESCRIPTOR_SIGNATURE, info.CRC, info.compress_size, info.file_size))
        central_extra = _strip_zip64(info.extra)
        comment = info.comment
        self.central.append(
            _CENTRAL.pack(_CENTRAL_SIGNATURE, info.create_version, info.create_system, info.extract_version,
                          0, flags, info.compress_type, dos_time, dos_date, info.CRC, info.compress_size,
                          info.file_size, len(name), len(central_extra), len(comment), 0, info.internal_attr,
                          info.external_attr, header_offset)
            + name
            + central_extra
            + comment
        )

    def copy(self, source: BinaryIO, info: zipfile.ZipInfo) -> None:
        """Copy ``info``'s entry from the open source zip without decompressing it.

        :class:`SourceError` when the source cannot be read; ``OSError`` when the target cannot
        be written."""
        try:
            source.seek(info.header_offset)
            head = source.read(_LOCAL.size)
            if len(head) != _LOCAL.size or head[:4] != _LOCAL_SIGNATURE:
                raise SourceError(f"bad local file header for '{info.filename}'")
            name_length, extra_length = struct.unpack_from("<HH", head, 26)
            source.seek(name_length, 1)
            local_extra = source.read(extra_length)
            if len(local_extra) != extra_length:
                raise SourceError(f"truncated local file header for '{info.filename}'")
        except OSError as error:
            raise SourceError(str(error)) from None

        def copy_data() -> None:
            remaining = info.compress_size
            while remaining:
                try:
                    chunk = source.read(min(remaining, _CHUNK))
                except OSError as error:
                    raise SourceError(str(error)) from None
                if not chunk:
                    raise SourceError(f"the data of '{info.filename}' ends early")
                self._write(chunk)
                remaining -= len(chunk)

        self._add(info, _name_bytes(info), info.flag_bits, _strip_zip64(local_extra), copy_data)

    def add(self, like: zipfile.ZipInfo, data: bytes, *, stored: bool) -> None:
        """A new entry named like ``like`` (same name bytes), holding ``data``, stored or deflated."""
        if stored:
            compressed, method, version = data, zipfile.ZIP_STORED, 10
        else:
            deflater = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            compressed, method, version = deflater.compress(data) + deflater.flush(), zipfile.ZIP_DEFLATED, 20
        info = zipfile.ZipInfo(like.orig_filename, time.localtime()[:6])
        info.compress_type = method
        info.extract_version = info.create_version = version
        info.create_system = 3  # Unix, with the permissions below
        info.external_attr = 0o100644 << 16
        info.flag_bits = like.flag_bits & _UTF8_FLAG
        info.CRC = zlib.crc32(data)
        info.compress_size = len(compressed)
        info.file_size = len(data)
        self._add(info, _name_bytes(like), info.flag_bits, b"", lambda: self._write(compressed))

    def finish(self, comment: bytes = b"") -> None:
        """The central directory and its end record."""
        if len(self.central) >= _MAX_ENTRIES:
            raise ZipLimit(f"{len(self.central)} entries need ZIP64, which this writer does not write")
        start = self.offset
        for record in self.central:
            self._write(record)
        size = self.offset - start
        self._check_size(start, size)
        count = len(self.central)
        self._write(_END.pack(_END_SIGNATURE, 0, 0, count, count, size, start, len(comment)) + comment)
        self.out.flush()
