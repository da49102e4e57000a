"""The syntax tree of an eTamil program (LANGUAGE.md §3, HOST.md host statements).

Every node carries ``line`` and ``column`` (1-based, columns in code points) of its first token.
Names keep the exact spelling the author wrote (§2.4.2). Plain classes with ``__slots__`` rather
than dataclasses: the ``etamil`` command's start-up time matters, and building ~40 dataclasses costs
more than the rest of the front end's import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal


class Node:
    # ``file``: the canonical path of the file a statement was loaded from, set by the loader on
    # top-level statements and on every function definition (read it with :func:`origin`)
    __slots__ = ("line", "column", "file")

    #: fields that name a place the statement stores into rather than an expression it evaluates
    #: (``உள்ளிடு x;`` never evaluates ``x``); :func:`expressions` leaves them out
    places: tuple[str, ...] = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in node_fields(type(self)))
        return f"{type(self).__name__}({fields})"


def node_fields(cls: type) -> list[str]:
    """Every attribute of a syntax node class (base class slots first, ``file`` left out)."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        names.extend(name for name in getattr(klass, "__slots__", ()) if name != "file")
    return names


def origin(node: Node) -> str | None:
    """The file ``node`` was loaded from (None: typed at a prompt, read from standard input, or
    built by hand)."""
    return getattr(node, "file", None)


class Number(Node):
    __slots__ = ("value", "text")

    def __init__(self, line: int, column: int, value: Decimal, text: str):
        self.line = line
        self.column = column
        self.value = value
        self.text = text  # as written (a percent literal includes the %)


class String(Node):
    __slots__ = ("value", "text")

    def __init__(self, line: int, column: int, value: str, text: str):
        self.line = line
        self.column = column
        self.value = value
        self.text = text  # as written, with quotes


class Bool(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: bool):
        self.line = line
        self.column = column
        self.value = value


class Nil(Node):
    __slots__ = ()

    def __init__(self, line: int, column: int):
        self.line = line
        self.column = column


class ArrayLit(Node):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int, items: list[Expr]):
        self.line = line
        self.column = column
        self.items = items


class RecordLit(Node):
    __slots__ = ("entries",)

    def __init__(self, line: int, column: int, entries: list[tuple[str, Expr]]):
        self.line = line
        self.column = column
        self.entries = entries


class Var(Node):
    __slots__ = ("name",)

    def __init__(self, line: int, column: int, name: str):
        self.line = line
        self.column = column
        self.name = name


class Call(Node):
    __slots__ = ("name", "args")

    def __init__(self, line: int, column: int, name: str, args: list[Expr]):
        self.line = line
        self.column = column
        self.name = name
        self.args = args


class Index(Node):
    __slots__ = ("base", "index")

    def __init__(self, line: int, column: int, base: Expr, index: Expr):
        self.line = line
        self.column = column
        self.base = base
        self.index = index


class Field(Node):
    __slots__ = ("base", "key")

    def __init__(self, line: int, column: int, base: Expr, key: str):
        self.line = line
        self.column = column
        self.base = base
        self.key = key


class Try(Node):
    """The postfix ``?``."""

    __slots__ = ("operand",)

    def __init__(self, line: int, column: int, operand: Expr):
        self.line = line
        self.column = column
        self.operand = operand


class Neg(Node):
    __slots__ = ("operand",)

    def __init__(self, line: int, column: int, operand: Expr):
        self.line = line
        self.column = column
        self.operand = operand


class Not(Node):
    __slots__ = ("operand",)

    def __init__(self, line: int, column: int, operand: Expr):
        self.line = line
        self.column = column
        self.operand = operand


class Binary(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, line: int, column: int, op: str, left: Expr, right: Expr):
        self.line = line
        self.column = column
        self.op = op  # one of + - * / & == != < <= > >=
        self.left = left
        self.right = right


class Logical(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, line: int, column: int, op: str, left: Expr, right: Expr):
        self.line = line
        self.column = column
        self.op = op  # "and" | "or"
        self.left = left
        self.right = right


Expr = (
    Number
    | String
    | Bool
    | Nil
    | ArrayLit
    | RecordLit
    | Var
    | Call
    | Index
    | Field
    | Try
    | Neg
    | Not
    | Binary
    | Logical
)


class Assign(Node):
    __slots__ = ("name", "value", "declared", "name_line", "name_column")

    def __init__(
        self,
        line: int,
        column: int,
        name: str,
        value: Expr | None,
        declared: str | None = None,
        name_line: int = 0,
        name_column: int = 0,
    ):
        self.line = line
        self.column = column
        self.name = name
        self.value = value  # None: the declaration ``x;`` (value 0)
        self.declared = declared  # the type keyword's token name (IntegerType ...) if any
        self.name_line = name_line
        self.name_column = name_column


class SetIndex(Node):
    __slots__ = ("name", "index", "value")

    def __init__(self, line: int, column: int, name: str, index: Expr, value: Expr):
        self.line = line
        self.column = column
        self.name = name
        self.index = index
        self.value = value


class SetField(Node):
    __slots__ = ("name", "key", "value")

    def __init__(self, line: int, column: int, name: str, key: str, value: Expr):
        self.line = line
        self.column = column
        self.name = name
        self.key = key
        self.value = value


class CallStmt(Node):
    __slots__ = ("call",)

    def __init__(self, line: int, column: int, call: Call):
        self.line = line
        self.column = column
        self.call = call


class Return(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: Expr | None):
        self.line = line
        self.column = column
        self.value = value


class Import(Node):
    __slots__ = ("path",)

    def __init__(self, line: int, column: int, path: str):
        self.line = line
        self.column = column
        self.path = path


class If(Node):
    __slots__ = ("condition", "then", "otherwise")

    def __init__(
        self, line: int, column: int, condition: Expr, then: list[Stmt], otherwise: list[Stmt] | None
    ):
        self.line = line
        self.column = column
        self.condition = condition
        self.then = then
        self.otherwise = otherwise


class While(Node):
    __slots__ = ("condition", "body")

    def __init__(self, line: int, column: int, condition: Expr, body: list[Stmt]):
        self.line = line
        self.column = column
        self.condition = condition
        self.body = body


class ForEach(Node):
    __slots__ = ("var", "collection", "body")

    def __init__(self, line: int, column: int, var: str, collection: Expr, body: list[Stmt]):
        self.line = line
        self.column = column
        self.var = var
        self.collection = collection
        self.body = body


class FunctionDef(Node):
    __slots__ = ("name", "params", "body")

    def __init__(self, line: int, column: int, name: str, params: list[str], body: list[Stmt]):
        self.line = line
        self.column = column
        self.name = name
        self.params = params
        self.body = body


class Print(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: Expr):
        self.line = line
        self.column = column
        self.value = value


class Input(Node):
    __slots__ = ("target",)
    places = ("target",)

    def __init__(self, line: int, column: int, target: Expr):
        self.line = line
        self.column = column
        self.target = target  # a Var stores the line; anything else discards it


class FileOpen(Node):
    __slots__ = ("path", "mode")

    def __init__(self, line: int, column: int, path: Expr, mode: str):
        self.line = line
        self.column = column
        self.path = path
        self.mode = mode  # fixed at parse time (HOST.md §6.1), already lower-cased


class FileClose(Node):
    __slots__ = ("path",)

    def __init__(self, line: int, column: int, path: Expr):
        self.line = line
        self.column = column
        self.path = path


class FileWrite(Node):
    __slots__ = ("path", "data", "csv")

    def __init__(self, line: int, column: int, path: Expr, data: Expr, csv: bool = False):
        self.line = line
        self.column = column
        self.path = path
        self.data = data
        self.csv = csv


class FileRead(Node):
    __slots__ = ("path", "target", "csv")

    def __init__(self, line: int, column: int, path: Expr, target: str, csv: bool = False):
        self.line = line
        self.column = column
        self.path = path
        self.target = target
        self.csv = csv


class DbConnect(Node):
    __slots__ = ("db_type", "connection")

    def __init__(self, line: int, column: int, db_type: str, connection: Expr):
        self.line = line
        self.column = column
        self.db_type = db_type  # canonical name for a database-type keyword, else the token's text
        self.connection = connection


class DbDisconnect(Node):
    __slots__ = ("db_type",)

    def __init__(self, line: int, column: int, db_type: str):
        self.line = line
        self.column = column
        self.db_type = db_type


class DbExecute(Node):
    __slots__ = ("sql", "params")

    def __init__(self, line: int, column: int, sql: Expr, params: Expr):
        self.line = line
        self.column = column
        self.sql = sql
        self.params = params


class DbQuery(Node):
    __slots__ = ("sql", "params", "target")

    def __init__(self, line: int, column: int, sql: Expr, params: Expr, target: str):
        self.line = line
        self.column = column
        self.sql = sql
        self.params = params
        self.target = target


class Route(Node):
    __slots__ = ("method", "path", "body", "method_text")

    def __init__(
        self, line: int, column: int, method: str, path: Expr, body: list[Stmt], method_text: str = ""
    ):
        self.line = line
        self.column = column
        self.method = method  # GET/POST/... for method keywords, upper-cased identifier, else the token name
        self.path = path
        self.body = body
        self.method_text = method_text


class Every(Node):
    __slots__ = ("interval", "body")

    def __init__(self, line: int, column: int, interval: Expr, body: list[Stmt]):
        self.line = line
        self.column = column
        self.interval = interval
        self.body = body


class Respond(Node):
    __slots__ = ("status", "body", "headers")

    def __init__(self, line: int, column: int, status: Expr, body: Expr, headers: Expr | None):
        self.line = line
        self.column = column
        self.status = status
        self.body = body
        self.headers = headers


class Unsupported(Node):
    """A statement that parses but has no runtime: fails with ``label — … not implemented``.
    ``count`` is its instruction count for the framing line (HOST.md §2.6.1)."""

    __slots__ = ("label", "count")

    def __init__(self, line: int, column: int, label: str, count: int = 1):
        self.line = line
        self.column = column
        self.label = label
        self.count = count


Stmt = (
    Assign
    | SetIndex
    | SetField
    | CallStmt
    | Return
    | Import
    | If
    | While
    | ForEach
    | FunctionDef
    | Print
    | Input
    | FileOpen
    | FileClose
    | FileWrite
    | FileRead
    | DbConnect
    | DbDisconnect
    | DbExecute
    | DbQuery
    | Route
    | Every
    | Respond
    | Unsupported
)


class Program:
    """A loaded program: top-level statements after import splicing."""

    __slots__ = ("statements", "path", "files")

    def __init__(self, statements: list[Stmt], path: str | None = None, files: list[str] | None = None):
        self.statements = statements
        self.path = path  # canonical path of the main file (None for stdin)
        self.files = files if files is not None else []  # every file loaded, in order


# ============================================================================== walking the tree
#
# One generic walker, as CPython's ``ast.iter_child_nodes``/``ast.walk``: the children of a node are
# read from its class's field list (:func:`node_fields`), so a new node class or field is walked
# without anyone writing its field names out again.

EXPRESSIONS: tuple[type, ...] = Expr.__args__
STATEMENTS: tuple[type, ...] = Stmt.__args__
#: the statements whose blocks belong to the scope around them (a function body, a route or
#: timer body does not)
BLOCK_STATEMENTS: tuple[type, ...] = (If, While, ForEach)

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(name for name in node_fields(cls) if name not in ("line", "column"))
    return fields


def iter_child_nodes(node: Node) -> Iterator[Node]:
    """The nodes directly inside ``node``, in field order (which is source order): expressions,
    the statements of nested blocks, the values of a record literal's entries."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item
                elif isinstance(item, tuple):  # a record literal's (key, value)
                    yield from (part for part in item if isinstance(part, Node))


def walk(node: Node | None) -> Iterator[Node]:
    """``node`` and every node under it, depth first in source order (a parent before its
    children, left before right). Nothing for None (an absent optional expression)."""
    if node is None:
        return
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        children = list(iter_child_nodes(current))
        children.reverse()
        pending.extend(children)


def nodes_in(statements: Iterable[Node]) -> Iterator[Node]:
    """Every node under these statements, nested blocks of every kind and expressions included."""
    for statement in statements:
        yield from walk(statement)


def expressions(statement: Node) -> Iterator[Node]:
    """The expressions ``statement`` itself evaluates, in source order: not those of statements
    in its nested blocks, not the places it stores into."""
    places = statement.places
    for name in _child_fields(type(statement)):
        if name in places:
            continue
        value = getattr(statement, name)
        if isinstance(value, EXPRESSIONS):
            yield value


def blocks(statement: Node) -> Iterator[list[Stmt]]:
    """The statement lists directly inside ``statement`` (an if's two branches, a loop's,
    function's, route's or timer's body), in source order; an absent else is no block."""
    for name in _child_fields(type(statement)):
        value = getattr(statement, name)
        if isinstance(value, list) and value and isinstance(value[0], STATEMENTS):
            yield value


def statements_in(body: Iterable[Stmt], enter: tuple[type, ...] = BLOCK_STATEMENTS) -> Iterator[Stmt]:
    """Every statement of ``body``, in program order, descending into the blocks of statements
    whose type is in ``enter``. The default walks one scope: into if and loop blocks, not into
    function, route or timer bodies."""
    for statement in body:
        yield statement
        if isinstance(statement, enter):
            for block in blocks(statement):
                yield from statements_in(block, enter)


def assigned_names(statement: Stmt) -> tuple[str, ...]:
    """The variables ``statement`` writes (LANGUAGE.md §8): an assignment's, an element or field
    assignment's, the for-each variable, ``உள்ளிடு x;``'s, a file, CSV or database read's result."""
    if isinstance(statement, Assign | SetIndex | SetField):
        return (statement.name,)
    if isinstance(statement, ForEach):
        return (statement.var,)
    if isinstance(statement, Input) and isinstance(statement.target, Var):
        return (statement.target.name,)
    if isinstance(statement, FileRead | DbQuery):
        return (statement.target,)
    return ()


def assigned_in(body: Iterable[Stmt]) -> set[str]:
    """The variables any statement of this scope writes (nested function bodies excluded)."""
    return {name for statement in statements_in(body) for name in assigned_names(statement)}
