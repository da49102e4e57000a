"""Kind inference: which kinds of value each variable can hold, as bits, so the emitter can use
plain Python operators where the operands' kinds are known (numbers, strings).

The inference is a fixed point over every assignment of the program (sound: a kind set only
grows). Injected globals start with the kinds the caller declares (default: any kind).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal

from ...lang import syntax as ast
from ..builtins import Builtin
from .scopes import RESPONSE_VARIABLES, Scope, Scopes

# kinds, as bits. I is a number known to be whole with scale 0 and never negative zero (counters,
# whole literals, sums and products of such): adding it to anything needs no zero-operand check.
N, S, B, NIL, A, R, RES, I = 1, 2, 4, 8, 16, 32, 64, 128  # noqa: E741 - the kinds read best short
ALL = 255
NUMERIC = N | I
#: a builtin's ``returns`` (and ``compile_program``'s ``input_kinds``) vocabulary -> kind bits
RETURN_KINDS = {"number": N, "string": S, "boolean": B, "array": A, "record": R, "result": RES}

#: more rounds than this cannot happen (the lattice is finite); only a guard
_MAX_ROUNDS = 50
#: the builtins that give a result's success value: மதிப்பு(r) (else an error), இயல்பு(r, fallback)
_UNWRAPPING = ("மதிப்பு", "இயல்பு")


def is_whole_literal(value: Decimal) -> bool:
    return value.as_tuple().exponent == 0


class Kinds:
    """The kinds of every variable of every scope (stored in ``Scope.kinds``), and the kind of an
    expression (:meth:`of`)."""

    def __init__(self, scopes: Scopes, inputs: frozenset[str], input_kinds: Mapping[str, int],
                 builtins: Mapping[str, Builtin]):
        self.scopes = scopes
        self.top = scopes.top
        self.functions = scopes.functions
        self.builtins = builtins
        self._infer(inputs, input_kinds)

    def _infer(self, inputs: frozenset[str], input_kinds: Mapping[str, int]) -> None:
        top = self.top
        for name in self.scopes.global_names:
            top.kinds[name] = 0
        for name in inputs:
            top.kinds[name] = input_kinds.get(name, ALL)
        for scope in self.scopes.by_function.values():
            for name in scope.written:
                scope.kinds[name] = 0
            for name in scope.function.params:
                scope.kinds[name] = ALL
        for _ in range(_MAX_ROUNDS):
            changed = False
            for scope in self.scopes.all():
                for statement in ast.statements_in(scope.body):
                    for name, kind in self._writes(statement, scope):
                        if scope.kinds.get(name, 0) | kind != scope.kinds.get(name, 0):
                            scope.kinds[name] = scope.kinds.get(name, 0) | kind
                            changed = True
            if not changed:
                break
        else:  # pragma: no cover - the lattice is finite; this is only a guard
            for scope in self.scopes.all():
                for name in scope.kinds:
                    scope.kinds[name] = ALL

    def _writes(self, statement: ast.Stmt, scope: Scope) -> Iterator[tuple[str, int]]:
        if isinstance(statement, ast.Assign):
            yield statement.name, (N if statement.value is None else self.of(statement.value, scope))
        elif isinstance(statement, ast.SetIndex | ast.SetField):
            yield statement.name, A | R
        elif isinstance(statement, ast.ForEach):
            collection = self.of(statement.collection, scope)
            yield statement.var, (S if collection and not collection & ~(R | S) else ALL)
        elif isinstance(statement, ast.Input) and isinstance(statement.target, ast.Var):
            yield statement.target.name, S
        elif isinstance(statement, ast.FileRead):
            yield statement.target, N if statement.csv else S
        elif isinstance(statement, ast.DbQuery):
            yield statement.target, A

    def variable(self, name: str, scope: Scope) -> int:
        """The kinds a read of ``name`` in ``scope`` can see (a function's local that may be
        unbound falls back to the global)."""
        if name in RESPONSE_VARIABLES and name not in scope.written:
            return ALL
        if scope is self.top:
            return self.top.kinds.get(name, ALL) or ALL
        kind = scope.kinds.get(name, 0)
        if name not in scope.written or name in self.scopes.global_names:
            kind |= self.top.kinds.get(name, 0)
        return kind or ALL

    def of(self, expr: ast.Expr, scope: Scope) -> int:
        """The kinds ``expr`` can evaluate to in ``scope``."""
        if isinstance(expr, ast.Number):
            return I if is_whole_literal(expr.value) else N
        if isinstance(expr, ast.Neg):
            return I if self.of(expr.operand, scope) == I else N
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
                both = self.of(expr.left, scope) == I and self.of(expr.right, scope) == I
                return I if both else N
            if expr.op == "/":
                return N
            if expr.op == "&":
                return S
            return B
        if isinstance(expr, ast.Var):
            return self.variable(expr.name, scope)
        if isinstance(expr, ast.Call):
            target = self._builtin(expr)
            if target is not None:
                if target.name in _UNWRAPPING:
                    success = self._success_kind(expr.args[0])
                    if success:  # the success's value, or (இயல்பு) the fallback
                        return success | (self.of(expr.args[1], scope) if len(expr.args) > 1 else 0)
                if target.returns:
                    return RETURN_KINDS[target.returns]
            return ALL
        return ALL

    def _builtin(self, call: ast.Call) -> Builtin | None:
        """The builtin a call reaches (no user function of that name, the builtin's arity)."""
        if call.name in self.functions:
            return None
        target = self.builtins.get(call.name)
        return target if target is not None and len(call.args) == target.arity else None

    def _success_kind(self, expr: ast.Expr) -> int:
        """The kinds a success of ``expr`` holds when it is a call of a builtin that says (``ok``);
        0 when that is not known."""
        target = self._builtin(expr) if isinstance(expr, ast.Call) else None
        return RETURN_KINDS[target.ok] if target is not None and target.ok else 0
