"""The numbers in the reference's framing lines (LANGUAGE.md §14.4, Appendix A; HOST.md §2.6.1):
the statement count and the upstream bytecode instruction count."""

from __future__ import annotations

from . import syntax as ast

#: the instructions an expression adds to those of its operands (default 1); unary minus and the
#: short-circuit operators take more in upstream's bytecode
_OWN_INSTRUCTIONS = {ast.Neg: 2}
_LOGICAL_INSTRUCTIONS = {"and": 5, "or": 6}


def expression_count(expr: ast.Expr | None) -> int:
    if expr is None:
        return 0
    if not isinstance(expr, ast.EXPRESSIONS):
        raise TypeError(f"not an expression: {expr!r}")
    if isinstance(expr, ast.Logical):
        own = _LOGICAL_INSTRUCTIONS[expr.op]
    else:
        own = _OWN_INSTRUCTIONS.get(type(expr), 1)
    return own + sum(expression_count(operand) for operand in ast.iter_child_nodes(expr))


def statement_count(statement: ast.Stmt) -> int:
    e = expression_count
    if isinstance(statement, ast.Assign):
        return 2 if statement.value is None else e(statement.value) + 1
    if isinstance(statement, ast.FunctionDef):
        return 3 + block_count(statement.body)
    if isinstance(statement, ast.Return):
        return 2 if statement.value is None else e(statement.value) + 1
    if isinstance(statement, ast.CallStmt):
        return e(statement.call) + 1
    if isinstance(statement, ast.SetIndex):
        return e(statement.index) + e(statement.value) + 1
    if isinstance(statement, ast.SetField):
        return e(statement.value) + 1
    if isinstance(statement, ast.Print):
        return e(statement.value) + 1
    if isinstance(statement, ast.Input):
        return 2 if isinstance(statement.target, ast.Var) else 1
    if isinstance(statement, ast.If):
        count = e(statement.condition) + 1 + block_count(statement.then)
        if statement.otherwise is not None:
            count += 1 + block_count(statement.otherwise)
        return count
    if isinstance(statement, ast.While):
        return e(statement.condition) + 2 + block_count(statement.body)
    if isinstance(statement, ast.ForEach):
        return e(statement.collection) + 17 + block_count(statement.body)
    if isinstance(statement, ast.FileOpen | ast.FileClose):
        return e(statement.path) + 1
    if isinstance(statement, ast.FileWrite):
        return e(statement.path) + e(statement.data) + 1
    if isinstance(statement, ast.FileRead):
        return e(statement.path) + 2
    if isinstance(statement, ast.Respond):
        headers = e(statement.headers) if statement.headers is not None else 1
        return e(statement.status) + e(statement.body) + headers + 1
    if isinstance(statement, ast.DbConnect):
        return e(statement.connection) + 1
    if isinstance(statement, ast.DbDisconnect):
        return 1
    if isinstance(statement, ast.DbExecute):
        return e(statement.sql) + e(statement.params) + 1
    if isinstance(statement, ast.DbQuery):
        return e(statement.sql) + e(statement.params) + 2
    return 1  # route, timer, unsupported statements, an unresolved import


def block_count(statements: list[ast.Stmt]) -> int:
    return sum(statement_count(s) for s in statements)


def instruction_count(statements: list[ast.Stmt]) -> int:
    """Upstream's bytecode length: the statements plus the final halt."""
    return block_count(statements) + 1
