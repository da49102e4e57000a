"""multipart/form-data bodies, the way the reference splits them (HOST.md §7.6).

:func:`parse_multipart` returns the text fields (``request_fields``) and the files as
``(record, bytes)`` pairs: the record is what ``request_files`` shows, the bytes stay in the host
(``RunContext.uploads``) until ``பதிவேற்றம்_சேமி`` writes them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Upload = tuple[dict[str, Any], bytes]


def boundary_of(content_type: str | None) -> bytes | None:
    """The boundary of a ``multipart/form-data`` content type (quotes stripped), else None."""
    if content_type is None:
        return None
    text = content_type.lstrip(" ")
    if not text[:19].lower() == "multipart/form-data":
        return None
    for parameter in text.split(";")[1:]:
        key, equals, value = parameter.strip().partition("=")
        if equals and key.strip().lower() == "boundary":
            value = value.strip().strip('"')
            return value.encode("utf-8") if value else None
    return None


def _disposition(value: str) -> tuple[str | None, str | None]:
    """``name`` and ``filename`` of a Content-Disposition value (split on ``;``: a quoted
    filename containing ``;`` is cut, as upstream does)."""
    name = filename = None
    for parameter in value.split(";"):
        key, equals, raw = parameter.strip().partition("=")
        if not equals:
            continue
        raw = raw.strip().strip('"')
        key = key.strip().lower()
        if key == "name":
            name = raw
        elif key == "filename":
            filename = raw
    return name, filename


def parse_multipart(content_type: str | None, body: bytes) -> tuple[dict[str, str], list[Upload]]:
    """Text fields and uploaded files of a multipart body; ``({}, [])`` when it is not one."""
    fields: dict[str, str] = {}
    files: list[Upload] = []
    boundary = boundary_of(content_type)
    if boundary is None:
        return fields, files
    pieces = (b"\r\n" + body).split(b"\r\n--" + boundary)
    # pieces[0] is the preamble; the last piece has no delimiter after it, so it is never a part
    for piece in pieces[1:-1]:
        if piece.startswith(b"--"):
            break
        if not piece.startswith(b"\r\n"):
            continue
        end = piece.find(b"\r\n\r\n")
        if end < 0:
            continue
        head = piece[2:end].decode("utf-8", errors="replace")
        data = piece[end + 4 :]
        name = filename = None
        part_type = None
        for line in head.split("\r\n"):
            key, colon, value = line.partition(":")
            if not colon:
                continue
            key = key.strip().lower()
            if key == "content-disposition":
                name, filename = _disposition(value)
            elif key == "content-type":
                part_type = value.strip()
        if name is None:
            continue
        if filename is None:
            fields[name] = data.decode("utf-8", errors="replace")
            continue
        record = {
            "குறியீடு": Decimal(len(files)),
            "பெயர்": name,
            "கோப்புப்_பெயர்": filename,
            "வகை": part_type or "application/octet-stream",
            "அளவு": Decimal(len(data)),
        }
        files.append((record, data))
    return fields, files
