"""The numbers in the reference's framing lines (LANGUAGE.md §14.4, Appendix A; HOST.md §2.6.1):
the statement count and the upstream bytecode instruction count."""

from __future__ import annotations

from . import syntax as ast


def expression_count(expr: ast.Expr | None) -> int:
    if expr is None:
        return 0
    if isinstance(expr, ast.Number | ast.String | ast.Bool | ast.Nil | ast.Var):
        return 1
    if isinstance(expr, ast.Binary):
        return expression_count(expr.left) + expression_count(expr.right) + 1
    if isinstance(expr, ast.Logical):
        extra = 5 if expr.op == "and" else 6
        return expression_count(expr.left) + expression_count(expr.right) + extra
    if isinstance(expr, ast.Neg):
        return expression_count(expr.operand) + 2
    if isinstance(expr, ast.Not | ast.Try):
        return expression_count(expr.operand) + 1
    if isinstance(expr, ast.Field):
        return expression_count(expr.base) + 1
    if isinstance(expr, ast.Index):
        return expression_count(expr.base) + expression_count(expr.index) + 1
    if isinstance(expr, ast.Call):
        return sum(expression_count(a) for a in expr.args) + 1
    if isinstance(expr, ast.ArrayLit):
        return sum(expression_count(a) for a in expr.items) + 1
    if isinstance(expr, ast.RecordLit):
        return sum(expression_count(v) for _, v in expr.entries) + 1
    raise TypeError(f"not an expression: {expr!r}")


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
