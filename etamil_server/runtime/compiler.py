"""The compiler: a syntax tree -> one Python code object, compiled once, run many times.

Why generated Python: CPython runs its own bytecode far faster than any interpreter loop written in
Python can run ours. A program becomes a module with

* one Python function per eTamil function (a *closure* inside the run function when it may read a
  global or write a response variable, a plain module-level function otherwise), and
* ``__run(_rt, _inj)``, the top-level code, whose Python locals are the program's globals — so a
  fresh call is a fresh set of globals, and global access is a fast local/cell access.

Language rules the generated code keeps (LANGUAGE.md §8–§11):

* a function reads its own locals first, then globals; it always *writes* locals. Whether a local
  is bound yet is decided at run time only where a static check cannot decide it.
* functions are hoisted; the last definition of a name wins for every call; user functions hide
  builtins; arity is checked after the arguments are evaluated.
* arithmetic on operands known to be numbers uses plain ``Decimal`` operators under
  :data:`numbers.FAST_CONTEXT`; if an operation traps (result would need rounding), that one
  operation is redone on the exact path. Expressions are flattened into statements where that is
  needed, preserving left-to-right evaluation.
* every loop iteration and every function entry checks the run's ``stop`` list (deadlines), and
  calls carry their depth (the 256-frame limit).
"""

from __future__ import annotations

import decimal
import re
import sys
from decimal import Decimal
from typing import Any

from ..base.errors import EtamilError, undefined_variable
from ..base.numbers import FAST_CONTEXT, MAX_COEFFICIENT, ZERO
from ..lang import syntax as ast
from . import limits, native, ops
from .builtins import Builtin, registry
from .context import RunContext
from .values import display

# kinds, as bits. I is a number known to be whole with scale 0 and never negative zero (counters,
# whole literals, sums and products of such): adding it to anything needs no zero-operand check.
N, S, B, NIL, A, R, RES, I = 1, 2, 4, 8, 16, 32, 64, 128  # noqa: E741 - the kinds read best short
ALL = 255
NUMERIC = N | I
_RETURN_KINDS = {"number": N, "string": S, "boolean": B, "array": A, "record": R, "result": RES}

RESPONSE_VARIABLES = ("response_status", "response_body", "response_headers", "response_file")
_BLOCKING_STATEMENTS = (ast.Input, ast.FileOpen, ast.FileWrite, ast.FileRead, ast.DbConnect,
                        ast.DbDisconnect, ast.DbExecute, ast.DbQuery)


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()


# ============================================================================== analysis


def _walk_functions(statements: list[ast.Stmt], into: dict[str, ast.FunctionDef]) -> None:
    """Every function definition, program order; later ones replace earlier ones (§9.4).
    Route and timer bodies are not code of this program (they are never compiled here)."""
    for statement in statements:
        if isinstance(statement, ast.FunctionDef):
            into[statement.name] = statement
            _walk_functions(statement.body, into)
        elif isinstance(statement, ast.If):
            _walk_functions(statement.then, into)
            if statement.otherwise:
                _walk_functions(statement.otherwise, into)
        elif isinstance(statement, ast.While | ast.ForEach):
            _walk_functions(statement.body, into)


def _scope_statements(body: list[ast.Stmt]):
    """Statements of one scope: descends into blocks but not into nested function bodies."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from _scope_statements(statement.then)
            if statement.otherwise:
                yield from _scope_statements(statement.otherwise)
        elif isinstance(statement, ast.While | ast.ForEach):
            yield from _scope_statements(statement.body)


def _expressions(statement: ast.Stmt):
    """The expressions a statement evaluates (not those of nested statements)."""
    for name in ("value", "index", "condition", "collection", "path", "data", "connection", "sql",
                 "params", "status", "body", "headers", "target"):
        value = getattr(statement, name, None)
        if isinstance(value, ast.Node) and not isinstance(value, list):
            if isinstance(statement, ast.Route | ast.Every | ast.Unsupported):
                continue
            if isinstance(value, (ast.Number, ast.String, ast.Bool, ast.Nil, ast.ArrayLit, ast.RecordLit,
                                  ast.Var, ast.Call, ast.Index, ast.Field, ast.Try, ast.Neg, ast.Not,
                                  ast.Binary, ast.Logical)):
                yield value
    if isinstance(statement, ast.CallStmt):
        yield statement.call


def _subexpressions(expr: ast.Expr):
    yield expr
    if isinstance(expr, ast.ArrayLit):
        for item in expr.items:
            yield from _subexpressions(item)
    elif isinstance(expr, ast.RecordLit):
        for _, item in expr.entries:
            yield from _subexpressions(item)
    elif isinstance(expr, ast.Call):
        for item in expr.args:
            yield from _subexpressions(item)
    elif isinstance(expr, ast.Index):
        yield from _subexpressions(expr.base)
        yield from _subexpressions(expr.index)
    elif isinstance(expr, ast.Field | ast.Try | ast.Neg | ast.Not):
        yield from _subexpressions(expr.base if isinstance(expr, ast.Field) else expr.operand)
    elif isinstance(expr, ast.Binary | ast.Logical):
        yield from _subexpressions(expr.left)
        yield from _subexpressions(expr.right)


def _written_names(statement: ast.Stmt) -> list[str]:
    if isinstance(statement, ast.Assign | ast.SetIndex | ast.SetField):
        return [statement.name]
    if isinstance(statement, ast.ForEach):
        return [statement.var]
    if isinstance(statement, ast.Input) and isinstance(statement.target, ast.Var):
        return [statement.target.name]
    if isinstance(statement, ast.FileRead | ast.DbQuery):
        return [statement.target]
    return []


class _Scope:
    """One function's (or the top level's) variables."""

    def __init__(self, function: ast.FunctionDef | None):
        self.function = function
        self.written: set[str] = set()
        self.kinds: dict[str, int] = {}
        self.reads_globals: set[str] = set()
        self.calls: set[str] = set()
        self.uses_try = False
        self.needs_closure = False
        self.blocking = False


class _Names:
    """Mangling: eTamil names are arbitrary Unicode (and NFKC would merge distinct Tamil names), so
    every Python name is ASCII: ``g<n>_<ascii hint>`` for globals, ``l<n>_...`` for locals."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.reverse: dict[int, str] = {}

    def number(self, name: str) -> int:
        if name not in self.numbers:
            self.numbers[name] = len(self.numbers)
            self.reverse[self.numbers[name]] = name
        return self.numbers[name]

    def python(self, prefix: str, name: str) -> str:
        hint = re.sub(r"[^A-Za-z0-9_]", "", name)[:20]
        return f"{prefix}{self.number(name)}_{hint}"


_MANGLED = re.compile(r"\b[gl](\d+)_[A-Za-z0-9_]*")


# ============================================================================== code generation


class _Code:
    """A generated expression: its text and whether it is an atom (safe to repeat, no effects).

    ``unboxed``: the text evaluates to a Python ``int`` standing for a whole number of kind I
    (see :meth:`_Generator.unboxed_variables`); ``whole`` is the int of a whole-number constant."""

    __slots__ = ("text", "kind", "atom", "constant", "unboxed", "whole", "bounds")

    def __init__(self, text: str, kind: int, atom: bool = False, constant: bool = False,
                 unboxed: bool = False, whole: int | None = None, bounds: tuple[int, int] | None = None):
        self.text = text
        self.kind = kind
        self.atom = atom
        self.constant = constant
        self.unboxed = unboxed
        self.whole = whole
        # for unboxed whole numbers: an interval the value is known to lie in (see _Flow)
        self.bounds = bounds if bounds is not None else ((whole, whole) if whole is not None else None)


class _Generator:
    def __init__(self, statements: list[ast.Stmt], inputs: frozenset[str], input_kinds: dict[str, int],
                 hidden_loop_variables: bool = False, builtins: dict[str, Builtin] | None = None):
        self.builtins = registry() if builtins is None else builtins
        self.statements = statements
        self.hidden_loop_variables = hidden_loop_variables
        self.collect_globals = True
        self.inputs_used: frozenset[str] = frozenset()
        self.loop_numbers: dict[int, int] = {}
        if hidden_loop_variables:
            self._number_loops(statements)
        self.inputs = inputs
        self.input_kinds = input_kinds
        self.names = _Names()
        self.constants: dict[Any, str] = {}
        self.namespace: dict[str, Any] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        _walk_functions(statements, self.functions)
        try:  # the bundled library's functions that run natively (runtime/native): name -> binder
            self.native = native.bindings(self.functions)
        except native.SwitchError as error:
            raise CompileError(str(error)) from None
        self.function_python: dict[str, str] = {}
        for index, name in enumerate(self.functions):
            self.function_python[name] = f"F{index}_{re.sub(r'[^A-Za-z0-9_]', '', name)[:20]}"
        self.top = _Scope(None)
        self.scopes: dict[str, _Scope] = {name: _Scope(fn) for name, fn in self.functions.items()}
        self.global_names: set[str] = set(inputs)
        self.temp_counter = 0
        self._analyse()

    def _number_loops(self, statements: list[ast.Stmt]) -> None:
        """Upstream's for-each keeps two hidden variables per loop, numbered in program order."""
        for statement in statements:
            if isinstance(statement, ast.ForEach):
                self.loop_numbers[id(statement)] = len(self.loop_numbers)
            for name in ("then", "otherwise", "body"):
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and not isinstance(statement, ast.Route | ast.Every):
                    self._number_loops(inner)

    # ------------------------------------------------------------------ analysis
    def _analyse(self) -> None:
        top = self.top
        for statement in _scope_statements(self.statements):
            top.written.update(_written_names(statement))
        self.global_names |= top.written
        for name, scope in self.scopes.items():
            fn = self.functions[name]
            scope.written.update(fn.params)
            for statement in _scope_statements(fn.body):
                scope.written.update(_written_names(statement))
        # calls, reads of globals, ``?``, blocking operations
        for scope, body in [(top, self.statements)] + [(s, s.function.body) for s in self.scopes.values()]:
            for statement in _scope_statements(body):
                if isinstance(statement, _BLOCKING_STATEMENTS):
                    scope.blocking = True
                for expr in _expressions(statement):
                    for sub in _subexpressions(expr):
                        if isinstance(sub, ast.Call):
                            scope.calls.add(sub.name)
                            target = self.builtins.get(sub.name)
                            if sub.name not in self.functions and target is not None and target.blocking:
                                scope.blocking = True
                        elif isinstance(sub, ast.Try):
                            scope.uses_try = True
                        elif isinstance(sub, ast.Var) and scope is not top and sub.name not in scope.written:
                            if sub.name in self.global_names or sub.name in RESPONSE_VARIABLES:
                                scope.reads_globals.add(sub.name)
                for name in _written_names(statement):
                    if isinstance(statement, ast.SetIndex | ast.SetField) and scope is not top:
                        if name in self.global_names:
                            scope.reads_globals.add(name)  # element assignment reads the global first
            if scope is not top:
                # a local that may be read before it is bound falls back to the global
                for name in scope.written:
                    if name in self.global_names:
                        scope.reads_globals.add(name)
        # closures: reading a global cell or writing a response, or calling a function that must
        changed = True
        for scope in self.scopes.values():
            scope.needs_closure = bool(
                (scope.reads_globals - set(RESPONSE_VARIABLES)) and self._global_cells(scope)
            )
        while changed:
            changed = False
            for scope in self.scopes.values():
                if not scope.needs_closure and any(
                    self.scopes[c].needs_closure for c in scope.calls if c in self.scopes
                ):
                    scope.needs_closure = changed = True
        # blocking reachability
        changed = True
        while changed:
            changed = False
            for scope in [top, *self.scopes.values()]:
                if not scope.blocking and any(self.scopes[c].blocking for c in scope.calls if c in self.scopes):
                    scope.blocking = changed = True
        self._infer_kinds()
        self.unboxed = self.unboxed_variables()
        self.nonnegative = {key: self._nonnegative(scope) for key, scope in self._scopes_by_id().items()}

    def unboxed_variables(self) -> dict[int, set[str]]:
        """Variables held as Python ints instead of Decimals: whole numbers of scale 0 (kind I
        exactly) that only this scope's code touches — a top-level global no function reads and
        nobody injects, or a function local that never falls back to a global. Counters and
        indexes then cost a machine-integer operation, not a decimal one; they are boxed back to
        ``Decimal`` wherever they leave arithmetic (calls, printing, storing, the globals dump)."""
        result: dict[int, set[str]] = {}
        read_by_functions: set[str] = set()
        for scope in self.scopes.values():
            read_by_functions |= scope.reads_globals
        top_names = {
            name for name, kind in self.top.kinds.items()
            if kind == I and name not in read_by_functions and name not in self.inputs
            and name not in RESPONSE_VARIABLES
        }
        result[id(self.top)] = top_names
        for scope in self.scopes.values():
            params = set(scope.function.params)
            result[id(scope)] = {
                name for name, kind in scope.kinds.items()
                if kind == I and name not in self.global_names and name not in params
                and name not in RESPONSE_VARIABLES
            }
        return result

    def _scopes_by_id(self) -> dict[int, _Scope]:
        return {id(scope): scope for scope in [self.top, *self.scopes.values()]}

    def _nonnegative(self, scope: _Scope) -> set[str]:
        """Unboxed variables that are never negative: every assignment is a literal, another such
        variable, or a sum or product of them (an optimistic fixed point, so counters qualify)."""
        body = self.statements if scope is self.top else scope.function.body
        candidates = set(self.unboxed[id(scope)])
        assignments = [st for st in _scope_statements(body) if isinstance(st, ast.Assign) and st.name in candidates]

        def nonnegative(expr) -> bool:
            if expr is None or isinstance(expr, ast.Number):
                return True
            if isinstance(expr, ast.Var):
                return expr.name in candidates
            if isinstance(expr, ast.Binary) and expr.op in ("+", "*"):
                return nonnegative(expr.left) and nonnegative(expr.right)
            return False

        changed = True
        while changed:
            changed = False
            for statement in assignments:
                if statement.name in candidates and not nonnegative(statement.value):
                    candidates.discard(statement.name)
                    changed = True
        return candidates

    def default_bounds(self, name: str, scope: _Scope) -> tuple[int, int]:
        low = 0 if name in self.nonnegative[id(scope)] else -MAX_COEFFICIENT
        return low, MAX_COEFFICIENT

    def guard(self, condition: ast.Expr, scope: _Scope, flow: _Flow) -> None:
        """Narrow an unboxed variable's interval by a condition known to hold (``v < 10``)."""
        if not isinstance(condition, ast.Binary) or condition.op not in ("<", "<=", ">", ">="):
            return
        left, right, op = condition.left, condition.right, condition.op
        if isinstance(left, ast.Number) and isinstance(right, ast.Var):
            left, right, op = right, left, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        if not (isinstance(left, ast.Var) and isinstance(right, ast.Number) and _is_whole_literal(right.value)):
            return
        if not self.is_unboxed(left.name, scope):
            return
        limit = int(right.value)
        low, high = flow.bounds.get(left.name) or self.default_bounds(left.name, scope)
        if op == "<":
            high = min(high, limit - 1)
        elif op == "<=":
            high = min(high, limit)
        elif op == ">":
            low = max(low, limit + 1)
        else:
            low = max(low, limit)
        flow.bounds[left.name] = (low, high)

    def is_unboxed(self, name: str, scope: _Scope) -> bool:
        return name in self.unboxed[id(scope)]

    def _global_cells(self, scope: _Scope) -> set[str]:
        return {n for n in scope.reads_globals if n in self.global_names and n not in RESPONSE_VARIABLES}

    def _infer_kinds(self) -> None:
        """Which kinds each variable can hold: a fixed point over all assignments (sound: a kind
        set only grows). Injected globals get the kinds the caller declares (default: any)."""
        top = self.top
        for name in self.global_names:
            top.kinds[name] = 0
        for name in self.inputs:
            top.kinds[name] = self.input_kinds.get(name, ALL)
        for scope in self.scopes.values():
            for name in scope.written:
                scope.kinds[name] = 0
            for name in scope.function.params:
                scope.kinds[name] = ALL
        for _ in range(50):
            changed = False
            for scope, body in [(top, self.statements)] + [(s, s.function.body) for s in self.scopes.values()]:
                for statement in _scope_statements(body):
                    for name, kind in self._statement_writes(statement, scope):
                        if scope.kinds.get(name, 0) | kind != scope.kinds.get(name, 0):
                            scope.kinds[name] = scope.kinds.get(name, 0) | kind
                            changed = True
            if not changed:
                break
        else:  # pragma: no cover - the lattice is finite; this is only a guard
            for scope in [top, *self.scopes.values()]:
                for name in scope.kinds:
                    scope.kinds[name] = ALL

    def _statement_writes(self, statement: ast.Stmt, scope: _Scope):
        if isinstance(statement, ast.Assign):
            yield statement.name, (N if statement.value is None else self.kind_of(statement.value, scope))
        elif isinstance(statement, ast.SetIndex | ast.SetField):
            yield statement.name, A | R
        elif isinstance(statement, ast.ForEach):
            collection = self.kind_of(statement.collection, scope)
            yield statement.var, (S if collection and not collection & ~(R | S) else ALL)
        elif isinstance(statement, ast.Input) and isinstance(statement.target, ast.Var):
            yield statement.target.name, S
        elif isinstance(statement, ast.FileRead):
            yield statement.target, N if statement.csv else S
        elif isinstance(statement, ast.DbQuery):
            yield statement.target, A

    def var_kind(self, name: str, scope: _Scope) -> int:
        if name in RESPONSE_VARIABLES and name not in scope.written:
            return ALL
        if scope is self.top:
            return self.top.kinds.get(name, ALL) or ALL
        kind = scope.kinds.get(name, 0)
        if name not in scope.written or name in self.global_names:
            kind |= self.top.kinds.get(name, 0)
        return kind or ALL

    def kind_of(self, expr: ast.Expr, scope: _Scope) -> int:
        if isinstance(expr, ast.Number):
            return I if _is_whole_literal(expr.value) else N
        if isinstance(expr, ast.Neg):
            return I if self.kind_of(expr.operand, scope) == I else N
        if isinstance(expr, ast.String):
            return S
        if isinstance(expr, ast.Bool | ast.Not | ast.Logical):
            return B
        if isinstance(expr, ast.Nil):
            return NIL
        if isinstance(expr, ast.ArrayLit):
            return A
        if isinstance(expr, ast.RecordLit):
            return R
        if isinstance(expr, ast.Binary):
            if expr.op in "+-*":
                both = self.kind_of(expr.left, scope) == I and self.kind_of(expr.right, scope) == I
                return I if both else N
            if expr.op == "/":
                return N
            if expr.op == "&":
                return S
            return B
        if isinstance(expr, ast.Var):
            return self.var_kind(expr.name, scope)
        if isinstance(expr, ast.Call):
            if expr.name not in self.functions:
                target = self.builtins.get(expr.name)
                if target is not None and target.returns and len(expr.args) == target.arity:
                    return _RETURN_KINDS[target.returns]
            return ALL
        return ALL

    # ------------------------------------------------------------------ emission helpers
    def constant(self, value: Any, prefix: str = "K") -> str:
        key = (type(value), str(value)) if isinstance(value, Decimal) else (type(value), value)
        if key not in self.constants:
            name = f"{prefix}{len(self.constants)}"
            self.constants[key] = name
            self.namespace[name] = value
        return self.constants[key]

    def temp(self) -> str:
        self.temp_counter += 1
        return f"_t{self.temp_counter}"

    # ------------------------------------------------------------------ program
    def generate(self) -> str:
        lines: list[str] = []
        closures = [n for n, s in self.scopes.items() if s.needs_closure]
        plain = [n for n, s in self.scopes.items() if not s.needs_closure]
        for name in plain:
            lines.extend(self.function(name, indent=""))
        lines.append("def __run(_rt, _inj):")
        body: list[str] = []
        body.append("_S = _rt.stop")
        body.append("_d = 0")
        body.append("_resp = _rt.response")
        mentioned = self._mentioned_top_names()
        self.inputs_used = frozenset(self.inputs & mentioned)
        for name in sorted(self.inputs & mentioned):
            body.append(f"if {name!r} in _inj: {self.global_python(name)} = _inj[{name!r}]")
        for name in closures:
            body.extend(self.function(name, indent=""))
        statements = self.block(self.statements, self.top, _Flow(set()))
        body.extend(statements)
        body.append("return locals()" if self.collect_globals else "return None")
        lines.extend("    " + line for line in body)
        return "\n".join(lines) + "\n"

    def _mentioned_top_names(self) -> set[str]:
        names: set[str] = set()
        for statement in _scope_statements(self.statements):
            names.update(_written_names(statement))
            for expr in _expressions(statement):
                for sub in _subexpressions(expr):
                    if isinstance(sub, ast.Var):
                        names.add(sub.name)
        for scope in self.scopes.values():
            names |= self._global_cells(scope)
        return names

    def global_python(self, name: str) -> str:
        return self.names.python("g", name)

    def function(self, name: str, indent: str) -> list[str]:
        fn = self.functions[name]
        scope = self.scopes[name]
        params = [self.names.python("l", p) for p in fn.params]
        # duplicate parameter names: Python refuses them; later ones win like repeated stores
        unique: list[str] = []
        for index, param in enumerate(params):
            unique.append(param if param not in params[index + 1 :] else f"_dup{index}")
        header = f"def {self.function_python[name]}(_rt, _d{''.join(', ' + p for p in unique)}):"
        body: list[str] = [
            "if _d > 256: _ops.call_depth()",
            "_S = _rt.stop",
            "if _S: _rt.stopped()",
        ]
        locals_unset = sorted(scope.written - set(fn.params))
        for local in locals_unset:
            body.append(f"{self.names.python('l', local)} = _U")
        flow = _Flow(set(fn.params))
        statements = self.block(fn.body, scope, flow)
        if scope.uses_try:
            body.append("try:")
            body.extend("    " + line for line in statements or ["pass"])
            body.append("except _Prop as _p:")
            body.append("    return _p.value")
        else:
            body.extend(statements)
        body.append("return None")
        lines = [indent + header] + [indent + "    " + line for line in body]
        if name in self.native:  # runs natively; the definition stays at hand (runtime/native)
            return native.gated(self.native[name], lines, self.function_python[name], indent, self.constant)
        return lines

    # ------------------------------------------------------------------ statements
    def block(self, statements: list[ast.Stmt], scope: _Scope, flow: _Flow) -> list[str]:
        lines: list[str] = []
        for statement in statements:
            lines.extend(self.statement(statement, scope, flow))
        return lines

    def write(self, name: str, scope: _Scope, flow: _Flow) -> str:
        """The Python target for a write of ``name`` (§8: a function always writes a local)."""
        if scope is self.top:
            if name in RESPONSE_VARIABLES:
                return f"_resp[{name!r}]"
            return self.global_python(name)
        flow.assigned.add(name)
        return self.names.python("l", name)

    def read(self, name: str, scope: _Scope, flow: _Flow) -> _Code:
        kind = self.var_kind(name, scope)
        if scope is self.top:
            if name in RESPONSE_VARIABLES:
                return _Code(f"_ops.response_read(_resp, {name!r})", kind)
            if name not in self.global_names:
                return _Code(f"_ops.undefined({name!r})", kind)
            if self.is_unboxed(name, scope):
                bounds = flow.bounds.get(name) or self.default_bounds(name, scope)
                return _Code(self.global_python(name), I, atom=True, unboxed=True, bounds=bounds)
            return _Code(self.global_python(name), kind, atom=True)
        if name in scope.written:
            local = self.names.python("l", name)
            if self.is_unboxed(name, scope):
                bounds = flow.bounds.get(name) or self.default_bounds(name, scope)
                if name in flow.assigned:
                    return _Code(local, I, atom=True, unboxed=True, bounds=bounds)
                return _Code(f"({local} if {local} is not _U else _ops.undefined({name!r}))", I, unboxed=True,
                             bounds=bounds)
            if name in flow.assigned:
                return _Code(local, kind, atom=True)
            return _Code(f"({local} if {local} is not _U else {self.global_read(name, scope)})", kind)
        return _Code(self.global_read(name, scope), kind, atom=name not in RESPONSE_VARIABLES
                     and name in self.global_names and scope.needs_closure)

    def global_read(self, name: str, scope: _Scope) -> str:
        if name in RESPONSE_VARIABLES:
            return f"_ops.response_read(_rt.response, {name!r})"
        if name in self.global_names and scope.needs_closure:
            return self.global_python(name)
        return f"_ops.undefined({name!r})"

    def statement(self, statement: ast.Stmt, scope: _Scope, flow: _Flow) -> list[str]:
        method = getattr(self, "s_" + type(statement).__name__)
        return method(statement, scope, flow)

    def s_FunctionDef(self, statement, scope, flow):
        return []  # hoisted: executing a definition does nothing (§9.4)

    def s_Assign(self, statement, scope, flow):
        pre: list[str] = []
        if statement.value is None:
            return [f"{self.write(statement.name, scope, flow)} = _ZERO"]
        hint = None
        unboxed = self.is_unboxed(statement.name, scope)
        if isinstance(statement.value, ast.Binary) and statement.name not in RESPONSE_VARIABLES:
            # arithmetic straight into the variable: no temporary
            hint = self.global_python(statement.name) if scope is self.top else self.names.python("l", statement.name)
            code = self.e_Binary(statement.value, scope, flow, pre, target=hint)
        else:
            code = self.expr(statement.value, scope, flow, pre, raw=unboxed)
        if unboxed:
            code = self.unbox(code)
            flow.bounds[statement.name] = code.bounds or self.default_bounds(statement.name, scope)
        value = code.text if unboxed else self.box(code).text
        target = self.write(statement.name, scope, flow)
        if value == target:
            return pre
        return pre + [f"{target} = {value}"]

    def s_SetIndex(self, statement, scope, flow):
        pre: list[str] = []
        index, value = self.sequence([statement.index, statement.value], scope, flow, pre)
        current = self.read(statement.name, scope, flow).text
        target = self.write(statement.name, scope, flow)
        return pre + [f"{target} = _ops.set_index({index.text}, {value.text}, {current}, {statement.name!r})"]

    def s_SetField(self, statement, scope, flow):
        pre: list[str] = []
        value = self.expr(statement.value, scope, flow, pre)
        current = self.read(statement.name, scope, flow).text
        target = self.write(statement.name, scope, flow)
        return pre + [
            f"{target} = _ops.set_field({value.text}, {current}, {statement.key!r}, {statement.name!r})"
        ]

    def s_CallStmt(self, statement, scope, flow):
        pre: list[str] = []
        code = self.expr(statement.call, scope, flow, pre)
        return pre + [code.text]

    def s_Return(self, statement, scope, flow):
        pre: list[str] = []
        value = "None" if statement.value is None else self.expr(statement.value, scope, flow, pre).text
        if scope is self.top:
            return pre + [f"_ops.return_outside({value})"]
        return pre + [f"return {value}"]

    def s_Import(self, statement, scope, flow):
        return ["_ops.unsupported('இறக்கு (import)')"]

    def s_If(self, statement, scope, flow):
        pre: list[str] = []
        condition = self.expr(statement.condition, scope, flow, pre, raw=True)
        then_flow = flow.copy()
        self.guard(statement.condition, scope, then_flow)
        lines = pre + [f"if {condition.text}:"]
        lines.extend(_indent(self.block(statement.then, scope, then_flow) or ["pass"]))
        else_flow = flow.copy()
        if statement.otherwise:
            lines.append("else:")
            lines.extend(_indent(self.block(statement.otherwise, scope, else_flow) or ["pass"]))
            flow.assigned |= then_flow.assigned & else_flow.assigned
        # after the if, a variable either branch assigned lies in the union of both intervals
        changed = _assigned_in(statement.then) | _assigned_in(statement.otherwise or [])
        for name in changed:
            one, two = then_flow.bounds.get(name), else_flow.bounds.get(name)
            if one is None or two is None:
                flow.bounds.pop(name, None)
            else:
                flow.bounds[name] = (min(one[0], two[0]), max(one[1], two[1]))
        return lines

    def s_While(self, statement, scope, flow):
        pre: list[str] = []
        changed = _assigned_in(statement.body)
        flow.forget(changed)  # unknown after (and between) iterations
        body_flow = flow.copy()
        condition = self.expr(statement.condition, scope, body_flow, pre, raw=True)
        self.guard(statement.condition, scope, body_flow)  # holds at the start of every iteration
        body = self.block(statement.body, scope, body_flow)
        check = "if _S: _rt.stopped()"
        if not pre:
            return [f"while {condition.text}:", "    " + check] + _indent(body)
        return ["while True:"] + _indent(pre) + [f"    if not ({condition.text}): break", "    " + check] + _indent(body)

    def s_ForEach(self, statement, scope, flow):
        pre: list[str] = []
        collection = self.expr(statement.collection, scope, flow, pre)
        flow.forget(_assigned_in(statement.body))
        body_flow = flow.copy()
        target = self.write(statement.var, scope, body_flow)
        body = self.block(statement.body, scope, body_flow)
        if scope is self.top and id(statement) in self.loop_numbers:
            # The REPL shows upstream's hidden loop variables under :vars (HOST.md §2.6.4 quirk):
            # the items walked and the position reached.
            number = self.loop_numbers[id(statement)]
            items = self.global_python(f"#each_items_{number}")
            position = self.global_python(f"#each_i_{number}")
            return pre + [
                f"{items} = _ops.hidden_items({collection.text})",
                f"{position} = _ZERO",
                f"for {target} in {items}:",
                "    if _S: _rt.stopped()",
                f"    {position} = _num.add({position}, _ONE)",
            ] + _indent(body)
        return pre + [f"for {target} in _ops.iterate({collection.text}):", "    if _S: _rt.stopped()"] + _indent(body)

    def s_Print(self, statement, scope, flow):
        pre: list[str] = []
        value = self.expr(statement.value, scope, flow, pre)
        return pre + [f"_rt.print({value.text})"]

    def s_Input(self, statement, scope, flow):
        if isinstance(statement.target, ast.Var):
            return [f"{self.write(statement.target.name, scope, flow)} = _rt.input()"]
        return ["_rt.input()"]

    def s_FileOpen(self, statement, scope, flow):
        pre: list[str] = []
        path = self.expr(statement.path, scope, flow, pre)
        return pre + [f"_rt.file_open({path.text}, {statement.mode!r})"]

    def s_FileClose(self, statement, scope, flow):
        pre: list[str] = []
        path = self.expr(statement.path, scope, flow, pre)
        return pre + [f"_rt.file_close({path.text})"]

    def s_FileWrite(self, statement, scope, flow):
        pre: list[str] = []
        path, data = self.sequence([statement.path, statement.data], scope, flow, pre)
        return pre + [f"_rt.file_write({path.text}, {data.text})"]

    def s_FileRead(self, statement, scope, flow):
        pre: list[str] = []
        path = self.expr(statement.path, scope, flow, pre)
        method = "csv_read" if statement.csv else "file_read"
        return pre + [f"{self.write(statement.target, scope, flow)} = _rt.{method}({path.text})"]

    def s_DbConnect(self, statement, scope, flow):
        pre: list[str] = []
        connection = self.expr(statement.connection, scope, flow, pre)
        return pre + [f"_rt.db_connect({statement.db_type!r}, {connection.text})"]

    def s_DbDisconnect(self, statement, scope, flow):
        return [f"_rt.db_disconnect({statement.db_type!r})"]

    def s_DbExecute(self, statement, scope, flow):
        pre: list[str] = []
        sql, params = self.sequence([statement.sql, statement.params], scope, flow, pre)
        return pre + [f"_rt.db_execute({sql.text}, {params.text})"]

    def s_DbQuery(self, statement, scope, flow):
        pre: list[str] = []
        sql, params = self.sequence([statement.sql, statement.params], scope, flow, pre)
        return pre + [f"{self.write(statement.target, scope, flow)} = _rt.db_query({sql.text}, {params.text})"]

    def s_Route(self, statement, scope, flow):
        return ["_ops.unsupported('வழி (route)')"]

    def s_Every(self, statement, scope, flow):
        return ["_ops.unsupported('இடைவெளி (schedule)')"]

    def s_Unsupported(self, statement, scope, flow):
        return [f"_ops.unsupported({statement.label!r})"]

    def s_Respond(self, statement, scope, flow):
        pre: list[str] = []
        items = [statement.status, statement.body] + ([statement.headers] if statement.headers else [])
        codes = self.sequence(items, scope, flow, pre)
        headers = codes[2].text if len(codes) > 2 else "None"
        return pre + [f"_ops.respond(_rt.response, {codes[0].text}, {codes[1].text}, {headers})"]

    # ------------------------------------------------------------------ expressions
    def sequence(self, exprs: list[ast.Expr], scope: _Scope, flow: _Flow, pre: list[str],
                 raw: bool = False) -> list[_Code]:
        """Generate operands left to right; an operand generated inline whose later siblings
        needed statements is bound to a temporary first, so the order of effects is kept."""
        codes: list[_Code] = []
        marks: list[int] = []
        for expr in exprs:
            codes.append(self.expr(expr, scope, flow, pre, raw=raw))
            marks.append(len(pre))
        for position in range(len(codes) - 2, -1, -1):
            code = codes[position]
            if len(pre) > marks[position] and not code.constant and not (code.atom and code.text.startswith("_t")):
                name = self.temp()
                pre.insert(marks[position], f"{name} = {code.text}")
                codes[position] = _Code(name, code.kind, atom=True, unboxed=code.unboxed)
        return codes

    def atom(self, code: _Code, pre: list[str]) -> _Code:
        if code.atom or code.constant:
            return code
        name = self.temp()
        pre.append(f"{name} = {code.text}")
        return _Code(name, code.kind, atom=True, unboxed=code.unboxed)

    def expr(self, expr: ast.Expr, scope: _Scope, flow: _Flow, pre: list[str], raw: bool = False) -> _Code:
        """Generate ``expr``; unless ``raw``, the value is always an eTamil value (boxed)."""
        method = getattr(self, "e_" + type(expr).__name__)
        code = method(expr, scope, flow, pre)
        if len(code.text) > 200 and _nesting(code.text) > 40:
            # Python's parser refuses deeply nested source (about 200 levels): evaluate this
            # part into a temporary here; evaluation order is unchanged (see ``sequence``).
            code = self.atom(code, pre)
        return code if raw else self.box(code)

    @staticmethod
    def box(code: _Code) -> _Code:
        if not code.unboxed:
            return code
        return _Code(f"_D({code.text})", code.kind, atom=False)

    @staticmethod
    def unbox(code: _Code) -> _Code:
        if code.unboxed:
            return code
        if code.whole is not None:
            return _Code(repr(code.whole), I, atom=True, constant=True, unboxed=True)
        return _Code(f"int({code.text})", I, unboxed=True)

    def e_Number(self, expr, scope, flow, pre):
        whole = _is_whole_literal(expr.value)
        return _Code(self.constant(expr.value), I if whole else N, atom=True, constant=True,
                     whole=int(expr.value) if whole else None)

    def e_String(self, expr, scope, flow, pre):
        return _Code(repr(expr.value), S, atom=True, constant=True)

    def e_Bool(self, expr, scope, flow, pre):
        return _Code("True" if expr.value else "False", B, atom=True, constant=True)

    def e_Nil(self, expr, scope, flow, pre):
        return _Code("None", NIL, atom=True, constant=True)

    def e_ArrayLit(self, expr, scope, flow, pre):
        codes = self.sequence(expr.items, scope, flow, pre)
        return _Code("[" + ", ".join(c.text for c in codes) + "]", A)

    def e_RecordLit(self, expr, scope, flow, pre):
        codes = self.sequence([value for _, value in expr.entries], scope, flow, pre)
        if len({key for key, _ in expr.entries}) == len(expr.entries):
            return _Code("{" + ", ".join(f"{k!r}: {c.text}" for (k, _), c in zip(expr.entries, codes, strict=True)) + "}", R)
        # duplicate keys: every value is evaluated, the first one is kept (quirk §10.2)
        items = ", ".join(f"({k!r}, {c.text})" for (k, _), c in zip(expr.entries, codes, strict=True))
        return _Code(f"_ops.record_first([{items}])", R)

    def e_Var(self, expr, scope, flow, pre):
        return self.read(expr.name, scope, flow)

    def e_Call(self, expr, scope, flow, pre):
        codes = self.sequence(expr.args, scope, flow, pre)
        args = "".join(", " + c.text for c in codes)
        arg_list = ", ".join(c.text for c in codes)
        name = expr.name
        if name in self.functions:
            fn = self.functions[name]
            if len(fn.params) != len(expr.args):
                return _Code(f"_ops.wrong_arity({name!r}, {len(fn.params)}{args})", ALL)
            return _Code(f"{self.function_python[name]}(_rt, _d + 1{args})", ALL)
        target = self.builtins.get(name)
        if target is None:
            return _Code(f"_ops.unknown_call({name!r}{args})", ALL)
        if target.arity != len(expr.args):
            return _Code(f"_ops.wrong_arity({name!r}, {target.arity}{args})", ALL)
        function = self.constant(target.function, prefix="B")
        kind = _RETURN_KINDS.get(target.returns, ALL) if target.returns else ALL
        if target.context:
            return _Code(f"{function}(_rt{args})", kind)
        return _Code(f"{function}({arg_list})", kind)

    def e_Index(self, expr, scope, flow, pre):
        base, index = self.sequence([expr.base, expr.index], scope, flow, pre)
        return _Code(f"_ops.index({base.text}, {index.text})", ALL)

    def e_Field(self, expr, scope, flow, pre):
        base = self.expr(expr.base, scope, flow, pre)
        return _Code(f"_ops.field({base.text}, {expr.key!r})", ALL)

    def e_Try(self, expr, scope, flow, pre):
        operand = self.expr(expr.operand, scope, flow, pre)
        helper = "try_at_top" if scope is self.top else "try_in_function"
        return _Code(f"_ops.{helper}({operand.text})", ALL)

    def e_Neg(self, expr, scope, flow, pre):
        operand = self.expr(expr.operand, scope, flow, pre, raw=True)
        if operand.unboxed:
            low, high = operand.bounds or (-MAX_COEFFICIENT, MAX_COEFFICIENT)
            return _Code(f"(-{operand.text})", I, unboxed=True, bounds=(-high, -low))
        return _Code(f"_ops.neg({operand.text})", I if operand.kind == I else N)

    def e_Not(self, expr, scope, flow, pre):
        operand = self.expr(expr.operand, scope, flow, pre)
        return _Code(f"(not {operand.text})", B)

    def e_Logical(self, expr, scope, flow, pre):
        left = self.expr(expr.left, scope, flow, pre)
        mark = len(pre)
        right_pre: list[str] = []
        right = self.expr(expr.right, scope, flow.copy(), right_pre)
        joiner = "and" if expr.op == "and" else "or"
        if not right_pre:
            return _Code(f"(True if ({left.text} {joiner} {right.text}) else False)", B)
        name = self.temp()
        del pre[mark:]
        test = left.text if expr.op == "and" else f"not ({left.text})"
        short = "False" if expr.op == "and" else "True"
        pre.append(f"if {test}:")
        pre.extend(_indent(right_pre))
        pre.append(f"    {name} = True if {right.text} else False")
        pre.append("else:")
        pre.append(f"    {name} = {short}")
        return _Code(name, B, atom=True)

    def e_Binary(self, expr, scope, flow, pre, target: str | None = None):
        left, right = self.sequence([expr.left, expr.right], scope, flow, pre, raw=True)
        op = expr.op
        both_numbers = not (left.kind & ~NUMERIC) and not (right.kind & ~NUMERIC)
        if both_numbers and (left.unboxed or right.unboxed):
            if op in ("+", "-", "*") and _int_capable(left) and _int_capable(right):
                return self.int_arithmetic(op, left, right, pre, target)
            if op in ("<", "<=", ">", ">=", "==", "!="):
                return _Code(f"({_int_or_text(left)} {op} {_int_or_text(right)})", B)
        if op in ("+", "-", "*") and both_numbers:
            return self.fast_arithmetic(op, left, right, pre, target)
        left, right = self.box(left), self.box(right)
        if op == "+":
            return _Code(f"_ops.add({left.text}, {right.text})", N)
        if op == "-":
            return _Code(f"_ops.sub({left.text}, {right.text})", N)
        if op == "*":
            return _Code(f"_ops.mul({left.text}, {right.text})", N)
        if op == "/":
            return _Code(f"_ops.div({left.text}, {right.text})", N)
        if op == "&":
            if left.kind == S and right.kind == S:
                # the text limit (runtime/limits.py) before the join, written out
                left, right = self.atom(left, pre), self.atom(right, pre)
                pre.append(f"if len({left.text}) + len({right.text}) > _lim.quick_chars: "
                           f"_lim.join_too_large({left.text}, {right.text})")
                return _Code(f"({left.text} + {right.text})", S)
            return _Code(f"_ops.concat({left.text}, {right.text})", S)
        if op in ("==", "!="):
            if both_numbers or (left.kind == right.kind and left.kind in (S, B, NIL)):
                return _Code(f"({left.text} {op} {right.text})", B)
            return _Code(f"_ops.{'eq' if op == '==' else 'ne'}({left.text}, {right.text})", B)
        if (both_numbers or (left.kind == S and right.kind == S)):
            return _Code(f"({left.text} {op} {right.text})", B)
        helper = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}[op]
        return _Code(f"_ops.{helper}({left.text}, {right.text})", B)

    def int_arithmetic(self, op: str, left: _Code, right: _Code, pre: list[str], target: str | None) -> _Code:
        """Whole numbers as Python ints: exact; only the 96-bit overflow needs checking."""
        result = self.temp()
        what = {"+": "Addition", "-": "Subtraction", "*": "Multiplication"}[op]
        pre.append(f"{result} = {_int_or_text(left)} {op} {_int_or_text(right)}")
        # Interval arithmetic on what is known of the operands (every value is within
        # +-(2**96 - 1)): only a side of the range the result can actually leave is checked.
        wide = (-MAX_COEFFICIENT, MAX_COEFFICIENT)
        (a_low, a_high), (b_low, b_high) = left.bounds or wide, right.bounds or wide
        if op == "+":
            low, high = a_low + b_low, a_high + b_high
        elif op == "-":
            low, high = a_low - b_high, a_high - b_low
        else:
            corners = (a_low * b_low, a_low * b_high, a_high * b_low, a_high * b_high)
            low, high = min(corners), max(corners)
        tests = []
        if high > MAX_COEFFICIENT:
            tests.append(f"{result} > _MAXC" if high > 2**30 else f"{result} > _MAXC")
        if low < -MAX_COEFFICIENT:
            tests.append(f"{result} < _MINC")
        if tests:
            pre.append(f"if {' or '.join(tests)}: _num.overflow({what!r})")
        bounds = (max(low, -MAX_COEFFICIENT), min(high, MAX_COEFFICIENT))
        if target is not None and target != result:
            pre.append(f"{target} = {result}")
            return _Code(target, I, atom=True, unboxed=True, bounds=bounds)
        return _Code(result, I, atom=True, unboxed=True, bounds=bounds)

    def fast_arithmetic(self, op: str, left: _Code, right: _Code, pre: list[str], target: str | None) -> _Code:
        left = self.atom(left, pre)
        right = self.atom(right, pre)
        result = target or self.temp()
        kind = I if left.kind == I and right.kind == I else N
        exact = {"+": "_num.add", "-": "_num.sub", "*": "_num.mul"}[op]
        slow = f"{exact}({self.box(left).text}, {self.box(right).text})"
        if op == "*":
            fast = f"{left.text} * {right.text} or _ZERO"
        else:
            # A zero operand changes the crate's result only in scale or in the sign of zero
            # (see numbers.add): an operand that is a non-zero constant or a whole number of
            # scale 0 (kind I) can never cause that, so it needs no check.
            checks = [c.text for c in (left, right)
                      if not (c.constant and self.namespace[c.text]) and c.kind != I]
            fast = f"{left.text} {op} {right.text}"
            if checks:
                fast = f"{fast} if {' and '.join(checks)} else {slow}"
        pre.extend([f"try: {result} = {fast}", f"except ArithmeticError: {result} = {slow}"])
        return _Code(result, kind, atom=True)


class _Flow:
    """What is known at this point of a body: the locals definitely bound, and for whole-number
    variables held as ints an interval their value lies in (from a loop or if condition like
    ``i < 100000`` and from the assignments since). The intervals let the compiler drop the
    96-bit overflow check where it cannot fail."""

    __slots__ = ("assigned", "bounds")

    def __init__(self, assigned: set[str], bounds: dict[str, tuple[int, int]] | None = None):
        self.assigned = assigned
        self.bounds = bounds if bounds is not None else {}

    def copy(self) -> _Flow:
        return _Flow(set(self.assigned), dict(self.bounds))

    def forget(self, names: set[str]) -> None:
        for name in names:
            self.bounds.pop(name, None)


def _assigned_in(statements: list[ast.Stmt]) -> set[str]:
    """Names any statement in these blocks writes (nested function bodies excluded)."""
    names: set[str] = set()
    for statement in _scope_statements(statements):
        names.update(_written_names(statement))
    return names


def _nesting(text: str) -> int:
    """The deepest bracket nesting of generated code (brackets inside strings count too, which
    only makes the caller split a little earlier)."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in ")]}":
            depth -= 1
    return deepest


def _int_capable(code: _Code) -> bool:
    return code.unboxed or code.whole is not None


def _int_or_text(code: _Code) -> str:
    return repr(code.whole) if code.whole is not None else code.text


def _is_whole_literal(value: Decimal) -> bool:
    return value.as_tuple().exponent == 0


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


# ============================================================================== the result


class CompileError(Exception):
    """A program this implementation cannot compile (nesting beyond what CPython accepts).
    ``message`` is bilingual, in the style of the load errors."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_TOO_DEEP = (
    "நிரல் மிக ஆழமாகப் பின்னப்பட்டுள்ளது  (the program nests blocks or expressions too deeply for "
    "this implementation: {detail})"
)


class Compiled:
    """A compiled program. :meth:`run` runs it once with fresh globals."""

    def __init__(self, source: str, namespace: dict[str, Any], names: _Names, blocking: bool, filename: str,
                 inputs_used: frozenset[str] = frozenset(), collect_globals: bool = True):
        self.source = source
        self.blocking = blocking
        #: the injected globals the program can read: a server builds only these per request
        self.inputs_used = inputs_used
        self.collect_globals = collect_globals
        self._names = names
        try:
            code = compile(source, filename, "exec")
        except (SyntaxError, RecursionError, MemoryError) as error:  # IndentationError included
            raise CompileError(_TOO_DEEP.format(detail=getattr(error, "msg", None) or type(error).__name__)) from None
        exec(code, namespace)  # noqa: S102 - our own generated code
        self._run = namespace["__run"]

    def run(self, ctx: RunContext, inject: dict[str, Any] | None = None, collect: bool = True) -> dict[str, Any]:
        """Run once; returns the program's globals at the end (with ``collect=False`` only the
        response variables, which is all a server needs and cheaper). On a runtime error raises
        :class:`EtamilError` whose ``globals`` attribute holds the globals at that point."""
        previous = decimal.getcontext()
        decimal.setcontext(ctx.decimal_context)
        try:
            frame_locals = self._run(ctx, inject or {})
        except (EtamilError, NameError, RecursionError, ArithmeticError, TypeError, KeyError,
                IndexError, ValueError, AttributeError) as error:
            converted = self._convert(error)
            converted.globals = self._globals_from_traceback(error, ctx)
            if converted is error:
                raise
            raise converted from None
        finally:
            decimal.setcontext(previous)
        if not collect or frame_locals is None:
            return ctx.response
        return self._globals(frame_locals, ctx)

    def _globals(self, frame_locals: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in frame_locals.items():
            if key.startswith("g") and value is not UNSET:
                match = _MANGLED.fullmatch(key)
                if match:
                    if type(value) is int:  # an unboxed whole number
                        value = Decimal(value)
                    result[self._names.reverse[int(match.group(1))]] = value
        result.update(ctx.response)
        return result

    def _globals_from_traceback(self, error: BaseException, ctx: RunContext) -> dict[str, Any]:
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code is self._run.__code__:
                return self._globals(dict(tb.tb_frame.f_locals), ctx)
            tb = tb.tb_next
        return dict(ctx.response)

    def _convert(self, error: BaseException) -> EtamilError:
        if isinstance(error, EtamilError):
            return error
        if isinstance(error, NameError):
            match = _MANGLED.search(str(error))
            if match and int(match.group(1)) in self._names.reverse:
                return undefined_variable(self._names.reverse[int(match.group(1))])
        if isinstance(error, RecursionError):
            return EtamilError("செயல் அழைப்பு ஆழம் மிகுதி (256)  (call depth exceeded — infinite recursion?)")
        # A Python error that is not a language error: an internal fault. Report it without
        # a traceback (the CLI prints it as a runtime error) and keep the details for the logs.
        converted = EtamilError(f"உள் பிழை  (internal error: {type(error).__name__}: {error})")
        converted.internal = error
        return converted


def compile_program(
    statements: list[ast.Stmt],
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
    builtin's ``returns``); an injected global not named there may hold anything."""
    kinds = {name: _RETURN_KINDS[kind] for name, kind in (input_kinds or {}).items()}
    try:
        generator = _Generator(statements, frozenset(inputs), kinds, hidden_loop_variables)
        generator.collect_globals = collect_globals
        source = generator.generate()
    except RecursionError:
        raise CompileError(_TOO_DEEP.format(detail="expressions nested too deeply")) from None
    namespace: dict[str, Any] = {
        "__builtins__": __builtins__,
        "_ops": ops,
        "_lim": limits,
        "_num": __import__("etamil_server.base.numbers", fromlist=["numbers"]),
        "_U": UNSET,
        "_ZERO": ZERO,
        "_D": Decimal,
        "_ONE": Decimal(1),
        "_MAXC": MAX_COEFFICIENT,
        "_MINC": -MAX_COEFFICIENT,
        "_Prop": ops.Propagate,
        "Decimal": Decimal,
    }
    namespace.update(generator.namespace)
    return Compiled(source, namespace, generator.names, generator.top.blocking, filename,
                    generator.inputs_used, collect_globals)


__all__ = ["ALL", "A", "B", "N", "NIL", "R", "RES", "S", "UNSET", "Compiled", "compile_program", "FAST_CONTEXT"]

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
_ = display
