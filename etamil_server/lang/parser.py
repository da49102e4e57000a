"""The parser (LANGUAGE.md §3, HOST.md host statements): tokens -> syntax tree.

Recursive descent over the EBNF of §3.1. Parsing stops at the first error, reported in one of the
two formats of §3.5 with the exact ``{expected}`` texts.
"""

from __future__ import annotations

from . import syntax as ast
from .keywords import DATABASE_TYPES, HTTP_METHODS, TYPE_TOKENS, display_name
from .lexer import IDENT, NUMBER, PERCENT, STRING, Token


class ParseError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def found_message(token: Token, expected: str) -> str:
    return (
        f"வரி {token.line}, நெடுவரிசை {token.column}: {expected} எதிர்பார்க்கப்பட்டது, "
        f"'{token.text}' கிடைத்தது  (line {token.line}, column {token.column}: expected {expected}, "
        f"found '{token.text}')"
    )


def ended_message(line: int, column: int, expected: str) -> str:
    return (
        f"வரி {line}, நெடுவரிசை {column}: {expected} எதிர்பார்க்கப்பட்டது, உள்ளீடு முடிந்தது  "
        f"(line {line}, column {column}: expected {expected}, but the input ended)"
    )


_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ADDITIVE = frozenset({"+", "-", "&"})
_TERM = frozenset({"*", "/"})
_IF_OR_LOOP = "எனில் (eZil) or சுற்று (cuRRu) after a condition"
_IMPORT_PATH = "a quoted file path after இறக்கு (iRakku)"

# Statements that parse but never run, with their labels (HOST.md §4.16, §5.10).
_UNSUPPORTED_LABELS = {
    "DBInsert": "தளம்_செருக (database insert)",
    "DBUpdate": "தளம்_புதுப்பி (database update)",
    "DBDelete": "தளம்_நீக்கு (database delete)",
    "CreateTable": "அட்டை_ஆக்கு (create table)",
    "Select": "தேர்வெடு (select)",
    "JSONBody": "ஜேசான்_உரை (json response)",
    "StartServer": "வழங்கி_தொடங்கு (start server)",
    "StopServer": "வழங்கி_நிறுத்து (stop server)",
}


class Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.position = 0

    # ------------------------------------------------------------------ token helpers
    def peek(self, offset: int = 0) -> Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def error(self, expected: str) -> ParseError:
        token = self.peek()
        if token is None:
            if self.position:
                last = self.tokens[self.position - 1]
                return ParseError(ended_message(last.line, last.column, expected))
            return ParseError(ended_message(1, 1, expected))
        return ParseError(found_message(token, expected))

    def at(self, kind: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == kind

    def expect(self, kind: str, expected: str | None = None) -> Token:
        if self.at(kind):
            return self.advance()
        raise self.error(expected or f"'{kind}'")

    def name(self, expected: str) -> Token:
        token = self.peek()
        if token is not None and token.is_name:
            return self.advance()
        raise self.error(expected)

    def key(self, expected: str) -> str:
        """``key = NAME | STRING`` — a string stands for its contents (§3.3)."""
        token = self.peek()
        if token is not None and (token.is_name or token.kind == STRING):
            self.advance()
            return token.value if token.kind == STRING else token.text
        raise self.error(expected)

    # ------------------------------------------------------------------ statements
    def program(self) -> list[ast.Stmt]:
        statements = []
        while self.peek() is not None:
            statements.append(self.statement())
        return statements

    def block(self) -> list[ast.Stmt]:
        self.expect("{")
        statements = []
        while not self.at("}"):
            if self.peek() is None:
                raise self.error("'}'")
            statements.append(self.statement())
        self.advance()
        return statements

    def statement(self) -> ast.Stmt:
        token = self.peek()
        if token is None:
            raise self.error("a statement")
        if token.kind in TYPE_TOKENS:
            self.advance()
            following = self.peek()
            if following is not None and following.kind in TYPE_TOKENS:
                raise self.error("a name after the type")
            if following is not None and following.is_name:
                return self.simple(token.kind)
            if following is None:
                raise self.error("a name after the type")
            return self.statement()  # quirk: the type keyword is silently dropped (§3.2)
        if token.is_name:
            return self.simple(None)
        method = getattr(self, "stmt_" + token.kind, None)
        if method is not None:
            return method(self.advance())
        if token.kind in _UNSUPPORTED_LABELS:
            return self.unsupported(self.advance())
        raise self.error("a statement")

    def simple(self, declared: str | None) -> ast.Stmt:
        name = self.advance()
        following = self.peek()
        kind = following.kind if following is not None else None
        if kind == "=":
            self.advance()
            value = self.expression()
            self.expect(";")
            return ast.Assign(name.line, name.column, name.text, value, declared, name.line, name.column)
        if kind == ";":
            self.advance()
            return ast.Assign(name.line, name.column, name.text, None, declared, name.line, name.column)
        if kind == "[":
            self.advance()
            index = self.expression()
            self.expect("]")
            self.expect("=")
            value = self.expression()
            self.expect(";")
            return ast.SetIndex(name.line, name.column, name.text, index, value)
        if kind == ".":
            self.advance()
            key = self.key("a field name")
            self.expect("=")
            value = self.expression()
            self.expect(";")
            return ast.SetField(name.line, name.column, name.text, key, value)
        if kind == "(":
            call = self.call(name)
            self.expect(";")
            return ast.CallStmt(name.line, name.column, call)
        raise self.error("'='")

    def stmt_Return(self, token: Token) -> ast.Stmt:
        if self.at(";"):
            self.advance()
            return ast.Return(token.line, token.column, None)
        value = self.expression()
        self.expect(";")
        return ast.Return(token.line, token.column, value)

    def stmt_Import(self, token: Token) -> ast.Stmt:
        value = self.expression()
        semicolon = self.expect(";")
        if not isinstance(value, ast.String):
            # quirk: a misleading "input ended" message at the ';' (§3.2)
            raise ParseError(ended_message(semicolon.line, semicolon.column, _IMPORT_PATH))
        return ast.Import(token.line, token.column, value.value)

    def stmt_paren(self, token: Token) -> ast.Stmt:
        condition = self.expression()
        self.expect(")")
        following = self.peek()
        if following is not None and following.kind == "If":
            self.advance()
            then = self.block()
            otherwise = None
            if self.at("Else"):
                self.advance()
                otherwise = self.block()
            return ast.If(token.line, token.column, condition, then, otherwise)
        if following is not None and following.kind == "Loop":
            self.advance()
            return ast.While(token.line, token.column, condition, self.block())
        raise self.error(_IF_OR_LOOP)

    def stmt_ForEach(self, token: Token) -> ast.Stmt:
        var = self.key("a loop variable")
        self.expect("In", display_name("In"))
        collection = self.expression()
        return ast.ForEach(token.line, token.column, var, collection, self.block())

    def stmt_Function(self, token: Token) -> ast.Stmt:
        name = self.key("a function name")
        self.expect("(")
        params = []
        if not self.at(")"):
            params.append(self.key("a parameter name"))
            while self.at(","):
                self.advance()
                params.append(self.key("a parameter name"))
        self.expect(")")
        return ast.FunctionDef(token.line, token.column, name, params, self.block())

    # host statements -------------------------------------------------------------
    def stmt_Print(self, token: Token) -> ast.Stmt:
        value = self.expression()
        self.expect(";")
        return ast.Print(token.line, token.column, value)

    def stmt_Input(self, token: Token) -> ast.Stmt:
        target = self.expression()
        self.expect(";")
        return ast.Input(token.line, token.column, target)

    def stmt_FileOpen(self, token: Token) -> ast.Stmt:
        path = self.expression()
        mode = "read"
        if self.at(","):
            self.advance()
            mode = _mode_text(self.expression()).lower()
        self.expect(";")
        return ast.FileOpen(token.line, token.column, path, mode)

    def stmt_FileClose(self, token: Token) -> ast.Stmt:
        path = self.expression()
        self.expect(";")
        return ast.FileClose(token.line, token.column, path)

    def _write(self, token: Token, csv: bool) -> ast.Stmt:
        path = self.expression()
        self.expect(",")
        data = self.expression()
        self.expect(";")
        return ast.FileWrite(token.line, token.column, path, data, csv)

    def stmt_FileWrite(self, token: Token) -> ast.Stmt:
        return self._write(token, False)

    def stmt_WriteCSV(self, token: Token) -> ast.Stmt:
        return self._write(token, True)

    def _read(self, token: Token, csv: bool) -> ast.Stmt:
        path = self.expression()
        self.expect(",")
        target = self.key("a variable to read into")
        self.expect(";")
        return ast.FileRead(token.line, token.column, path, target, csv)

    def stmt_FileRead(self, token: Token) -> ast.Stmt:
        return self._read(token, False)

    def stmt_ReadCSV(self, token: Token) -> ast.Stmt:
        return self._read(token, True)

    def _any_token(self, expected: str) -> Token:
        if self.peek() is None:
            raise self.error(expected)
        return self.advance()

    def stmt_DBConnect(self, token: Token) -> ast.Stmt:
        db_type = _database_type(self._any_token("a database type"))
        self.expect(",")
        connection = self.expression()
        self.expect(";")
        return ast.DbConnect(token.line, token.column, db_type, connection)

    def stmt_DBDisconnect(self, token: Token) -> ast.Stmt:
        db_type = _database_type(self._any_token("a database type"))
        self.expect(";")
        return ast.DbDisconnect(token.line, token.column, db_type)

    def stmt_DBExecute(self, token: Token) -> ast.Stmt:
        sql = self.expression()
        self.expect(",")
        params = self.expression()
        self.expect(";")
        return ast.DbExecute(token.line, token.column, sql, params)

    def stmt_DBQuery(self, token: Token) -> ast.Stmt:
        sql = self.expression()
        self.expect(",")
        params = self.expression()
        self.expect(",")
        target = self.key("a variable to hold the rows")
        self.expect(";")
        return ast.DbQuery(token.line, token.column, sql, params, target)

    def stmt_Route(self, token: Token) -> ast.Stmt:
        method_token = self._any_token("an HTTP method")
        if method_token.kind in HTTP_METHODS:
            method = HTTP_METHODS[method_token.kind]
        elif method_token.kind == IDENT:
            method = method_token.text.upper()
        else:
            method = method_token.kind  # upstream's internal token name: no client sends it
        self.expect(",")
        path = self.expression()
        body = self.block()
        return ast.Route(token.line, token.column, method, path, body, method_token.text)

    def stmt_Every(self, token: Token) -> ast.Stmt:
        interval = self.expression()
        return ast.Every(token.line, token.column, interval, self.block())

    def stmt_Response(self, token: Token) -> ast.Stmt:
        status = self.expression()
        self.expect(",")
        body = self.expression()
        headers = None
        if self.at(","):
            self.advance()
            headers = self.expression()
        self.expect(";")
        return ast.Respond(token.line, token.column, status, body, headers)

    def unsupported(self, token: Token) -> ast.Stmt:
        """Statements that parse but have no runtime; their expressions are never compiled."""
        kind = token.kind
        if kind in ("DBInsert", "DBDelete", "CreateTable"):
            self.key("a table name")
            self.expect(",")
            self.expression()
        elif kind == "DBUpdate":
            self.key("a table name")
            self.expect(",")
            self.expression()
            if self.at(","):
                self.advance()
                self.expression()
        elif kind == "Select":
            self.key("a column name")
            while self.at(","):
                self.advance()
                self.key("a column name")
            self.expect("From", display_name("From"))
            self.key("a table name")
            if self.at("Where"):
                self.advance()
                self.expression()
        elif kind == "JSONBody":
            self.expression()
            if self.at(","):
                self.advance()
                self.expression()
        elif kind == "StartServer":
            self.expression()
            self.expect(",")
            self.expression()
        self.expect(";")
        return ast.Unsupported(token.line, token.column, _UNSUPPORTED_LABELS[kind])

    # ------------------------------------------------------------------ expressions
    def expression(self) -> ast.Expr:
        return self.or_expr()

    def or_expr(self) -> ast.Expr:
        left = self.and_expr()
        while self.at("Or"):
            token = self.advance()
            left = ast.Logical(token.line, token.column, "or", left, self.and_expr())
        return left

    def and_expr(self) -> ast.Expr:
        left = self.not_expr()
        while self.at("And"):
            token = self.advance()
            left = ast.Logical(token.line, token.column, "and", left, self.not_expr())
        return left

    def not_expr(self) -> ast.Expr:
        if self.at("Not"):
            token = self.advance()
            return ast.Not(token.line, token.column, self.not_expr())
        return self.comparison()

    def _binary_level(self, operators: frozenset[str], operand) -> ast.Expr:
        left = operand()
        while True:
            token = self.peek()
            if token is None or token.kind not in operators:
                return left
            self.advance()
            left = ast.Binary(token.line, token.column, token.kind, left, operand())

    def comparison(self) -> ast.Expr:
        return self._binary_level(_COMPARISONS, self.additive)

    def additive(self) -> ast.Expr:
        return self._binary_level(_ADDITIVE, self.term)

    def term(self) -> ast.Expr:
        return self._binary_level(_TERM, self.postfix)

    def postfix(self) -> ast.Expr:
        node = self.primary()
        while True:
            token = self.peek()
            if token is None:
                return node
            if token.kind == "[":
                self.advance()
                index = self.expression()
                self.expect("]")
                node = ast.Index(token.line, token.column, node, index)
            elif token.kind == ".":
                self.advance()
                node = ast.Field(token.line, token.column, node, self.key("a field name"))
            elif token.kind == "?":
                self.advance()
                node = ast.Try(token.line, token.column, node)
            else:
                return node

    def primary(self) -> ast.Expr:
        token = self.peek()
        if token is None:
            raise self.error("a value")
        kind = token.kind
        if kind in (NUMBER, PERCENT):
            self.advance()
            return ast.Number(token.line, token.column, token.value, token.text)
        if kind == STRING:
            self.advance()
            return ast.String(token.line, token.column, token.value, token.text)
        if kind == "True" or kind == "False":
            self.advance()
            return ast.Bool(token.line, token.column, kind == "True")
        if kind == "Null":
            self.advance()
            return ast.Nil(token.line, token.column)
        if kind == "[":
            self.advance()
            items = []
            if not self.at("]"):
                items.append(self.expression())
                while self.at(","):
                    self.advance()
                    items.append(self.expression())
            self.expect("]")
            return ast.ArrayLit(token.line, token.column, items)
        if kind == "{":
            self.advance()
            entries = []
            if not self.at("}"):
                entries.append(self._entry())
                while self.at(","):
                    self.advance()
                    entries.append(self._entry())
            self.expect("}")
            return ast.RecordLit(token.line, token.column, entries)
        if kind == "-":
            self.advance()
            return ast.Neg(token.line, token.column, self.postfix())
        if kind == "(":
            self.advance()
            inner = self.expression()
            self.expect(")")
            return inner
        if token.is_name:
            self.advance()
            if self.at("("):
                return self.call(token)
            return ast.Var(token.line, token.column, token.text)
        raise self.error("a value")

    def _entry(self) -> tuple[str, ast.Expr]:
        key = self.key("a field name")
        self.expect(":")
        return key, self.expression()

    def call(self, name: Token) -> ast.Call:
        self.expect("(")
        args = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.advance()
                args.append(self.expression())
        self.expect(")")
        return ast.Call(name.line, name.column, name.text, args)


# "(" starts a condition statement: the statement dispatch looks up "stmt_" + token kind.
setattr(Parser, "stmt_(", Parser.stmt_paren)  # noqa: B010 - "(" is not an identifier


def _mode_text(expr: ast.Expr) -> str:
    """The file-open mode is fixed at parse time from the source (HOST.md §6.1)."""
    if isinstance(expr, ast.String):
        return expr.value
    if isinstance(expr, ast.Var):
        return expr.name
    if isinstance(expr, ast.Number):
        return expr.text
    return "expression"


def _database_type(token: Token) -> str:
    if token.kind in DATABASE_TYPES:
        return DATABASE_TYPES[token.kind]
    return token.text


def parse(tokens: list[Token]) -> list[ast.Stmt]:
    return Parser(tokens).program()
