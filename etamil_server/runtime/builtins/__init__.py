"""The builtin function registry (LANGUAGE.md §15-16, HOST.md §4.7.3, §6, §7).

Each builtin answers to three spellings (Tamil, romanized, English ``_name``); they are matched by
the call's spelling at compile time, and only when no user function has that spelling.

Register with the decorator::

    @builtin("நீளம்", "nILam", "_length")
    def length(value): ...

    @builtin("சூழல்", "cUzal", "_env", context=True, blocking=False)
    def env(ctx, name, fallback): ...

The arity is the number of positional parameters (not counting ``ctx``). ``context=True`` passes
the run's :class:`~etamil_server.runtime.context.RunContext` first. ``blocking=True`` marks
builtins that can wait on the outside world (database, files, network, processes, sleeping): the
server runs handlers that can reach one on a thread pool instead of inline on the event loop.
``returns`` optionally names the kind the builtin always returns ("number", "string", "boolean",
"array", "record", "result"), which lets the compiler use fast arithmetic on the result; ``ok``,
for a builtin returning a result, the kind its success always holds (``இயல்பு(எண்ணாக்கு(t), 0)``
is then known to be a number).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Builtin:
    """One builtin: its canonical (Tamil) name, the function, and how to call it."""

    __slots__ = ("name", "function", "arity", "context", "blocking", "returns", "ok")

    def __init__(self, name: str, function: Callable[..., Any], arity: int, context: bool, blocking: bool,
                 returns: str | None, ok: str | None = None):
        self.name = name  # the Tamil spelling: the canonical name
        self.function = function
        self.arity = arity
        self.context = context
        self.blocking = blocking
        self.returns = returns
        self.ok = ok


BUILTINS: dict[str, Builtin] = {}


def builtin(
    *spellings: str, context: bool = False, blocking: bool = False, returns: str | None = None,
    ok: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if ok is not None and returns != "result":
        raise ValueError(f"{spellings[0]}: ok= describes a result, but the builtin returns {returns}")

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        # positional parameters, read off the code object: ``inspect`` costs start-up time
        arity = function.__code__.co_argcount - (1 if context else 0)
        entry = Builtin(spellings[0], function, arity, context, blocking, returns, ok)
        for spelling in spellings:
            if spelling in BUILTINS:
                raise ValueError(f"builtin spelling registered twice: {spelling}")
            BUILTINS[spelling] = entry
        return function

    return register


def registry() -> dict[str, Builtin]:
    """Every builtin registered so far, by spelling. The runtime's own families (the pure
    builtins of LANGUAGE.md §16) are always in it; the host's and the server's join when the
    process loads them (``etamil_server.families.load_families``): the registry never reaches up
    into the layers above it."""
    return BUILTINS


# The runtime's own families register on import of the registry (they import ``builtin`` above).
from . import collections, dates, encoding, numeric, results, strings  # noqa: E402, F401
