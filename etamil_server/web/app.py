"""A program as an HTTP application: its routes, its timers, and what answers a request
(HOST.md §4.2-4.4, §4.9-4.13).

Interface::

    app = App.from_program(program, mode="ours" | "reference")   # may raise StartupError
    d = app.dispatch(request, ready=callable_or_None)            # decide; runs nothing
    if d.response is not None: answer d.response                 # 404, 405, /health, preflight...
    else: response = app.run_route(d, request, ctx)              # synchronous; on a thread when
                                                                 # d.blocking, else inline
    serialize(response, ..., head=d.head)                        # HEAD answered by a GET route
    for timer in app.timers: timer.run(ctx) every timer.seconds

``App.from_program`` splits the top-level statements into routes, timers and the prelude (source
order), checks timer intervals (before routes) and route paths, and compiles each route's program
(prelude + body, the request variables as inputs) and each timer's program (prelude + body) once;
the response variables come back in the run's final globals (the compiler keeps them in
``ctx.response``). A program without routes is the old whole-program model (§4.13): it answers
GET/POST/PUT/DELETE ``/`` and its timers are dropped.
``on_register(method, path)`` is called as each route is registered (the sync server logs there,
so routes registered before a bad one are already logged, as upstream).

Modes:

* ``"reference"``: exactly §4.4/§4.9/§4.10. ``health_route=True`` (the default in this mode, as
  ``--server`` does; pass False for a reference ``--async``) registers the built-in ``GET /health``
  last, which prints ``200`` on stdout and answers ``Handler executed successfully``.
* ``"ours"``: HEAD answered by a GET route without the body; OPTIONS on an existing path without an
  OPTIONS route -> 204 with ``Allow`` (this is the CORS preflight answer); an existing path with
  another method -> 405 with ``Allow``; ``GET /health`` -> ``{"status": "healthy"}`` and
  ``GET /ready`` -> ``{"status": "ready"}`` or 503 ``{"status": "<reason>"}`` (``ready()`` returns
  None when ready, else the reason, e.g. "draining" or "database unavailable"), unless a program
  route answers them (the program wins); else 404.

``run_route`` turns a runtime error into the 500 of §4.9 (and writes ``❌ Handler execution error:
{message}`` to stderr), a passed deadline into a 503 with a JSON body; ``EtamilExit`` propagates
(it ends the process). A handler header the "ours" serializer refuses (``HeaderInjection``) is the
caller's to answer: ``handler_error(str(exc))`` and a log line. Database leases are given back (``ctx.release()``) after the response has
been built and before it is written (§4.11).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from ..base.errors import DeadlineExceeded, EtamilError, EtamilExit
from ..lang import syntax
from ..runtime.compiler import compile_program
from .request import Request, request_variable_names, request_variables
from .response import (
    JSON,
    Response,
    build_response,
    error_body,
    error_response,
    handler_error,
    not_found,
)
from .router import Router, split_path

_INPUT_KINDS = {  # request variables that are not text (param_<name> are all text)
    "query_params": "record",
    "headers": "record",
    "path_params": "record",
    "request_fields": "record",
    "request_files": "array",
}
OLD_MODEL_METHODS = ("GET", "POST", "PUT", "DELETE")
MODES = ("ours", "reference")


class StartupError(Exception):
    """A program that cannot be served; the message is §4.2's text without the ``✗ ``."""


@dataclass
class RouteEntry:
    """One registered route (``routes`` keeps every registration, duplicates included)."""

    method: str
    path: str
    compiled: Any  # a runtime Compiled (or the built-in /health program)
    blocking: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Timer:
    """A top-level ``இடைவெளி`` job: ``index`` is k (1-based among the program's timers)."""

    index: int
    seconds: int
    compiled: Any

    @property
    def blocking(self) -> bool:
        return bool(getattr(self.compiled, "blocking", False))

    def run(self, ctx: Any) -> bool:
        """One tick in a fresh run without request variables. A failure is reported on stderr
        and returns False; ``EtamilExit`` propagates."""
        ctx.response = {}
        try:
            self.compiled.run(ctx, {})
            return True
        except EtamilError as exc:
            message = exc.message
        except Exception as exc:  # a runtime defect: report it like a runtime error, keep ticking
            message = _internal_message(exc)
        finally:
            ctx.release()
        _stderr_line(f"❌ இடைவெளி #{self.index} every {self.seconds}s failed: {message}")
        return False


@dataclass
class Dispatch:
    """What to do with a request: run ``route`` (with ``path_params``) or send ``response``.
    ``head``: the answer goes out without its body (HEAD served by a GET route, "ours" only)."""

    route: RouteEntry | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    response: Response | None = None
    head: bool = False

    @property
    def blocking(self) -> bool:
        return self.route is not None and self.route.blocking


class _HealthProgram:
    """The reference ``--server``'s built-in ``GET /health``: prints ``200``, sets nothing."""

    blocking = False
    inputs_used: frozenset[str] = frozenset()

    def run(self, ctx: Any, inject: dict[str, Any], collect: bool = True) -> dict[str, Any]:
        ctx.print(Decimal(200))
        return {}


def has_route_statements(program: syntax.Program) -> bool:
    """Whether the program is served with routes (else the old model of §4.13)."""
    return any(isinstance(statement, syntax.Route) for statement in program.statements)


class App:
    def __init__(self, mode: str):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.routes: list[RouteEntry] = []
        self.timers: list[Timer] = []
        self.router = Router()
        self.has_routes = False
        self.uses_database = False

    # ------------------------------------------------------------------------------ building

    @classmethod
    def from_program(
        cls,
        program: syntax.Program,
        *,
        mode: str,
        health_route: bool | None = None,
        on_register: Callable[[str, str], None] | None = None,
    ) -> App:
        app = cls(mode)
        statements = program.statements
        routes = [s for s in statements if isinstance(s, syntax.Route)]
        timers = [s for s in statements if isinstance(s, syntax.Every)]
        prelude = [s for s in statements if not isinstance(s, (syntax.Route, syntax.Every))]
        app.uses_database = _contains(statements, syntax.DbConnect)
        app.has_routes = bool(routes)
        if routes:
            for k, timer in enumerate(timers, 1):
                seconds = _timer_seconds(timer.interval)
                app.timers.append(Timer(k, seconds, compile_program(prelude + timer.body)))
            for route in routes:
                if not isinstance(route.path, syntax.String):
                    raise StartupError(f"வழி needs a literal path, got {debug_text(route.path)}")
                path = route.path.value
                params = [segment[1:] for segment in split_path(path) if segment.startswith(":")]
                app._register(route.method, path, _compile_handler(prelude + route.body, params), on_register)
        else:
            compiled = _compile_handler(prelude, [])
            for method in OLD_MODEL_METHODS:
                app._register(method, "/", compiled, on_register)
        if health_route if health_route is not None else mode == "reference":
            app._register("GET", "/health", _HealthProgram(), on_register)
        return app

    def _register(
        self, method: str, path: str, compiled: Any, on_register: Callable[[str, str], None] | None
    ) -> None:
        entry = RouteEntry(method, path, compiled, bool(getattr(compiled, "blocking", False)))
        self.routes.append(entry)
        self.router.add(method, path, entry)
        if on_register is not None:
            on_register(method, path)

    @property
    def old_model(self) -> bool:
        return not self.has_routes

    # ------------------------------------------------------------------------------ dispatch

    def dispatch(self, request: Request, ready: Callable[[], str | None] | None = None) -> Dispatch:
        """Decide who answers ``request``; nothing runs here. ``ready`` ("ours" mode, for
        ``/ready``) returns None when ready, else the reason for 503."""
        found = self.router.match(request.method, request.path)
        if found is not None:
            return Dispatch(found.handler, found.path_params)
        if self.mode == "reference":
            return Dispatch(response=not_found())
        method = request.method.upper()
        path = request.path
        if method == "HEAD":
            found = self.router.match("GET", path)
            if found is not None:
                return Dispatch(found.handler, found.path_params, head=True)
        if method in ("GET", "HEAD") and path in ("/health", "/ready"):
            return Dispatch(response=_probe_response(path, ready), head=method == "HEAD")
        allowed = self._allowed(path)
        if not allowed:
            return Dispatch(response=not_found())
        allow = [("Allow", ", ".join(allowed))]
        if method == "OPTIONS":
            return Dispatch(response=Response(204, allow, b"", reason="No Content"))
        return Dispatch(response=error_response(405, '{"error": "Method Not Allowed"}', allow))

    def _allowed(self, path: str) -> list[str]:
        """The methods answering ``path`` in "ours" mode (for ``Allow``); empty: unknown path."""
        allowed = self.router.allowed_methods(path)
        if path in ("/health", "/ready") and "GET" not in allowed:
            allowed.append("GET")
        if not allowed:
            return allowed
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        if "OPTIONS" not in allowed:
            allowed.append("OPTIONS")
        return allowed

    # ------------------------------------------------------------------------------ running

    def run_route(self, dispatch: Dispatch, request: Request, ctx: Any) -> Response:
        """Run the route of ``dispatch`` for ``request`` on ``ctx`` and build its response."""
        route = dispatch.route
        if route is None:
            return dispatch.response or not_found()
        ctx.response = {}  # never let a previous run's response variables leak into this one
        try:
            try:
                compiled = route.compiled
                inject = request_variables(request, dispatch.path_params, ctx, compiled.inputs_used)
                final_globals = compiled.run(ctx, inject, collect=False)
                return build_response(final_globals)
            except DeadlineExceeded as exc:
                _stderr_line(f"❌ Handler execution error: {exc.message}")
                return error_response(503, error_body(exc.message))
            except EtamilError as exc:
                _stderr_line(f"❌ Handler execution error: {exc.message}")
                return handler_error(exc.message)
            except (EtamilExit, KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a runtime defect must not kill the server: a 500 as upstream
                message = _internal_message(exc)
                _stderr_line(f"❌ Handler execution error: {message}")
                return handler_error(message)
        finally:
            ctx.release()


# ------------------------------------------------------------------------------ helpers


def _compile_handler(statements: list[Any], params: list[str]) -> Any:
    """A route's program: the request variables are its inputs, with the kinds they start with
    (the compiler uses them for fast paths; reassignment widens them as usual)."""
    names = request_variable_names(params)
    kinds = {name: _INPUT_KINDS.get(name, "string") for name in names}
    return compile_program(statements, inputs=names, input_kinds=kinds, collect_globals=False)


def _timer_seconds(interval: Any) -> int:
    """Whole seconds of a timer interval literal (fraction dropped, at least 1)."""
    if not isinstance(interval, syntax.Number):
        raise StartupError(f"இடைவெளி needs a literal number of seconds, got {debug_text(interval)}")
    return max(1, int(interval.value.to_integral_value(rounding=ROUND_DOWN)))


def _probe_response(path: str, ready: Callable[[], str | None] | None) -> Response:
    if path == "/health":
        return Response(200, [("Content-Type", JSON)], b'{"status": "healthy"}', reason="OK")
    reason = ready() if ready is not None else None
    if reason is None:
        return Response(200, [("Content-Type", JSON)], b'{"status": "ready"}', reason="OK")
    body = '{"status": ' + json.dumps(reason, ensure_ascii=False) + "}"
    return error_response(503, body)


def _contains(nodes: Any, kind: type) -> bool:
    """Whether a statement list (walked through every nested node) holds a node of ``kind``."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            return True
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, syntax.Node):
            stack.extend(getattr(node, name, None) for name in syntax.node_fields(type(node)))
    return False


def debug_text(expr: Any) -> str:
    """An approximation of upstream's debug rendering of an expression (tests compare only the
    text before it): ``Variable("p")``, ``Number(5)``, ``String("x")``..."""
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


def _internal_message(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _stderr_line(text: str) -> None:
    stream = sys.stderr
    stream.write(text + "\n")
    stream.flush()
