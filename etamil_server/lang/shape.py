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
from collections.abc import Iterator
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


class ProgramShape:
    """A program divided as a server serves it."""

    __slots__ = ("routes", "timers", "prelude", "uses_database", "path", "files")

    def __init__(self, routes: list[RouteShape], timers: list[TimerShape], prelude: list[syntax.Stmt],
                 uses_database: bool, path: str | None, files: list[str]):
        self.routes = routes
        self.timers = timers
        self.prelude = prelude
        #: whether any statement anywhere connects to a database (``/ready`` then watches it)
        self.uses_database = uses_database
        self.path = path
        self.files = files

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
    uses_database = any(isinstance(node, syntax.DbConnect) for node in _nodes(program.statements))
    files = list(program.files) or ([program.path] if program.path else [])
    return ProgramShape(routes, timers, prelude, uses_database, program.path, files)


def path_segments(path: str) -> list[str]:
    """The segments of a route or request path: split on ``/``, empty segments dropped (§4.4)."""
    return [segment for segment in path.split("/") if segment]


def path_parameters(path: str) -> list[str]:
    """The parameter names of a route path (``/orders/:id`` -> ``["id"]``)."""
    return [segment[1:] for segment in path_segments(path) if segment.startswith(":")]


def _nodes(statements: list[syntax.Stmt]) -> Iterator[Any]:
    """Every node under these statements, nested blocks and expressions included."""
    stack: list[Any] = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, syntax.Node):
            yield node
            stack.extend(getattr(node, name, None) for name in syntax.node_fields(type(node)))


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
