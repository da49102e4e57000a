"""Loading a program: read, lex, parse, and splice imports (LANGUAGE.md §1, §13; HOST.md §2.4).

Each top-level import is replaced in place by the statements of the imported file, which is loaded
the same way. Files are identified by canonical path and contribute at most once per program
(this also ends import cycles). Imports inside blocks stay in the tree and fail when executed.
"""

from __future__ import annotations

import os

from ..base.errors import io_error_text
from . import syntax as ast
from .lexer import LexError, tokenize
from .parser import ParseError, parse

#: What :func:`load_path` and :func:`load_text` return (the type, for callers that must not import
#: the syntax tree: the server passes programs on without looking inside them).
Program = ast.Program

#: The bundled standard library: plays the part of "next to the compiler" (§13 step 3), so
#: ``"nUlakam/col.qmz"`` resolves with no set-up.
STDLIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "stdlib")
SYSTEM_DIRS = ("/usr/share/etamil", "/usr/local/share/etamil")


class LoadError(Exception):
    """A lexical, parse or module error; ``message`` is what follows ``✗ `` (may span lines)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _cannot_open(path: str, error: OSError) -> LoadError:
    return LoadError(
        f"கோப்பு '{path}' திறக்க முடியவில்லை  (cannot open '{path}'): {io_error_text(error)}"
    )


def _cannot_read(path: str, detail: str) -> LoadError:
    return LoadError(f"கோப்பு '{path}' படிக்க முடியவில்லை  (cannot read '{path}'): {detail}")


def _read_text(canonical: str) -> str:
    try:
        with open(canonical, "rb") as handle:
            data = handle.read()
    except IsADirectoryError as error:
        raise _cannot_read(canonical, io_error_text(error)) from None
    except OSError as error:
        raise _cannot_read(canonical, io_error_text(error)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _cannot_read(canonical, "stream did not contain valid UTF-8") from None


def parse_source(text: str) -> list[ast.Stmt]:
    """Lex and parse one file's text; lexical errors are all reported, parse errors the first."""
    try:
        tokens = tokenize(text)
    except LexError as error:
        raise LoadError("\n  ".join(error.messages)) from None
    try:
        return parse(tokens)
    except ParseError as error:
        raise LoadError(error.message) from None
    except RecursionError:
        raise LoadError(
            "நிரல் மிக ஆழமாகப் பின்னப்பட்டுள்ளது  (the program nests blocks or expressions too deeply "
            "for this implementation)"
        ) from None


def search_path() -> list[str]:
    """Directories tried after the importing file's own (§13 steps 2-4)."""
    directories = [entry for entry in os.environ.get("ETAMIL_PATH", "").split(os.pathsep) if entry]
    return [*directories, STDLIB_DIR, *SYSTEM_DIRS]


def resolve_import(written: str, importer_dir: str) -> str | None:
    if os.path.isabs(written):
        return written if os.path.lexists(written) else None
    for directory in (importer_dir, *search_path()):
        path = os.path.join(directory, written)
        if os.path.lexists(path):
            return path
    return None


#: every block a function definition can sit in
_ANY_BLOCK = (*ast.BLOCK_STATEMENTS, ast.FunctionDef, ast.Route, ast.Every)


def _tag(statements: list[ast.Stmt], canonical: str) -> list[ast.Stmt]:
    """Mark each top-level statement, and every function definition at any depth, with its file
    (nested statements belong to the file of the top-level one that holds them)."""
    for statement in statements:
        statement.file = canonical
    for statement in ast.statements_in(statements, _ANY_BLOCK):
        if isinstance(statement, ast.FunctionDef):
            statement.file = canonical
    return statements


class _Loader:
    def __init__(self) -> None:
        self.loaded: set[str] = set()
        self.files: list[str] = []

    def splice(self, statements: list[ast.Stmt], directory: str) -> list[ast.Stmt]:
        result: list[ast.Stmt] = []
        for statement in statements:
            if isinstance(statement, ast.Import):
                result.extend(self.module(statement.path, directory))
            else:
                result.append(statement)
        return result

    def module(self, written: str, importer_dir: str) -> list[ast.Stmt]:
        found = resolve_import(written, importer_dir)
        if found is None:
            raise LoadError(
                f"தொகுதி '{written}' கண்டுபிடிக்க முடியவில்லை  (cannot open module '{written}'): "
                "looked beside the importing file, along ETAMIL_PATH, and next to the compiler"
            )
        try:
            canonical = os.path.realpath(found, strict=True)
        except OSError as error:
            raise _cannot_open(found, error) from None
        if canonical in self.loaded:
            return []
        self.loaded.add(canonical)
        self.files.append(canonical)
        statements = _tag(parse_source(_read_text(canonical)), canonical)
        return self.splice(statements, os.path.dirname(canonical))


def load_path(path: str) -> ast.Program:
    """Load the program in file ``path`` (as given on the command line)."""
    try:
        canonical = os.path.realpath(path, strict=True)
    except OSError as error:
        raise _cannot_open(path, error) from None
    loader = _Loader()
    loader.loaded.add(canonical)
    loader.files.append(canonical)
    statements = _tag(parse_source(_read_text(canonical)), canonical)
    statements = loader.splice(statements, os.path.dirname(canonical))
    return ast.Program(statements, canonical, loader.files)


def load_text(text: str, base_dir: str | None = None) -> ast.Program:
    """Load a program given as text (standard input, the REPL); imports resolve from
    ``base_dir`` (default: the working directory)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = _Loader()
    statements = parse_source(text)
    statements = loader.splice(statements, base_dir or os.getcwd())
    return ast.Program(statements, None, loader.files)
