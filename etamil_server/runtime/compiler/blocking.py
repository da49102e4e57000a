"""Blocking: whether code can reach an operation that waits on the outside world (console input,
files, databases, a builtin registered ``blocking=True``). A server runs a blocking handler on
its executor and a non-blocking one on the event loop (``Compiled.blocking``)."""

from __future__ import annotations

from collections.abc import Mapping

from ...lang import syntax as ast
from ..builtins import Builtin
from .scopes import Scopes, evaluated

BLOCKING_STATEMENTS = (ast.Input, ast.FileOpen, ast.FileWrite, ast.FileRead, ast.DbConnect,
                       ast.DbDisconnect, ast.DbExecute, ast.DbQuery)


def mark_blocking(scopes: Scopes, builtins: Mapping[str, Builtin]) -> None:
    """Set ``blocking`` on every scope that has a blocking statement, calls a blocking builtin (a
    user function of the same name hides it) or calls a function that is blocking."""
    functions = scopes.by_function
    for scope in scopes.all():
        scope.blocking = any(_blocks(statement, functions, builtins) for statement in ast.statements_in(scope.body))
    changed = True
    while changed:
        changed = False
        for scope in scopes.all():
            if not scope.blocking and any(functions[c].blocking for c in scope.calls if c in functions):
                scope.blocking = changed = True


def _blocks(statement: ast.Stmt, functions: Mapping[str, object], builtins: Mapping[str, Builtin]) -> bool:
    if isinstance(statement, BLOCKING_STATEMENTS):
        return True
    for node in evaluated(statement):
        if isinstance(node, ast.Call) and node.name not in functions:
            target = builtins.get(node.name)
            if target is not None and target.blocking:
                return True
    return False
