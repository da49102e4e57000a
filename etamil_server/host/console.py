"""Console input (HOST.md §3.2): the line read by ``உள்ளிடு``.

Printing needs no host code: ``RunContext.print`` writes the rendering and flushes.
"""

from __future__ import annotations

from typing import IO, Any

from ..base.errors import NOT_UTF8, EtamilError, io_error_text
from ..runtime.values import WHITE_SPACE


def read_line(stream: IO[Any] | None) -> str:
    """One line (up to and including ``\\n``, or to end of input) with Unicode white space
    trimmed at both ends; ``""`` at end of input.

    A text stream's binary ``buffer`` is read when there is one, so that bytes which are not
    UTF-8 are reported (``stream did not contain valid UTF-8``) rather than silently replaced or
    turned into a Python traceback. ``str.strip()`` is not used: it also strips U+001C..U+001F.
    """
    if stream is None:  # no stdin at all (closed descriptor): behaves as end of input
        return ""
    source = getattr(stream, "buffer", stream)
    try:
        line = source.readline()
    except OSError as exc:
        raise EtamilError(io_error_text(exc)) from None
    except UnicodeDecodeError:  # a text stream without a buffer that decodes by itself
        raise EtamilError(NOT_UTF8) from None
    except ValueError:  # a closed stream: the reference reads a closed stdin as end of input
        return ""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise EtamilError(NOT_UTF8) from None
    return line.strip(WHITE_SPACE)
