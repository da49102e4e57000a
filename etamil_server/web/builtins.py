"""Builtins that belong to the HTTP side: ``பதில்_கோப்பு`` (HOST.md §4.7.3) and
``பதிவேற்றம்_சேமி`` (§7.6).

Importing this module registers them; ``etamil_server.families.load_families`` does, for every
process that compiles programs.
"""

from __future__ import annotations

import os
from decimal import ROUND_DOWN, Decimal
from typing import Any

from ..host.datadir import confined
from ..host.files import write_failed_message
from ..runtime.builtins import builtin
from ..runtime.values import Err, Ok, display, to_number


@builtin("பதில்_கோப்பு", "paDil_kOppu", "_respondFile", context=True, blocking=True)
def respond_file(ctx: Any, status: Any, path: Any, headers: Any) -> Ok | Err:
    """Answer with a file: if ``render(path)`` is an existing regular file (relative to the
    working directory) set ``response_status`` (converted to a number, so ``"404"`` works),
    ``response_file`` and ``response_headers`` (as given); the file is read after the handler.
    The response variables live in ``ctx.response`` (where ``பதில்`` writes them too)."""
    text = display(path)
    try:
        found = os.path.isfile(confined(text))
    except (OSError, ValueError):  # outside ETAMIL_DATA_DIR: as absent as a missing file
        found = False
    if not found:
        return Err(f"கோப்பு '{text}' இல்லை  (no such file '{text}')")
    ctx.response["response_status"] = to_number(status)
    ctx.response["response_file"] = text
    ctx.response["response_headers"] = headers
    return Ok(None)


def _no_upload(index: Decimal) -> Err:
    return Err(f"பதிவேற்றம் {display(index)} இல்லை  (no upload at {display(index)})")


@builtin("பதிவேற்றம்_சேமி", "paqivERRam_cEmi", "_saveUpload", context=True, blocking=True)
def save_upload(ctx: Any, index: Any, path: Any) -> Ok | Err:
    """Write upload number ``index`` (fraction dropped) of this request to ``path``, byte for
    byte; ``சரி(bytes written)``, or ``தவறு`` when there is no such upload or the write fails."""
    number = to_number(index).to_integral_value(rounding=ROUND_DOWN) + 0  # + 0: no "-0"
    from .request import uploads_of  # only requests with uploads need the multipart parser

    uploads = uploads_of(ctx)
    if number < 0 or number >= len(uploads):
        return _no_upload(number)
    data = uploads[int(number)][1]
    target = display(path)
    try:
        with open(confined(target), "wb") as handle:
            handle.write(data)
    except (OSError, ValueError) as exc:
        return Err(write_failed_message(target, exc))
    return Ok(Decimal(len(data)))
