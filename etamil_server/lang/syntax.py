"""The syntax tree of an eTamil program (LANGUAGE.md §3, HOST.md host statements).

Every node carries ``line`` and ``column`` (1-based, columns in code points) of its first token.
Names keep the exact spelling the author wrote (§2.4.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

# ------------------------------------------------------------------------------ expressions


@dataclass(eq=False)
class Node:
    line: int
    column: int


@dataclass(eq=False)
class Number(Node):
    value: Decimal
    text: str  # as written (a percent literal includes the %)


@dataclass(eq=False)
class String(Node):
    value: str
    text: str  # as written, with quotes


@dataclass(eq=False)
class Bool(Node):
    value: bool


@dataclass(eq=False)
class Nil(Node):
    pass


@dataclass(eq=False)
class ArrayLit(Node):
    items: list[Expr]


@dataclass(eq=False)
class RecordLit(Node):
    entries: list[tuple[str, Expr]]


@dataclass(eq=False)
class Var(Node):
    name: str


@dataclass(eq=False)
class Call(Node):
    name: str
    args: list[Expr]


@dataclass(eq=False)
class Index(Node):
    base: Expr
    index: Expr


@dataclass(eq=False)
class Field(Node):
    base: Expr
    key: str


@dataclass(eq=False)
class Try(Node):
    """The postfix ``?``."""

    operand: Expr


@dataclass(eq=False)
class Neg(Node):
    operand: Expr


@dataclass(eq=False)
class Not(Node):
    operand: Expr


@dataclass(eq=False)
class Binary(Node):
    op: str  # one of + - * / & == != < <= > >=
    left: Expr
    right: Expr


@dataclass(eq=False)
class Logical(Node):
    op: str  # "and" | "or"
    left: Expr
    right: Expr


Expr = Union[Number, String, Bool, Nil, ArrayLit, RecordLit, Var, Call, Index, Field, Try, Neg, Not, Binary, Logical]

# ------------------------------------------------------------------------------ statements


@dataclass(eq=False)
class Assign(Node):
    name: str
    value: Expr | None  # None: the declaration ``x;`` (value 0)
    declared: str | None = None  # the type keyword's token name (IntegerType ...) if any
    name_line: int = 0
    name_column: int = 0


@dataclass(eq=False)
class SetIndex(Node):
    name: str
    index: Expr
    value: Expr


@dataclass(eq=False)
class SetField(Node):
    name: str
    key: str
    value: Expr


@dataclass(eq=False)
class CallStmt(Node):
    call: Call


@dataclass(eq=False)
class Return(Node):
    value: Expr | None


@dataclass(eq=False)
class Import(Node):
    path: str


@dataclass(eq=False)
class If(Node):
    condition: Expr
    then: list[Stmt]
    otherwise: list[Stmt] | None


@dataclass(eq=False)
class While(Node):
    condition: Expr
    body: list[Stmt]


@dataclass(eq=False)
class ForEach(Node):
    var: str
    collection: Expr
    body: list[Stmt]


@dataclass(eq=False)
class FunctionDef(Node):
    name: str
    params: list[str]
    body: list[Stmt]


# host statements ------------------------------------------------------------------------


@dataclass(eq=False)
class Print(Node):
    value: Expr


@dataclass(eq=False)
class Input(Node):
    target: Expr  # a Var stores the line; anything else discards it


@dataclass(eq=False)
class FileOpen(Node):
    path: Expr
    mode: str  # fixed at parse time (HOST.md §6.1), already lower-cased


@dataclass(eq=False)
class FileClose(Node):
    path: Expr


@dataclass(eq=False)
class FileWrite(Node):
    path: Expr
    data: Expr
    csv: bool = False


@dataclass(eq=False)
class FileRead(Node):
    path: Expr
    target: str
    csv: bool = False


@dataclass(eq=False)
class DbConnect(Node):
    db_type: str  # canonical name for a database-type keyword, else the token's text
    connection: Expr


@dataclass(eq=False)
class DbDisconnect(Node):
    db_type: str


@dataclass(eq=False)
class DbExecute(Node):
    sql: Expr
    params: Expr


@dataclass(eq=False)
class DbQuery(Node):
    sql: Expr
    params: Expr
    target: str


@dataclass(eq=False)
class Route(Node):
    method: str  # GET/POST/... for method keywords, upper-cased identifier, else the token name
    path: Expr
    body: list[Stmt]
    method_text: str = ""


@dataclass(eq=False)
class Every(Node):
    interval: Expr
    body: list[Stmt]


@dataclass(eq=False)
class Respond(Node):
    status: Expr
    body: Expr
    headers: Expr | None


@dataclass(eq=False)
class Unsupported(Node):
    """A statement that parses but has no runtime: fails with ``label — … not implemented``.
    ``count`` is its instruction count for the framing line (HOST.md §2.6.1)."""

    label: str
    count: int = 1


Stmt = Union[
    Assign, SetIndex, SetField, CallStmt, Return, Import, If, While, ForEach, FunctionDef, Print, Input,
    FileOpen, FileClose, FileWrite, FileRead, DbConnect, DbDisconnect, DbExecute, DbQuery, Route, Every,
    Respond, Unsupported,
]


@dataclass(eq=False)
class Program:
    """A loaded program: top-level statements after import splicing."""

    statements: list[Stmt]
    path: str | None = None  # canonical path of the main file (None for stdin)
    files: list[str] = field(default_factory=list)  # every file loaded, in order
