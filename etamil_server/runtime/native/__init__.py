"""Native implementations of the bundled standard library (``nUlakam``, LANGUAGE.md §17).

Why: the bundled modules are written in eTamil, and some of them walk text letter by letter
through user-function calls (the JSON writer escapes each letter with a call of its own, the
reader fetches each letter with three nested calls). In Python the same work takes one pass over
a string. A fintech route spends most of its time there.

How it fits together:

* The eTamil sources in ``etamil_server/stdlib/nUlakam/`` stay the executable definition: the
  compiler compiles every function as written. For a function whose winning definition (§9.4: the
  last one) came from a bundled file (:func:`bindings`) it renames the compiled definition and
  puts a gate in its place (:func:`gated`) that calls the native, with the definition at hand.
  Both have the calling convention of compiled functions, ``(rt, depth, *arguments)``.
* A native handles the inputs the module is meant for (text, numbers, arrays, records) in Python
  and hands anything else to the definition (by raising :class:`Unusual`), so an odd input (an
  array where text is expected, a position with a scale) behaves exactly as written. The same
  happens when the call sits near the call-depth limit or the run has been told to stop: the
  definition then raises the 256-frame error or the deadline at exactly the point it would.
  Functions whose depth depends on the input (the JSON reader and writer recurse once per
  nesting level) count the depth themselves (``own_depth=True``).
* A native is used only when every function its definition calls, directly or not, is itself a
  bundled function with a native: a user's function named like a helper (or like a builtin the
  module calls) changes what the definition does, and then the definition runs as written.
* Each module records the SHA-256 of the source it was written against (:func:`describes`); a
  bundled file that no longer matches runs as written, its natives unused, until someone checks
  the natives against the new definition and records the new digest (a test fails meanwhile).
* ``ETAMIL_NATIVE_STDLIB=0`` selects the eTamil definitions everywhere (read at each compile).

Each module of this package implements one bundled file and registers with :func:`native`.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Any

from ...lang import syntax
from ...lang.loader import STDLIB_DIR

#: The directory of the bundled files, as the loader's canonical paths spell it.
BUNDLED_DIR = os.path.realpath(os.path.join(STDLIB_DIR, "nUlakam"))

#: The call-depth limit of LANGUAGE.md §9.4: a call made at a depth above this fails.
MAX_DEPTH = 256

SWITCH = "ETAMIL_NATIVE_STDLIB"
_ON = ("", "1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


class Unusual(Exception):
    """Raised by a native for an input it leaves to the eTamil definition."""


class SwitchError(ValueError):
    """``ETAMIL_NATIVE_STDLIB`` holds something that is not a yes or a no."""


class Native:
    """One registered native: the function ``impl(rt, depth, *arguments)`` and its arity."""

    __slots__ = ("file", "name", "impl", "arity", "own_depth")

    def __init__(self, file: str, name: str, impl: Callable[..., Any], own_depth: bool):
        self.file = file
        self.name = name
        self.impl = impl
        self.arity = impl.__code__.co_argcount - 2
        self.own_depth = own_depth


#: (bundled file name, function name) -> its native.
NATIVES: dict[tuple[str, str], Native] = {}

#: bundled file name -> the SHA-256 of the source its natives implement.
SOURCES: dict[str, str] = {}


def describes(file: str, sha256: str) -> None:
    """Record that the natives of ``file`` implement the source with this digest."""
    SOURCES[file] = sha256


@functools.cache
def unchanged(file: str) -> bool:
    """Whether the bundled ``file`` is still the source its natives were written against."""
    try:
        with open(os.path.join(BUNDLED_DIR, file), "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == SOURCES.get(file)


def native(file: str, name: str, *, own_depth: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``impl(rt, depth, *arguments)`` as the native of function ``name`` of ``file``.

    ``impl`` runs only while every call it stands for stays within the depth limit (unless
    ``own_depth``: then it checks the depth of the calls it stands for itself) and the run has not
    been told to stop. It may raise :class:`Unusual` for inputs it leaves to the definition."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        key = (file, name)
        if key in NATIVES:
            raise ValueError(f"native registered twice: {file} {name}")
        NATIVES[key] = Native(file, name, impl, own_depth)
        return impl

    return register


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the natives are used (the switch; default: yes)."""
    value = (os.environ if environ is None else environ).get(SWITCH, "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise SwitchError(
        f"{SWITCH} must be 1 (the native standard library, the default) or 0 (the eTamil "
        f"definitions), not {value!r}"
    )


def bundled_file(function: syntax.FunctionDef) -> str | None:
    """The bundled file a function definition was loaded from (None: any other origin)."""
    path = syntax.origin(function)
    if path is None or os.path.dirname(path) != BUNDLED_DIR:
        return None
    return os.path.basename(path)


def called_names(function: syntax.FunctionDef) -> set[str]:
    """The names of every function the body calls (nested blocks included)."""
    names: set[str] = set()
    for node in syntax.nodes_in(function.body):
        if isinstance(node, syntax.Call):
            names.add(node.name)
    return names


class Binding:
    """A native as one program uses it: calls at a depth above ``limit`` go to the definition."""

    __slots__ = ("native", "limit")

    def __init__(self, native: Native, limit: int):
        self.native = native
        self.limit = limit


def bindings(functions: Mapping[str, syntax.FunctionDef]) -> dict[str, Binding]:
    """For the program whose winning function definitions are ``functions`` (name ->
    definition): the ones that run natively. Empty when the switch is off."""
    candidates = {}
    for name, function in functions.items():
        file = bundled_file(function)
        if file is not None and (file, name) in NATIVES and unchanged(file):
            candidates[name] = function
    if not candidates or not enabled():
        return {}
    calls = {name: called_names(function) for name, function in candidates.items()}
    changed = True
    while changed:  # drop every candidate that reaches a function which is not one
        changed = False
        for name in list(candidates):
            if any(callee in functions and callee not in candidates for callee in calls[name]):
                del candidates[name]
                changed = True
    chains: dict[str, int | None] = {}
    result = {}
    for name, function in candidates.items():
        entry = NATIVES[(bundled_file(function), name)]
        chain = _chain(name, calls, candidates, chains, set())
        if chain is None and not entry.own_depth:
            raise ValueError(f"the native of {name} must count its call depth (its definition recurses)")
        result[name] = Binding(entry, MAX_DEPTH if chain is None else MAX_DEPTH - chain)
    return result


def _chain(name: str, calls: Mapping[str, set[str]], functions: Mapping[str, Any],
           memo: dict[str, int | None], active: set[str]) -> int | None:
    """How many calls deep the definition of ``name`` can go below itself (None: unbounded, it
    recurses)."""
    if name in memo:
        return memo[name]
    if name in active:
        return None
    active.add(name)
    deepest: int | None = 0
    for callee in calls[name]:
        if callee not in functions:
            continue  # a builtin: no frame
        below = _chain(callee, calls, functions, memo, active)
        if below is None:
            deepest = None
            break
        deepest = max(deepest, below + 1)
    active.discard(name)
    memo[name] = deepest
    return deepest


def gated(binding: Binding, lines: list[str], python: str, indent: str,
          constant: Callable[[Any, str], str]) -> list[str]:
    """The generated code of a natively run function: ``lines`` (the compiled definition, whose
    first line is ``def <python>(_rt, _d, ...):``) renamed, and in its place a gate. Past the
    binding's depth limit some call the definition stands for would fail, and a stopped run must
    stop where the definition would: both go to the definition, as does an :class:`Unusual`
    input. (Generated rather than a Python closure: a definition that must be a closure is made
    afresh for every run, and so is its gate; a ``def`` is the cheapest way to make one.)
    ``constant(value, prefix)`` names a value in the generated module."""
    header = lines[0]
    definition = python + "_def"
    renamed = header.replace(f"def {python}(", f"def {definition}(", 1)
    parameters = header[header.index("(") + 1 : header.rindex(")")]
    impl = constant(binding.native.impl, "N")
    unusual = constant(Unusual, "N")
    return [renamed, *lines[1:]] + [indent + line for line in (
        f"def {python}({parameters}):",
        f"    if _d > {binding.limit} or _rt.stop: return {definition}({parameters})",
        f"    try: return {impl}({parameters})",
        f"    except {unusual}: return {definition}({parameters})",
    )]


# The modules register their natives on import.
from . import ani, col, jecaz, kacu, kaniqam, kuriyakkam, panam, porul  # noqa: E402, F401
