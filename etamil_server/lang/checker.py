"""The declared-type checker (LANGUAGE.md §12): enforces only what declarations state.

All errors are collected, in program order, and nothing runs if there is one.
"""

from __future__ import annotations

from . import syntax as ast

NUMBER, TEXT, BOOLEAN, ARRAY, RECORD, DATE = "number", "text", "boolean", "array", "record", "date"

_DECLARED_BY_TOKEN = {
    "IntegerType": NUMBER,
    "FloatType": NUMBER,
    "StringType": TEXT,
    "TextType": TEXT,
    "BoolType": BOOLEAN,
    "ArrayType": ARRAY,
    "DataType": RECORD,
    "ObjectType": RECORD,
    "DateType": DATE,
}

_DECLARED_TEXT = {
    NUMBER: "எண் (eN, a number)",
    TEXT: "சொல் (col, a string)",
    BOOLEAN: "ஈர்ம (Irma, a boolean)",
    ARRAY: "அணி (aNi, an array)",
    RECORD: "பொருள் (poruL, a record)",
    DATE: "தேதி (qEqi, a date)",
}

_FOUND_TEXT = {
    NUMBER: "ஒரு எண் (a number)",
    TEXT: "ஒரு சொல் (a string)",
    BOOLEAN: "ஒரு ஈர்மம் (a boolean)",
    ARRAY: "ஒரு அணி (an array)",
    RECORD: "ஒரு பொருள் (a record)",
}

_SATISFIES = {
    NUMBER: {NUMBER},
    BOOLEAN: {BOOLEAN},
    ARRAY: {ARRAY},
    RECORD: {RECORD},
    TEXT: {TEXT, NUMBER},
    DATE: {TEXT, NUMBER},
}

_ARITHMETIC = frozenset("+-*/")
_COMPARISON = frozenset({"==", "!=", "<", "<=", ">", ">="})


def type_error(line: int, column: int, name: str, declared: str, found: str) -> str:
    d, f = _DECLARED_TEXT[declared], _FOUND_TEXT[found]
    return (
        f"வரி {line}, நெடுவரிசை {column}: '{name}' {d} என அறிவிக்கப்பட்டது, ஆனால் {f} வழங்கப்பட்டது  "
        f"(line {line}, column {column}: '{name}' is declared {d}, but was given {f})"
    )


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.table: dict[str, str] = {}

    def infer(self, expr: ast.Expr | None) -> str | None:
        """The inferred kind of an expression, or None for unknown."""
        if expr is None:  # ``x;`` stores 0
            return NUMBER
        if isinstance(expr, ast.Number | ast.Neg):
            return NUMBER
        if isinstance(expr, ast.String):
            return TEXT
        if isinstance(expr, ast.Bool | ast.Not | ast.Logical):
            return BOOLEAN
        if isinstance(expr, ast.ArrayLit):
            return ARRAY
        if isinstance(expr, ast.RecordLit):
            return RECORD
        if isinstance(expr, ast.Binary):
            if expr.op in _ARITHMETIC:
                return NUMBER
            if expr.op == "&":
                return TEXT
            return BOOLEAN
        if isinstance(expr, ast.Var):
            declared = self.table.get(expr.name)
            return TEXT if declared == DATE else declared
        return None

    def check_value(self, statement: ast.Assign, declared: str) -> None:
        found = self.infer(statement.value)
        if found is not None and found not in _SATISFIES[declared]:
            self.errors.append(
                type_error(statement.name_line, statement.name_column, statement.name, declared, found)
            )

    def statements(self, statements: list[ast.Stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, statement: ast.Stmt) -> None:
        if isinstance(statement, ast.Assign):
            if statement.declared is not None:
                declared = _DECLARED_BY_TOKEN[statement.declared]
                self.check_value(statement, declared)
                self.table[statement.name] = declared
            elif statement.name in self.table:
                self.check_value(statement, self.table[statement.name])
        elif isinstance(statement, ast.FunctionDef):
            outer, self.table = self.table, {}
            self.statements(statement.body)
            self.table = outer
        else:
            if isinstance(statement, ast.ForEach):
                self.table.pop(statement.var, None)
            elif isinstance(statement, ast.FileRead | ast.DbQuery):
                self.table.pop(statement.target, None)
            # if and loop blocks share the table; so do route and timer bodies
            for block in ast.blocks(statement):
                self.statements(block)


def check(program: ast.Program | list[ast.Stmt]) -> list[str]:
    """Every type error of the program, in order (empty when it is well typed)."""
    statements = program.statements if isinstance(program, ast.Program) else program
    checker = _Checker()
    checker.statements(statements)
    return checker.errors
