"""The compiler: a syntax tree -> one Python code object, compiled once, run many times.

Why generated Python: CPython runs its own bytecode far faster than any interpreter loop written in
Python can run ours. The parts, in the order they run:

* ``analysis.py`` ties the analyses together: ``scopes.py`` (winning definitions, each scope's
  variables, closures), ``blocking.py``, ``kinds.py`` (kind inference), ``intervals.py``
  (whole numbers held as ints and their intervals);
* ``emit.py`` writes the Python source from the analysed tree (``names.py`` mangles the names);
* ``compiled.py`` holds the result: the code object, its runs, and the translation of Python
  errors into eTamil ones.

Language rules the generated code keeps (LANGUAGE.md §8–§11): a function reads its own locals
first, then globals; it always *writes* locals; whether a local is bound yet is decided at run time
only where a static check cannot decide it. Functions are hoisted; the last definition of a name
wins for every call; user functions hide builtins; arity is checked after the arguments are
evaluated.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...base import numbers
from ...base.numbers import FAST_CONTEXT, MAX_COEFFICIENT, ZERO
from .. import limits, native, ops
from ..builtins import registry
from .analysis import Analysis
from .compiled import TOO_DEEP, UNSET, Compiled, CompileError
from .emit import Emitter
from .kinds import ALL, NIL, RES, RETURN_KINDS, A, B, N, R, S
from .scopes import RESPONSE_VARIABLES


def compile_program(
    statements: list,
    *,
    inputs: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
    input_kinds: dict[str, str] | None = None,
    filename: str = "<etamil>",
    hidden_loop_variables: bool = False,
    collect_globals: bool = True,
) -> Compiled:
    """Compile ``statements`` (a loaded program's top level) once. ``hidden_loop_variables``
    keeps upstream's ``#each_items_N``/``#each_i_N`` globals (only the REPL shows them).
    ``collect_globals=False`` (servers): a run returns only the response variables, and the
    program does not build the dict of all its globals at the end. ``input_kinds`` names the kind
    each injected global starts with ("string", "record", "array"...: the vocabulary of a
    builtin's ``returns``); an injected global not named there may hold anything.

    Raises :class:`CompileError` for a program nested too deeply for CPython, or when
    ``ETAMIL_NATIVE_STDLIB`` holds neither a yes nor a no."""
    kinds = {name: RETURN_KINDS[kind] for name, kind in (input_kinds or {}).items()}
    try:
        analysis = Analysis(statements, frozenset(inputs), kinds, registry())
        emitter = Emitter(analysis, collect_globals=collect_globals, hidden_loop_variables=hidden_loop_variables)
        source = emitter.generate()
    except native.SwitchError as error:
        raise CompileError(str(error)) from None
    except RecursionError:
        raise CompileError(TOO_DEEP.format(detail="expressions nested too deeply")) from None
    namespace: dict[str, Any] = {
        "__builtins__": __builtins__,
        "_ops": ops,
        "_lim": limits,
        "_num": numbers,
        "_U": UNSET,
        "_ZERO": ZERO,
        "_D": Decimal,
        "_ONE": Decimal(1),
        "_MAXC": MAX_COEFFICIENT,
        "_MINC": -MAX_COEFFICIENT,
        "_Prop": ops.Propagate,
        "Decimal": Decimal,
    }
    namespace.update(emitter.namespace)
    return Compiled(source, namespace, emitter.names, analysis.blocking, filename,
                    emitter.inputs_used, collect_globals)


__all__ = ["ALL", "A", "B", "N", "NIL", "R", "RES", "S", "UNSET", "RESPONSE_VARIABLES", "CompileError",
           "Compiled", "compile_program", "FAST_CONTEXT"]
