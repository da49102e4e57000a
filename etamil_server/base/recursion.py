"""How deep Python may recurse in a process that loads and runs eTamil programs.

The parser recurses once per nesting level of the source, the compiler once per nesting level of
an expression, and a run once (or a few times: natives, builtins calling back) per eTamil call.
Python's default limit (1000) would turn a deeply nested but valid program into a "too deeply
nested" error long before any real limit. Every entry point that loads or runs programs (the
command, the REPL, the server's loading and each worker) calls :func:`allow_deep_recursion` once;
nothing sets it on import, so importing the package changes nothing in someone else's process.

Whatever the limit, going past it is never a Python traceback: the loader reports a program
nested too deeply, the compiler a ``CompileError``, and a run the language's call-depth error.
"""

from __future__ import annotations

import sys

#: far deeper than any real program nests; still well within an 8 MiB thread stack
RECURSION_LIMIT = 20000


def allow_deep_recursion() -> None:
    """Raise this interpreter's recursion limit to :data:`RECURSION_LIMIT` (never lower it)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
