"""Scopes and closures (LANGUAGE.md §8, §9.4): which function definitions win, which variables
each function and the top level write, which globals a function reads, and which functions must
be closures over the run's globals.

A function reads its own locals first, then the globals, and always *writes* locals. A function
that reads a global (other than a response variable, which lives in the run's context) is
generated as a closure inside the run function, where the globals are Python locals; so is a
function that calls one. Every other function is a plain module-level function, made once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from ...lang import syntax as ast

#: HOST.md §4.7: set by பதில் and பதில்_கோப்பு from anywhere; they live in the run's context
RESPONSE_VARIABLES = ("response_status", "response_body", "response_headers", "response_file")

#: the statements whose bodies hold functions of this program: route and timer bodies are not
#: code of this program (the server compiles them separately, with the prelude)
_FUNCTION_HOLDERS = (*ast.BLOCK_STATEMENTS, ast.FunctionDef)


def function_definitions(statements: list[ast.Stmt]) -> dict[str, ast.FunctionDef]:
    """Every function definition, keyed by name in program order; a later definition of a name
    replaces an earlier one (§9.4: the last definition wins for every call)."""
    found: dict[str, ast.FunctionDef] = {}
    for statement in ast.statements_in(statements, _FUNCTION_HOLDERS):
        if isinstance(statement, ast.FunctionDef):
            found[statement.name] = statement
    return found


def evaluated(statement: ast.Stmt) -> Iterator[ast.Node]:
    """Every expression node ``statement`` evaluates itself (not those of nested statements).
    A route or timer statement compiled here only fails (it is not at the top of a server's
    program): its path and interval are never evaluated."""
    if isinstance(statement, ast.Route | ast.Every):
        return
    for expr in ast.expressions(statement):
        yield from ast.walk(expr)


class Scope:
    """One function's (or the top level's) variables. ``kinds`` is filled by the kind inference
    (kinds.py), ``blocking`` by blocking.py."""

    def __init__(self, function: ast.FunctionDef | None, body: list[ast.Stmt]):
        self.function = function
        self.body = body
        self.written: set[str] = set()
        self.kinds: dict[str, int] = {}
        self.reads_globals: set[str] = set()
        self.calls: set[str] = set()
        self.uses_try = False
        self.needs_closure = False
        self.blocking = False


class Scopes:
    """The scopes of one program: ``top`` and one per winning function definition (``by_function``,
    in definition order). ``global_names`` are the names the top level writes plus the injected
    ones."""

    def __init__(self, statements: list[ast.Stmt], functions: dict[str, ast.FunctionDef],
                 inputs: Collection[str]):
        self.functions = functions
        self.top = Scope(None, statements)
        self.by_function: dict[str, Scope] = {name: Scope(fn, fn.body) for name, fn in functions.items()}
        self.top.written = ast.assigned_in(statements)
        self.global_names: set[str] = set(inputs) | self.top.written
        for scope in self.by_function.values():
            scope.written = set(scope.function.params) | ast.assigned_in(scope.body)
        for scope in self.all():
            self._reads_and_calls(scope)
        self._closures()

    def all(self) -> list[Scope]:
        """The top level first, then the functions in definition order."""
        return [self.top, *self.by_function.values()]

    def global_cells(self, scope: Scope) -> set[str]:
        """The globals ``scope`` reads from the run function's locals (response variables are
        read from the context instead)."""
        return {n for n in scope.reads_globals if n in self.global_names and n not in RESPONSE_VARIABLES}

    def _reads_and_calls(self, scope: Scope) -> None:
        in_function = scope is not self.top
        for statement in ast.statements_in(scope.body):
            for node in evaluated(statement):
                if isinstance(node, ast.Call):
                    scope.calls.add(node.name)
                elif isinstance(node, ast.Try):
                    scope.uses_try = True
                elif isinstance(node, ast.Var) and in_function and node.name not in scope.written:
                    if node.name in self.global_names or node.name in RESPONSE_VARIABLES:
                        scope.reads_globals.add(node.name)
            if in_function and isinstance(statement, ast.SetIndex | ast.SetField):
                if statement.name in self.global_names:
                    scope.reads_globals.add(statement.name)  # element assignment reads the global first
        if in_function:
            # a local that may be read before it is bound falls back to the global
            scope.reads_globals |= scope.written & self.global_names

    def _closures(self) -> None:
        functions = self.by_function
        for scope in functions.values():
            scope.needs_closure = bool(self.global_cells(scope))
        changed = True
        while changed:  # a function calling a closure must be one too (it is made per run)
            changed = False
            for scope in functions.values():
                if not scope.needs_closure and any(functions[c].needs_closure for c in scope.calls if c in functions):
                    scope.needs_closure = changed = True
