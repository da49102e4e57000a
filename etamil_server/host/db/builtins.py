"""The two database builtins (HOST.md §5.4): like the statements, but returning a result instead
of stopping the program. Imported by ``host/builtins.py`` so that they register."""

from __future__ import annotations

from typing import Any

from ...runtime.builtins import builtin
from ...runtime.values import Err, Ok, display


@builtin("தளம்_செய்_முயற்சி", "qaLam_cey_muyaRci", "_tryExecute", context=True, blocking=True,
         returns="result")
def try_execute(ctx: Any, sql: Any, params: Any) -> Ok | Err:
    """சரி(rows affected) or தவறு(message), for any failure."""
    return ctx.db.try_execute(display(sql), params)


@builtin("தளம்_வினா_முயற்சி", "qaLam_viZA_muyaRci", "_tryQuery", context=True, blocking=True,
         returns="result")
def try_query(ctx: Any, sql: Any, params: Any) -> Ok | Err:
    """சரி(rows) or தவறு(message)."""
    return ctx.db.try_query(display(sql), params)
