"""The shape of a program as a server sees it: its routes, its timers and its prelude
(HOST.md §4.2, §4.3, §4.13), as plain records.

The server (``web/``) must not walk syntax trees: it asks this module how a program divides, and
hands the statement lists it gets back to the compiler as they are. The split follows the spec:
every top-level ``வழி`` is a route, every top-level ``இடைவெளி`` a timer, and everything else, in
source order, is the prelude that runs before each route body and each timer tick. A program
without routes is the old whole-program model (§4.13).

Nothing here decides what the server does with a bad route or timer: a path or interval that is
not a literal is recorded with the debug rendering the start-up message quotes (``path_text``,
``interval_text``), and the server words the error.
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN
from typing import Any

from . import syntax


class RouteShape:
    """One top-level ``வழி METHOD, "path" { … }``."""

    __slots__ = ("method", "path", "path_text", "params", "statements", "line", "column", "file")

    def __init__(self, route: syntax.Route):
        self.method: str = route.method
        literal = route.path if isinstance(route.path, syntax.String) else None
        #: the literal path, or None when the path is not a string literal
        self.path: str | None = literal.value if literal is not None else None
        #: how the reference renders a non-literal path in its start-up error
        self.path_text: str = debug_text(route.path)
        #: the names of the path's ``:name`` segments, in order
        self.params: list[str] = path_parameters(self.path) if self.path is not None else []
        self.statements: list[syntax.Stmt] = route.body
        self.line, self.column, self.file = route.line, route.column, syntax.origin(route)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path if self.path is not None else self.path_text}"


class TimerShape:
    """One top-level ``இடைவெளி seconds { … }``; ``index`` is its 1-based place among the timers."""

    __slots__ = ("index", "seconds", "interval_text", "statements", "line", "column", "file")

    def __init__(self, index: int, timer: syntax.Every):
        self.index = index
        interval = timer.interval
        #: whole seconds (fraction dropped, at least 1), or None when the interval is not a literal
        self.seconds: int | None = None
        if isinstance(interval, syntax.Number):
            self.seconds = max(1, int(interval.value.to_integral_value(rounding=ROUND_DOWN)))
        self.interval_text: str = debug_text(interval)
        self.statements: list[syntax.Stmt] = timer.body
        self.line, self.column, self.file = timer.line, timer.column, syntax.origin(timer)


class ConnectionRecipe:
    """How a ``தளம்_இணை`` builds its connection text, when that is known without running the
    program: literal text, ``சூழல்("NAME", fallback)`` and ``&`` of those, possibly through a
    variable assigned once at the top level. :meth:`text` evaluates it as the statement would
    (the environment of the worker is the one the program sees). The server uses it to reach the
    program's PostgreSQL for its timer leadership (web/timers.py)."""

    __slots__ = ("parts", "line", "column", "file")

    def __init__(self, parts: tuple, node: syntax.DbConnect):
        #: each part is a literal ``str`` or ``(variable, fallback parts)`` for ``சூழல்``
        self.parts = parts
        self.line, self.column, self.file = node.line, node.column, syntax.origin(node)

    def text(self, environ: Any) -> str:
        return _evaluate(self.parts, environ)


class ProgramShape:
    """A program divided as a server serves it."""

    __slots__ = ("routes", "timers", "prelude", "uses_database", "path", "files", "postgres")

    def __init__(self, routes: list[RouteShape], timers: list[TimerShape], prelude: list[syntax.Stmt],
                 uses_database: bool, path: str | None, files: list[str],
                 postgres: list[tuple[syntax.DbConnect, ConnectionRecipe | None]] | None = None):
        self.routes = routes
        self.timers = timers
        self.prelude = prelude
        #: whether any statement anywhere connects to a database (``/ready`` then watches it)
        self.uses_database = uses_database
        self.path = path
        self.files = files
        #: every ``தளம்_இணை`` to PostgreSQL, those at the top of the prelude (they run before
        #: every request and tick) first, then by line: (line, column, recipe or None when the
        #: connection text depends on the run, whether it is at the top of the prelude)
        top = {id(statement) for statement in prelude}
        self.postgres: list[tuple[int, int, ConnectionRecipe | None, bool]] = sorted(
            ((node.line, node.column, recipe, id(node) in top) for node, recipe in (postgres or [])),
            key=lambda entry: (not entry[3], entry[0], entry[1]),
        )

    @property
    def has_routes(self) -> bool:
        """False: the old whole-program model (§4.13): the prelude answers ``/``, timers dropped."""
        return bool(self.routes)


def program_shape(program: syntax.Program) -> ProgramShape:
    """Divide a loaded program into routes, timers and prelude (source order kept in each)."""
    routes: list[RouteShape] = []
    timers: list[TimerShape] = []
    prelude: list[syntax.Stmt] = []
    for statement in program.statements:
        if isinstance(statement, syntax.Route):
            routes.append(RouteShape(statement))
        elif isinstance(statement, syntax.Every):
            timers.append(TimerShape(len(timers) + 1, statement))
        else:
            prelude.append(statement)
    nodes = list(syntax.nodes_in(program.statements))
    connects = [node for node in nodes if isinstance(node, syntax.DbConnect)]
    files = list(program.files) or ([program.path] if program.path else [])
    postgres = [node for node in connects if node.db_type == "PostgreSQL"]
    recipes = _Recipes(program.statements, nodes) if postgres else None
    return ProgramShape(routes, timers, prelude, bool(connects), program.path, files,
                        [(node, recipes.recipe(node)) for node in postgres] if recipes else [])


#: the spellings of the environment builtin (HOST.md §6.7)
_ENV_NAMES = frozenset(("சூழல்", "cUzal", "_env"))


class _Recipes:
    """Connection texts that can be known without running anything (see ConnectionRecipe)."""

    def __init__(self, top_level: list[syntax.Stmt], nodes: list[Any]):
        assigned: dict[str, list[syntax.Assign]] = {}
        rebound: set[str] = set()  # names some other statement binds (loops, parameters, reads)
        shadowed = False
        for node in nodes:
            if isinstance(node, syntax.Assign):
                assigned.setdefault(node.name, []).append(node)
            elif isinstance(node, syntax.ForEach):
                rebound.add(node.var)
            elif isinstance(node, syntax.FunctionDef):
                rebound.update(node.params)
                shadowed = shadowed or node.name in _ENV_NAMES
            elif isinstance(node, syntax.DbQuery | syntax.FileRead):
                rebound.add(node.target)
            elif isinstance(node, syntax.Input) and isinstance(node.target, syntax.Var):
                rebound.add(node.target.name)
        top = {id(statement) for statement in top_level}
        #: variables assigned exactly once, at the top level, and bound nowhere else
        self.constants = {
            name: found[0].value for name, found in assigned.items()
            if len(found) == 1 and id(found[0]) in top and name not in rebound and found[0].value is not None
        }
        self.env_is_builtin = not shadowed

    def recipe(self, node: syntax.DbConnect) -> ConnectionRecipe | None:
        parts = self._parts(node.connection, depth=0)
        return ConnectionRecipe(parts, node) if parts is not None else None

    def _parts(self, expr: Any, depth: int) -> tuple | None:
        if depth > 16:
            return None
        if isinstance(expr, syntax.String):
            return (expr.value,)
        if isinstance(expr, syntax.Var) and expr.name in self.constants:
            return self._parts(self.constants[expr.name], depth + 1)
        if isinstance(expr, syntax.Binary) and expr.op == "&":
            left, right = self._parts(expr.left, depth + 1), self._parts(expr.right, depth + 1)
            return left + right if left is not None and right is not None else None
        if (isinstance(expr, syntax.Call) and expr.name in _ENV_NAMES and self.env_is_builtin
                and len(expr.args) == 2 and isinstance(expr.args[0], syntax.String)):
            fallback = self._parts(expr.args[1], depth + 1)
            return ((expr.args[0].value, fallback),) if fallback is not None else None
        return None


def _evaluate(parts: tuple, environ: Any) -> str:
    pieces = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        name, fallback = part
        value = environ.get(name)
        if value is not None:
            try:
                value.encode("utf-8")  # as the builtin: text that is not UTF-8 gives the fallback
            except UnicodeEncodeError:
                value = None
        pieces.append(value if value is not None else _evaluate(fallback, environ))
    return "".join(pieces)


def path_segments(path: str) -> list[str]:
    """The segments of a route or request path: split on ``/``, empty segments dropped (§4.4)."""
    return [segment for segment in path.split("/") if segment]


def path_parameters(path: str) -> list[str]:
    """The parameter names of a route path (``/orders/:id`` -> ``["id"]``)."""
    return [segment[1:] for segment in path_segments(path) if segment.startswith(":")]


def debug_text(expr: Any) -> str:
    """An approximation of the reference's debug rendering of an expression (its start-up errors
    quote it; tests compare only the text before it): ``Variable("p")``, ``Number(5)``..."""
    if isinstance(expr, syntax.Var):
        return f'Variable("{expr.name}")'
    if isinstance(expr, syntax.String):
        return f"String({json.dumps(expr.value, ensure_ascii=False)})"
    if isinstance(expr, syntax.Number):
        return f"Number({expr.value})"
    if isinstance(expr, syntax.Bool):
        return f"Boolean({str(expr.value).lower()})"
    if isinstance(expr, syntax.Nil):
        return "Null"
    if isinstance(expr, syntax.Call):
        return f'Call {{ name: "{expr.name}", .. }}'
    return f"{type(expr).__name__} {{ .. }}"
