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
from ...lang import syntax as ast
from .. import limits, native, ops
from ..builtins import registry
from .analysis import Analysis
from .compiled import TOO_DEEP, UNSET, Compiled, CompileError
from .emit import Emitter
from .kinds import ALL, NIL, RES, RETURN_KINDS, A, B, N, R, S
from .scopes import RESPONSE_VARIABLES

#: CPython refuses code indented more than 100 levels, and every eTamil block (an if's branch, a
#: loop's body) adds at least one level to the code generated for it: a program nesting blocks
#: deeper than this can never compile. Saying so before generating matters because generating
#: nested blocks costs more than the square of the depth (a 3,000-deep program took minutes).
MAX_BLOCK_DEPTH = 100


def block_depth(statements: list) -> int:
    """The deepest nesting of blocks within one function (a function's body is generated as a
    function of its own, so it starts again at 0; a route's or timer's body is the prelude's
    level). Iterative: the tree may be thousands deep."""
    deepest = 0
    pending: list[tuple[list, int]] = [(statements, 0)]
    while pending:
        block, depth = pending.pop()
        deepest = max(deepest, depth)
        for statement in block:
            if isinstance(statement, ast.FunctionDef):
                inner_depth = 0
            elif isinstance(statement, ast.Route | ast.Every):
                inner_depth = depth
            else:
                inner_depth = depth + 1
            pending.extend((inner, inner_depth) for inner in ast.blocks(statement))
    return deepest


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
    if block_depth(statements) > MAX_BLOCK_DEPTH:
        raise CompileError(TOO_DEEP.format(detail=f"blocks nested more than {MAX_BLOCK_DEPTH} deep"))
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
                    emitter.inputs_used, collect_globals,
                    line_positions=emitter.line_positions, functions=emitter.python_functions())


__all__ = ["ALL", "A", "B", "N", "NIL", "R", "RES", "S", "UNSET", "RESPONSE_VARIABLES", "CompileError",
           "Compiled", "compile_program", "FAST_CONTEXT"]
