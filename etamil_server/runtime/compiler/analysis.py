"""Everything the emitter needs to know about a program before it writes a line: the winning
function definitions, the scopes and closures (scopes.py), what blocks (blocking.py), the kinds
of the variables (kinds.py), and which whole numbers are held as ints (intervals.py)."""

from __future__ import annotations

from collections.abc import Mapping

from ...lang import syntax as ast
from ..builtins import Builtin
from .blocking import mark_blocking
from .intervals import Intervals
from .kinds import Kinds
from .scopes import Scopes, function_definitions


class Analysis:
    """The analysis of one program's top-level ``statements``. ``inputs``: the globals the caller
    injects, ``input_kinds`` the kind bits each starts with (default: any); ``builtins``: the
    registry the program's calls resolve against."""

    def __init__(self, statements: list[ast.Stmt], inputs: frozenset[str], input_kinds: Mapping[str, int],
                 builtins: Mapping[str, Builtin]):
        self.statements = statements
        self.inputs = inputs
        self.builtins = builtins
        self.functions = function_definitions(statements)
        self.scopes = Scopes(statements, self.functions, inputs)
        mark_blocking(self.scopes, builtins)
        self.kinds = Kinds(self.scopes, inputs, input_kinds, builtins)
        self.intervals = Intervals(self.scopes, inputs)

    @property
    def blocking(self) -> bool:
        """Whether the top-level code can reach a blocking operation."""
        return self.scopes.top.blocking
