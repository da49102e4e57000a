"""A program as an HTTP application: its routes, its timers, and what answers a request
(HOST.md §4.2-4.4, §4.9-4.13).

Interface::

    app = App.from_program(program, mode="ours" | "reference")   # may raise StartupError
    d = app.dispatch(request, endpoints)                         # decide; runs nothing
    if d.response is not None: answer d.response                 # 404, 405, /health, preflight...
    else: response = app.run_route(d, request, ctx)              # synchronous; on a thread when
                                                                 # d.blocking, else inline
    for timer in app.timers: timer.run(ctx) every timer.seconds

``App.from_program`` takes the program's shape (``lang.shape``: routes, timers and prelude in
source order), checks timer intervals (before routes) and route paths, and compiles each route's
program (prelude + body, the request variables as inputs) and each timer's program (prelude +
body) once; the response variables come back in the run's final globals (the compiler keeps them
in ``ctx.response``). A program without routes is the old whole-program model (§4.13): it answers
GET/POST/PUT/DELETE ``/`` and its timers are dropped.
``on_register(method, path)`` is called as each route is registered (the sync server logs there,
so routes registered before a bad one are already logged, as upstream).

Modes:

* ``"reference"``: exactly §4.4/§4.9/§4.10. ``health_route=True`` (the default in this mode, as
  ``--server`` does; pass False for a reference ``--async``) registers the built-in ``GET /health``
  last, which prints ``200`` on stdout and answers ``Handler executed successfully``. Path
  parameters are the raw segments, as the reference gives them.
* ``"ours"``: HEAD answered by a GET route (the serializer drops the body); OPTIONS on an existing
  path without an OPTIONS route -> 204 with ``Allow`` (this is the CORS preflight answer); an
  existing path with another method -> 405 with ``Allow``; the server's own endpoints
  (``web/endpoints.py``: ``/health``, ``/ready``, ``/metrics``) for what no program route answers;
  else 404. Path parameters are percent-decoded (``%20`` -> space, UTF-8), as web frameworks do.

``run_route`` turns a runtime error into the 500 of §4.9 (and logs ``❌ Handler execution error:
{message}``, then the route, the file and line of the failing statement and the request id when
the server gave the request one, see ``logs.handler_error_line``), a passed deadline and ("ours"
mode) a database that cannot be reached (``DatabaseUnavailable``: ``/ready`` is told at once) into
a 503 with a JSON body; ``EtamilExit``
propagates (it ends the process). A handler header the "ours" serializer refuses (``HeaderInjection``) is the caller's to
answer: ``handler_error(str(exc))`` and a log line. Database leases are given back
(``ctx.release()``) after the response has been built and before it is written (§4.11).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import unquote

from ..base.errors import DatabaseUnavailable, DeadlineExceeded, EtamilError, EtamilExit, Location
from ..base.terminal import shown_path
from ..lang.shape import ProgramShape, program_shape
from ..runtime.compiler import compile_program
from .endpoints import NO_ENDPOINTS, ServerEndpoints
from .logs import ERROR_LOG, handler_error_line
from .request import Request, request_variable_names, request_variables
from .resources import note_database_failure
from .response import Response, build_response, error_body, error_response, handler_error, not_found
from .router import Router

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


class Runnable(Protocol):
    """A compiled handler or timer program (``runtime.compiler.Compiled``, or the built-in
    ``/health`` of the reference server)."""

    blocking: bool
    inputs_used: frozenset[str]

    def run(self, ctx: Any, inject: dict[str, Any] | None = None, collect: bool = True) -> dict[str, Any]: ...


@dataclass
class RouteEntry:
    """One registered route (``routes`` keeps every registration, duplicates included)."""

    method: str
    path: str
    compiled: Runnable
    blocking: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Timer:
    """A top-level ``இடைவெளி`` job: ``index`` is k (1-based among the program's timers)."""

    index: int
    seconds: int
    compiled: Runnable

    @property
    def blocking(self) -> bool:
        return self.compiled.blocking

    def run(self, ctx: Any) -> bool:
        """One tick in a fresh run without request variables. A failure is logged (HOST.md
        §4.12's line) and returns False; ``EtamilExit`` propagates."""
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
        ERROR_LOG.error("❌ இடைவெளி #%s every %ss failed: %s", self.index, self.seconds, message)
        return False


@dataclass
class Dispatch:
    """What to do with a request: run ``route`` (with ``path_params``) or send ``response`` (a
    future for an endpoint answered off the loop, such as ``/metrics``)."""

    route: RouteEntry | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    response: Response | asyncio.Future | None = None

    @property
    def blocking(self) -> bool:
        return self.route is not None and self.route.blocking


class _HealthProgram:
    """The reference ``--server``'s built-in ``GET /health``: prints ``200``, sets nothing."""

    blocking = False
    inputs_used: frozenset[str] = frozenset()

    def run(self, ctx: Any, inject: dict[str, Any] | None = None, collect: bool = True) -> dict[str, Any]:
        ctx.print(Decimal(200))
        return {}


class App:
    def __init__(self, mode: str, shape: ProgramShape | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.routes: list[RouteEntry] = []
        self.timers: list[Timer] = []
        self.router = Router()
        self.has_routes = bool(shape and shape.has_routes)
        #: whether the program connects to a database anywhere (``/ready`` then watches it)
        self.uses_database = bool(shape and shape.uses_database)
        #: the program's ``தளம்_இணை`` to PostgreSQL, (line, column, recipe or None), and its file:
        #: the timers' cluster-wide leadership uses them (web/timers.py)
        self.postgres_connects = list(shape.postgres) if shape else []
        self.path = shape.path if shape else None
        self._decode = mode == "ours"

    # ------------------------------------------------------------------------------ building

    @classmethod
    def from_program(
        cls,
        program: Any,
        *,
        mode: str,
        health_route: bool | None = None,
        on_register: Callable[[str, str], None] | None = None,
    ) -> App:
        """Compile a loaded program (``lang.loader``'s result) into an app."""
        shape = program_shape(program)
        app = cls(mode, shape)
        prelude = shape.prelude
        if shape.has_routes:
            for timer in shape.timers:
                if timer.seconds is None:
                    raise StartupError(f"இடைவெளி needs a literal number of seconds, got {timer.interval_text}")
                app.timers.append(Timer(timer.index, timer.seconds, compile_program(prelude + timer.statements)))
            for route in shape.routes:
                if route.path is None:
                    raise StartupError(f"வழி needs a literal path, got {route.path_text}")
                compiled = _compile_handler(prelude + route.statements, route.params)
                app._register(route.method, route.path, compiled, on_register)
        else:
            compiled = _compile_handler(prelude, [])
            for method in OLD_MODEL_METHODS:
                app._register(method, "/", compiled, on_register)
        if health_route if health_route is not None else mode == "reference":
            app._register("GET", "/health", _HealthProgram(), on_register)
        return app

    def _register(
        self, method: str, path: str, compiled: Runnable, on_register: Callable[[str, str], None] | None
    ) -> None:
        entry = RouteEntry(method, path, compiled, compiled.blocking)
        self.routes.append(entry)
        self.router.add(method, path, entry)
        if on_register is not None:
            on_register(method, path)

    @property
    def old_model(self) -> bool:
        return not self.has_routes

    # ------------------------------------------------------------------------------ dispatch

    def dispatch(self, request: Request, endpoints: ServerEndpoints = NO_ENDPOINTS) -> Dispatch:
        """Decide who answers ``request``; nothing runs here. ``endpoints`` ("ours" mode) are the
        server's own (``/health``, ``/ready``, ``/metrics``), for paths no program route answers."""
        found = self.router.match(request.method, request.path)
        if found is not None:
            return Dispatch(found.handler, self._params(found.path_params))
        if self.mode == "reference":
            return Dispatch(response=not_found())
        method = request.method.upper()
        path = request.path
        if method == "HEAD":
            found = self.router.match("GET", path)
            if found is not None:
                return Dispatch(found.handler, self._params(found.path_params))
        if method in ("GET", "HEAD") and path in endpoints.paths:
            return Dispatch(response=endpoints.answer(path))
        allowed = self._allowed(path, endpoints)
        if not allowed:
            return Dispatch(response=not_found())
        allow = [("Allow", ", ".join(allowed))]
        if method == "OPTIONS":
            return Dispatch(response=Response(204, allow, b"", reason="No Content"))
        return Dispatch(response=error_response(405, '{"error": "Method Not Allowed"}', allow))

    def _params(self, raw: dict[str, str]) -> dict[str, str]:
        if not self._decode or not raw:
            return raw
        for value in raw.values():  # most requests have nothing to decode: no new dict for them
            if "%" in value:
                break
        else:
            return raw
        return {name: unquote(value, errors="replace") if "%" in value else value for name, value in raw.items()}

    def _allowed(self, path: str, endpoints: ServerEndpoints) -> list[str]:
        """The methods answering ``path`` in "ours" mode (for ``Allow``); empty: unknown path."""
        allowed = self.router.allowed_methods(path)
        if path in endpoints.paths and "GET" not in allowed:
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
            response = dispatch.response
            return response if isinstance(response, Response) else not_found()
        ctx.response = {}  # never let a previous run's response variables leak into this one
        try:
            try:
                compiled = route.compiled
                inject = request_variables(request, dispatch.path_params, ctx, compiled.inputs_used)
                final_globals = compiled.run(ctx, inject, collect=False)
                return build_response(final_globals)
            except DeadlineExceeded as exc:
                _log_handler_error(exc.message, route, request, exc.location)
                return error_response(503, error_body(exc.message))
            except DatabaseUnavailable as exc:
                _log_handler_error(exc.message, route, request, exc.location)
                if self.mode == "reference":  # etamil --server: the reference's 500, byte for byte
                    return handler_error(exc.message)
                if exc.down:
                    note_database_failure(exc.message)
                # the request may succeed when retried: 503, not the 500 of a handler's defect
                return error_response(503, error_body("Database unavailable: " + exc.message))
            except EtamilError as exc:
                _log_handler_error(exc.message, route, request, exc.location)
                return handler_error(exc.message)
            except (EtamilExit, KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a runtime defect must not kill the server: a 500 as upstream
                message = _internal_message(exc)
                _log_handler_error(message, route, request)
                return handler_error(message)
        finally:
            ctx.release()


# ------------------------------------------------------------------------------ helpers


def _compile_handler(statements: list[Any], params: list[str]) -> Runnable:
    """A route's program: the request variables are its inputs, with the kinds they start with
    (the compiler uses them for fast paths; reassignment widens them as usual)."""
    names = request_variable_names(params)
    kinds = {name: _INPUT_KINDS.get(name, "string") for name in names}
    return compile_program(statements, inputs=names, input_kinds=kinds, collect_globals=False)


def _log_handler_error(message: str, route: RouteEntry, request: Request, where: Location | None = None) -> None:
    """The handler-error line; with the route, the file and line of the error when known, and the
    request id, when the server gave the request an id (the reference ``--server`` does not: its
    line stays the reference's)."""
    if request.request_id:
        file = shown_path(where.file) if where is not None and where.file else None
        line = where.line if where is not None else None
        ERROR_LOG.error("%s", handler_error_line(message, route=route.label, request_id=request.request_id,
                                                 file=file, line=line))
    else:
        ERROR_LOG.error("%s", handler_error_line(message))


def _internal_message(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
