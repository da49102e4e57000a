"""The interactive shell ``etamil --repl`` (LANGUAGE.md §18, HOST.md §2.6.4).

One run context for the whole session (database connections stay open); globals persist between
inputs; function definitions of inputs that ran without error are put in front of every later
input. Like upstream, top-level for-each loops leave their hidden variables (``#each_items_0``,
``#each_i_0`` ...) behind, and ``:vars`` lists them (a quirk, HOST.md §2.6.4).
"""

from __future__ import annotations

import sys
from typing import Any

from .base.errors import EtamilError, EtamilExit
from .base.recursion import allow_deep_recursion
from .families import load_families
from .host.services import HOST_SERVICES
from .lang import syntax as ast
from .lang.loader import LoadError, load_text
from .runtime.compiler import CompileError, compile_program
from .runtime.context import RunContext
from .runtime.values import display

BANNER = "eTamil — வணக்கம். :help for help, :quit to leave."
PROMPT = "» "
CONTINUATION = "…  "
HELP = """  <expression>     evaluate and print it — `1 + 2`, `நீளம்("வணக்கம்")`
  <statements>;    run them — `a = 5;` or a whole செயல் definition
  :vars            what this session has defined
  :help            this
  :quit            leave (Ctrl-D also works)

A line ending in an unclosed { keeps reading until the braces balance, so a
செயல் or a சுற்று can be typed across several lines.
"""


def brace_balance(text: str) -> int:
    """``{`` minus ``}`` outside string literals (``\\"`` does not end a string)."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
    return depth


class Session:
    def __init__(self, stdout=None, stderr=None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.globals: dict[str, Any] = {}
        self.functions: list[ast.FunctionDef] = []
        load_families()
        self.context = RunContext(stdout=self.stdout, services=HOST_SERVICES)

    def write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def error(self, message: str) -> None:
        self.stdout.flush()
        self.stderr.write("✗ " + message + "\n")
        self.stderr.flush()

    def vars_listing(self) -> str:
        lines = [f"  {name} = {display(self.globals[name])}" for name in sorted(self.globals)]
        if not lines:
            lines = ["  (no variables yet)"]
        names: list[str] = []
        for definition in self.functions:
            if definition.name not in names:
                names.append(definition.name)
        if names:
            lines.append("  செயல்: " + ", ".join(names))
        return "\n".join(lines) + "\n"

    def evaluate(self, text: str) -> None:
        try:
            program = load_text(text)
        except LoadError as original:
            retry = text.strip().rstrip(";").strip()
            try:
                program = load_text(f"அச்சு ({retry});")
            except LoadError:
                self.error(original.message)
                return
        statements = list(program.statements)
        if len(statements) == 1 and isinstance(statements[0], ast.CallStmt):
            call = statements[0]
            statements = [ast.Print(call.line, call.column, call.call)]
        try:
            compiled = compile_program(
                self.functions + statements, inputs=set(self.globals), filename="<repl>", hidden_loop_variables=True
            )
        except CompileError as error:
            self.error(error.message)
            return
        try:
            final = compiled.run(self.context, dict(self.globals))
        except EtamilError as error:
            self.globals.update(getattr(error, "globals", {}) or {})
            self.error(error.message)
            return
        self.globals.update(final)
        self.functions.extend(s for s in statements if isinstance(s, ast.FunctionDef))


def run_repl(stdin=None, stdout=None, stderr=None) -> int:
    stdin = stdin or sys.stdin
    allow_deep_recursion()
    session = Session(stdout, stderr)
    session.write(BANNER + "\n")
    try:
        while True:
            session.write(PROMPT)
            line = stdin.readline()
            if not line:
                session.write("\n")
                return 0
            command = line.strip()
            if command in (":quit", ":q"):
                return 0
            if command in (":help", ":h"):
                session.write(HELP)
                continue
            if command == ":vars":
                session.write(session.vars_listing())
                continue
            if not command:
                continue
            text = line
            while brace_balance(text) > 0:
                session.write(CONTINUATION)
                more = stdin.readline()
                if not more:
                    session.write("\n")
                    return 0
                text += more
            session.evaluate(text)
    except EtamilExit as exit_request:
        return exit_request.status
    finally:
        session.context.release()
