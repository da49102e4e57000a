"""Document packages (HOST.md §7.5): ``பொதி_படி`` reads one text entry of an ODF/OOXML zip,
``பொதி_மாற்று`` writes a copy with some entries replaced.

The rewrite keeps the source's entry order; a replaced entry is deflated, except ``mimetype``
(ODF wants it stored); every other entry is copied without recompression (``zipwriter``).
Nothing is written unless every entry to replace exists. Unlike the reference, the target is
written to a temporary file beside it and renamed into place at the end, so a failure half-way
never leaves a broken package behind, and a package can be rewritten onto itself.

The ``{lib}`` texts after the spec's prefixes are Python's ``zipfile``/``zlib`` messages (the
reference's came from the Rust ``zip`` crate).
"""

from __future__ import annotations

import os
import secrets
import zipfile
import zlib
from decimal import Decimal
from typing import BinaryIO

from ..base.errors import NOT_UTF8, io_error_text
from ..runtime.values import Err, Ok
from .datadir import confined
from .zipwriter import SourceError, ZipCopyWriter, ZipLimit

#: What zipfile raises on a damaged archive or entry, besides OSError.
_ZIP_FAILURES = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def cannot_open(path: str, error: OSError) -> str:
    return f"பொதி '{path}' திறக்க முடியவில்லை  (cannot open package '{path}'): {io_error_text(error)}"


def not_a_package(path: str, detail: str) -> str:
    return f"'{path}' ஒரு பொதி அல்ல  ('{path}' is not a package): {detail}"


def _lib_text(error: BaseException) -> str:
    if isinstance(error, OSError):
        return io_error_text(error)
    return str(error) or type(error).__name__


def _open_package(path: str) -> tuple[BinaryIO, zipfile.ZipFile] | str:
    """The open file and its zip directory, or the failure message."""
    try:
        handle = open(confined(path), "rb")  # noqa: SIM115 - closed by the callers
    except IsADirectoryError as error:  # the reference opens a directory and fails reading it
        return not_a_package(path, io_error_text(error))
    except OSError as error:
        return cannot_open(path, error)
    except ValueError:  # a NUL in the path
        return cannot_open(path, OSError(22, "file name contained an unexpected NUL byte"))
    try:
        return handle, zipfile.ZipFile(handle)
    except (*_ZIP_FAILURES, OSError) as error:
        handle.close()
        return not_a_package(path, _lib_text(error))


def read_entry(path: str, entry: str) -> Ok | Err:
    """``பொதி_படி``: ``சரி(text of the entry)`` or ``தவறு(message)``."""
    opened = _open_package(path)
    if isinstance(opened, str):
        return Err(opened)
    handle, archive = opened
    with handle, archive:
        try:
            info = archive.getinfo(entry)
        except KeyError:
            return Err(f"பொதியில் '{entry}' இல்லை  (no entry '{entry}' in the package)")
        try:
            data = archive.read(info)
            return Ok(data.decode("utf-8"))
        except UnicodeDecodeError:
            detail = NOT_UTF8
        except (*_ZIP_FAILURES, OSError) as error:
            detail = _lib_text(error)
        return Err(f"'{entry}' உரையாகப் படிக்க முடியவில்லை  (cannot read '{entry}' as text): {detail}")


def _temporary_beside(target: str) -> tuple[str, BinaryIO]:
    """A new file in the target's directory, with the permissions a plain create would give."""
    if not target:
        raise FileNotFoundError(2, "No such file or directory")
    real = os.path.realpath(confined(target))
    directory, name = os.path.split(real)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        mode = os.stat(real).st_mode & 0o7777  # an existing target keeps its permissions
        os.chmod(temporary, mode)
    except OSError:
        pass
    return temporary, os.fdopen(descriptor, "wb")


def rewrite(source: str, target: str, changes: dict[str, str]) -> Ok | Err:
    """``பொதி_மாற்று``: ``சரி(number of entries)`` or ``தவறு(message)``."""
    opened = _open_package(source)
    if isinstance(opened, str):
        return Err(opened)
    handle, archive = opened
    with handle, archive:
        entries = archive.infolist()
        present = {info.filename for info in entries}
        for name in sorted(changes):
            if name not in present:
                return Err(f"பொதியில் '{name}' இல்லை  (no entry '{name}' to replace)")
        try:
            temporary, out = _temporary_beside(target)
        except (OSError, ValueError) as error:
            text = io_error_text(error) if isinstance(error, OSError) else "file name contained an unexpected NUL byte"
            return Err(f"பொதி '{target}' எழுத முடியவில்லை  (cannot write package '{target}'): {text}")
        failure = _write_entries(ZipCopyWriter(out), handle, archive, entries, changes, target, out)
        if failure is None:
            try:
                os.replace(temporary, os.path.realpath(confined(target)))
            except OSError as error:
                failure = f"பொதி '{target}' எழுத முடியவில்லை  (cannot write package '{target}'): {io_error_text(error)}"
        if failure is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return Err(failure)
    return Ok(Decimal(len(entries)))


def _write_entries(writer: ZipCopyWriter, handle: BinaryIO, archive: zipfile.ZipFile,
                   entries: list[zipfile.ZipInfo], changes: dict[str, str], target: str,
                   out: BinaryIO) -> str | None:
    """Write every entry and finish the package (``out`` is closed); the failure, or ``None``."""
    try:
        for info in entries:
            name = info.filename
            if name in changes:
                try:
                    writer.add(info, changes[name].encode("utf-8"), stored=name == "mimetype")
                except (OSError, ZipLimit) as error:
                    return f"'{name}' எழுத முடியவில்லை  (cannot write '{name}'): {_lib_text(error)}"
                continue
            try:
                writer.copy(handle, info)
            except SourceError as error:
                return f"பொதியைப் படிக்க முடியவில்லை  (cannot read the package): {error}"
            except (OSError, ZipLimit) as error:
                return f"'{name}' நகலெடுக்க முடியவில்லை  (cannot copy '{name}'): {_lib_text(error)}"
        try:
            writer.finish(archive.comment)
            os.fsync(out.fileno())  # on disk before it replaces the target
        except (OSError, ZipLimit) as error:
            return f"பொதி '{target}' முடிக்க முடியவில்லை  (cannot finish package '{target}'): {_lib_text(error)}"
    finally:
        try:
            out.close()
        except OSError:
            pass  # a failure that matters was reported by the write or the fsync
    return None
