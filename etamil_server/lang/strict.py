"""``etamil check --strict``: two mistakes the reference only finds when the code runs.

1. **A call to a function that exists nowhere**: no builtin has the called spelling, and no
   ``செயல்`` anywhere in the program (after import splicing, so imported modules count) defines it.
   Definition is global and hoisted (LANGUAGE.md §9.4), so where the definition sits does not
   matter; a call is reported wherever it is, even in code that can never run.
2. **A name read before any assignment can reach it**: the read fails with
   ``அறிவிக்கப்படாத மாறி`` on every path that gets there. This is a "may be assigned" analysis: a
   read is reported only when *no* path from the start to it passes an assignment, so a name that
   is assigned in one branch of an if and read after it is not reported. The rules follow the
   language's scopes (LANGUAGE.md §8):

   * **Writes** are ``x = …;``, ``x;``, ``x[i] = …;`` and ``x.f = …;`` (which also *read* ``x``
     first), the for-each variable, ``உள்ளிடு x;`` and the result names of the file, CSV and
     database reads. Blocks do not make scopes.
   * **Flow**: statements in order; after an if, whatever either branch (or skipping it) may have
     assigned; a loop's condition and body see the names its body assigns (from an earlier
     iteration), and after the loop so does the rest; the for-each variable is assigned inside
     its body and possibly after it. Code after ``திரும்பு``, or after a statement that always
     fails when reached (an import inside a block, a nested ``வழி``/``இடைவெளி``, a statement the VM
     has no runtime for), cannot run: its reads are not reported.
   * **The top level** reads globals only. Functions cannot assign globals (§8), so a call never
     changes what the top level has assigned.
   * **Inside a function** a name is read from the call's locals, then from the globals (§8). The
     parameters are assigned on entry; a read is reported when no local assignment reaches it
     *and* the name is not a global anywhere: assigned at the top level of the program, of a
     route body or of a timer body, or set by the server (below). When the function is called
     relative to those top-level assignments is not tracked.
   * **The server** (HOST.md §4.2, §4.6): the top-level statements other than routes and timers
     are the prelude, which runs before every route body and timer body, wherever it is written;
     so a route or timer body starts with what the whole prelude may have assigned. The request
     variables (``request_method``, ``request_path``, ``request_body``, ``query_params``,
     ``headers``, ``path_params``, ``request_fields``, ``request_files``) count as assigned
     everywhere, since the server binds them for routes and for a program without routes alike
     (§4.13); ``param_<name>`` is assigned in a route whose path has a ``:name`` segment, and in
     the prelude and in functions when any route has one.
   * ``response_status``, ``response_body``, ``response_headers`` and ``response_file`` are never
     reported: ``பதில்`` and ``பதில்_கோப்பு`` set them from anywhere, even inside a function (§4.7).

The front end knows nothing of the runtime (imports point down only), so the caller passes the
builtin spellings (``etamil_server.families.load_families()``'s keys). Messages follow the
checker's format, line and column first, with the runtime's Tamil text; a finding in an imported
file names that file.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from . import syntax as ast

#: HOST.md §4.6: the globals the server binds before a handler runs
REQUEST_VARIABLES = frozenset(
    {
        "request_method",
        "request_path",
        "request_body",
        "query_params",
        "headers",
        "path_params",
        "request_fields",
        "request_files",
    }
)
#: HOST.md §4.7: set by பதில் and பதில்_கோப்பு from anywhere, so never reported
RESPONSE_VARIABLES = frozenset({"response_status", "response_body", "response_headers", "response_file"})

#: A state is the set of names that may be assigned at a point, or None where no code can run.
State = set[str] | None


def unknown_function(line: int, column: int, name: str, where: str = "") -> str:
    return (
        f"வரி {line}, நெடுவரிசை {column}: அறியப்படாத செயல் '{name}'  "
        f"(line {line}, column {column}{where}: unknown function '{name}': "
        "no builtin, definition or import has this name)"
    )


def unassigned_read(line: int, column: int, name: str, where: str = "") -> str:
    return (
        f"வரி {line}, நெடுவரிசை {column}: அறிவிக்கப்படாத மாறி '{name}'  "
        f"(line {line}, column {column}{where}: undefined variable '{name}': "
        "it is read before any assignment can reach it)"
    )


def route_parameters(route: ast.Route) -> set[str]:
    """The ``param_<name>`` variables the server binds for ``route`` (HOST.md §4.3, §4.6)."""
    if not isinstance(route.path, ast.String):
        return set()  # the server refuses to start (§4.2): nothing is bound
    return {"param_" + segment[1:] for segment in route.path.value.split("/") if segment.startswith(":")}


def _join(one: State, two: State) -> State:
    if one is None:
        return two
    if two is None:
        return one
    return one | two


#: route and timer bodies count for which functions exist: the server compiles them with the
#: prelude, so the functions defined in them exist there
_FUNCTION_HOLDERS = (*ast.BLOCK_STATEMENTS, ast.FunctionDef, ast.Route, ast.Every)


def _function_names(statements: list[ast.Stmt]) -> set[str]:
    """Every function the program defines, at any depth (route and timer bodies included)."""
    return {s.name for s in ast.statements_in(statements, _FUNCTION_HOLDERS) if isinstance(s, ast.FunctionDef)}


class _Analysis:
    def __init__(self, program: ast.Program, builtins: Collection[str]):
        self.main_file = program.path
        self.callable = set(builtins) | _function_names(program.statements)
        top = program.statements
        self.routes = [s for s in top if isinstance(s, ast.Route)]
        self.prelude = [s for s in top if not isinstance(s, ast.Route | ast.Every)]
        self.all_parameters = set().union(*(route_parameters(route) for route in self.routes))
        server_bound = REQUEST_VARIABLES | self.all_parameters
        top_bodies = [self.prelude, *(s.body for s in top if isinstance(s, ast.Route | ast.Every))]
        #: a function may read any of these from the globals
        self.globals_anywhere = server_bound.union(*(ast.assigned_in(body) for body in top_bodies))
        self.findings: list[str] = []
        self.reporting = False
        self.in_function = False
        self.file: str | None = None
        # what the whole prelude may have assigned: where every route and timer body starts
        self.prelude_end = self.block(self.prelude, set(server_bound))

    def run(self, statements: list[ast.Stmt]) -> list[str]:
        self.reporting = True
        state: State = set(REQUEST_VARIABLES | self.all_parameters)
        for statement in statements:
            self.file = ast.origin(statement) or self.file
            if isinstance(statement, ast.Route | ast.Every):
                self.block(statement.body, self.body_start(statement))
            else:
                state = self.statement(statement, state)
        return self.findings

    def body_start(self, statement: ast.Route | ast.Every) -> State:
        """What may be assigned when a top-level route or timer body starts: the whole prelude
        has run (None: the prelude never finishes), and for a route the request variables."""
        if self.prelude_end is None:
            return None
        if isinstance(statement, ast.Route):
            return self.prelude_end | REQUEST_VARIABLES | route_parameters(statement)
        return set(self.prelude_end)

    # ------------------------------------------------------------------ reporting

    def where(self) -> str:
        if self.file is None or self.file == self.main_file:
            return ""
        relative = os.path.relpath(self.file)
        return " in " + (self.file if relative.startswith("..") else relative)

    def reads(self, expr: ast.Expr | None, state: State) -> None:
        for node in ast.walk(expr):
            if isinstance(node, ast.Var):
                self.read(node.name, node.line, node.column, state)
            elif isinstance(node, ast.Call) and self.reporting and node.name not in self.callable:
                self.findings.append(unknown_function(node.line, node.column, node.name, self.where()))

    def read(self, name: str, line: int, column: int, state: State) -> None:
        if not self.reporting or state is None or name in state or name in RESPONSE_VARIABLES:
            return
        if self.in_function and name in self.globals_anywhere:
            return
        self.findings.append(unassigned_read(line, column, name, self.where()))

    # ------------------------------------------------------------------ flow

    def block(self, statements: list[ast.Stmt], state: State) -> State:
        for statement in statements:
            state = self.statement(statement, state)
        return state

    def function(self, definition: ast.FunctionDef) -> None:
        outer_file, outer_scope = self.file, self.in_function
        self.file = ast.origin(definition) or self.file
        self.in_function = True
        self.block(definition.body, set(definition.params))
        self.file, self.in_function = outer_file, outer_scope

    def statement(self, statement: ast.Stmt, state: State) -> State:
        if isinstance(statement, ast.Assign):
            self.reads(statement.value, state)
        elif isinstance(statement, ast.SetIndex):
            self.reads(statement.index, state)
            self.reads(statement.value, state)
            self.read(statement.name, statement.line, statement.column, state)
        elif isinstance(statement, ast.SetField):
            self.reads(statement.value, state)
            self.read(statement.name, statement.line, statement.column, state)
        elif isinstance(statement, ast.CallStmt):
            self.reads(statement.call, state)
        elif isinstance(statement, ast.Return):
            self.reads(statement.value, state)
            return None
        elif isinstance(statement, ast.If):
            self.reads(statement.condition, state)
            then = self.block(statement.then, None if state is None else set(state))
            otherwise = self.block(statement.otherwise or [], None if state is None else set(state))
            return _join(then, otherwise)
        elif isinstance(statement, ast.While):
            head = None if state is None else state | ast.assigned_in(statement.body)
            self.reads(statement.condition, head)
            self.block(statement.body, None if head is None else set(head))
            return head
        elif isinstance(statement, ast.ForEach):
            self.reads(statement.collection, state)
            head = None if state is None else state | {statement.var} | ast.assigned_in(statement.body)
            self.block(statement.body, None if head is None else set(head))
            return head
        elif isinstance(statement, ast.FunctionDef):
            if self.reporting:
                self.function(statement)
            return state  # executing a definition does nothing (§9.4)
        elif isinstance(statement, ast.Route | ast.Every):
            # not at the top level: it fails when reached, and its body never runs (HOST.md §4.2)
            self.block(statement.body, None)
            return None
        elif isinstance(statement, ast.Import | ast.Unsupported):
            return None  # fails when reached
        else:  # the host statements: they read their expressions, some write a name
            for expr in ast.expressions(statement):
                self.reads(expr, state)
        if state is not None:
            state.update(ast.assigned_names(statement))
        return state


def strict_findings(program: ast.Program | list[ast.Stmt], builtins: Collection[str]) -> list[str]:
    """What ``check --strict`` reports beyond the type checker, in program order (empty: nothing
    found). ``builtins``: every builtin spelling the program can call."""
    if not isinstance(program, ast.Program):
        program = ast.Program(list(program))
    return _Analysis(program, builtins).run(program.statements)
