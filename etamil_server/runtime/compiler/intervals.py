"""Unboxed whole numbers and their intervals.

Variables of kind I exactly that only their own scope's code touches are held as Python ints
instead of Decimals (:func:`unboxed_variables`): counters and indexes then cost a machine-integer
operation, not a decimal one. What is known of such a variable's value at a point — an interval,
from the assignments since, a loop or if condition like ``i < 100000``, and whether it can ever be
negative — lets the emitter drop the 96-bit overflow check where it cannot fail.
"""

from __future__ import annotations

from collections.abc import Collection

from ...base.numbers import MAX_COEFFICIENT
from ...lang import syntax as ast
from .kinds import I, is_whole_literal
from .scopes import RESPONSE_VARIABLES, Scope, Scopes

Bounds = tuple[int, int]
#: every eTamil number lies within +-(2**96 - 1)
WIDE: Bounds = (-MAX_COEFFICIENT, MAX_COEFFICIENT)


class Flow:
    """What is known at this point of a body: the locals definitely bound, and for whole-number
    variables held as ints an interval their value lies in."""

    __slots__ = ("assigned", "bounds")

    def __init__(self, assigned: set[str], bounds: dict[str, Bounds] | None = None):
        self.assigned = assigned
        self.bounds = bounds if bounds is not None else {}

    def copy(self) -> Flow:
        return Flow(set(self.assigned), dict(self.bounds))

    def forget(self, names: set[str]) -> None:
        for name in names:
            self.bounds.pop(name, None)


def unboxed_variables(scopes: Scopes, inputs: Collection[str]) -> dict[int, set[str]]:
    """By ``id(scope)``: the variables held as Python ints — whole numbers of scale 0 (kind I
    exactly) that only this scope's code touches: a top-level global no function reads and nobody
    injects, or a function local that never falls back to a global. They are boxed back to
    ``Decimal`` wherever they leave arithmetic (calls, printing, storing, the globals dump)."""
    result: dict[int, set[str]] = {}
    read_by_functions: set[str] = set()
    for scope in scopes.by_function.values():
        read_by_functions |= scope.reads_globals
    result[id(scopes.top)] = {
        name for name, kind in scopes.top.kinds.items()
        if kind == I and name not in read_by_functions and name not in inputs
        and name not in RESPONSE_VARIABLES
    }
    for scope in scopes.by_function.values():
        params = set(scope.function.params)
        result[id(scope)] = {
            name for name, kind in scope.kinds.items()
            if kind == I and name not in scopes.global_names and name not in params
            and name not in RESPONSE_VARIABLES
        }
    return result


def nonnegative_variables(scope: Scope, unboxed: set[str]) -> set[str]:
    """Unboxed variables that are never negative: every assignment is a literal, another such
    variable, or a sum or product of them (an optimistic fixed point, so counters qualify)."""
    candidates = set(unboxed)
    assignments = [st for st in ast.statements_in(scope.body) if isinstance(st, ast.Assign) and st.name in candidates]

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


class Intervals:
    """The unboxed variables of every scope and what bounds their values."""

    def __init__(self, scopes: Scopes, inputs: Collection[str]):
        self.unboxed = unboxed_variables(scopes, inputs)
        self.nonnegative = {id(scope): nonnegative_variables(scope, self.unboxed[id(scope)])
                            for scope in scopes.all()}

    def is_unboxed(self, name: str, scope: Scope) -> bool:
        return name in self.unboxed[id(scope)]

    def default_bounds(self, name: str, scope: Scope) -> Bounds:
        """What is known of an unboxed variable with no better knowledge at hand."""
        low = 0 if name in self.nonnegative[id(scope)] else -MAX_COEFFICIENT
        return low, MAX_COEFFICIENT

    def guard(self, condition: ast.Expr, scope: Scope, flow: Flow) -> None:
        """Narrow an unboxed variable's interval by a condition known to hold (``v < 10``)."""
        if not isinstance(condition, ast.Binary) or condition.op not in ("<", "<=", ">", ">="):
            return
        left, right, op = condition.left, condition.right, condition.op
        if isinstance(left, ast.Number) and isinstance(right, ast.Var):
            left, right, op = right, left, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        if not (isinstance(left, ast.Var) and isinstance(right, ast.Number) and is_whole_literal(right.value)):
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


def arithmetic_bounds(op: str, left: Bounds | None, right: Bounds | None) -> Bounds:
    """The interval of ``left op right`` (``+``, ``-`` or ``*``) for operands in these intervals
    (None: anything a number can be). The result may lie outside the numbers' range: that is
    what the overflow check is for."""
    (a_low, a_high), (b_low, b_high) = left or WIDE, right or WIDE
    if op == "+":
        return a_low + b_low, a_high + b_high
    if op == "-":
        return a_low - b_high, a_high - b_low
    corners = (a_low * b_low, a_low * b_high, a_high * b_low, a_high * b_high)
    return min(corners), max(corners)
