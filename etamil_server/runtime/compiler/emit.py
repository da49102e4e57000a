"""Emission: the analysed syntax tree -> the text of one Python module.

The module has one Python function per eTamil function (a closure inside the run function when it
must be one, see scopes.py; a plain module-level function otherwise) and ``__run(_rt, _inj)``,
the top-level code, whose Python locals are the program's globals — so a fresh call is a fresh
set of globals, and global access is a fast local/cell access.

What the emitted code keeps (LANGUAGE.md §8–§11): arithmetic on operands known to be numbers
uses plain ``Decimal`` operators under :data:`numbers.FAST_CONTEXT`; if an operation traps (the
result would need rounding), that one operation is redone on the exact path. Whole numbers held
as ints (intervals.py) need only the 96-bit overflow check, and only on a side their interval can
leave. Expressions are flattened into statements where needed, keeping left-to-right evaluation.
Every loop iteration and every function entry checks the run's ``stop`` list (deadlines), and
calls carry their depth (the 256-frame limit).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...base.numbers import MAX_COEFFICIENT
from ...lang import syntax as ast
from .. import native
from ..builtins import numeric
from .analysis import Analysis
from .intervals import Flow, arithmetic_bounds
from .kinds import ALL, NIL, NUMERIC, A, B, I, N, R, S, is_whole_literal
from .names import Names, ascii_hint
from .scopes import RESPONSE_VARIABLES, Scope, evaluated

#: Ends a generated line with the number of the eTamil statement it belongs to, until
#: :meth:`Emitter.generate` moves the numbers into the line table. A control character: ``repr``
#: escapes it, so no generated text holds it otherwise.
_MARK = "\x01"

#: an eTamil statement's place: line, column, file (None: not loaded from a file)
Position = tuple[int, int, "str | None"]


class Code:
    """A generated expression: its text and whether it is an atom (safe to repeat, no effects).

    ``unboxed``: the text evaluates to a Python ``int`` standing for a whole number of kind I
    (see intervals.py); ``whole`` is the int of a whole-number constant."""

    __slots__ = ("text", "kind", "atom", "constant", "unboxed", "whole", "bounds")

    def __init__(self, text: str, kind: int, atom: bool = False, constant: bool = False,
                 unboxed: bool = False, whole: int | None = None, bounds: tuple[int, int] | None = None):
        self.text = text
        self.kind = kind
        self.atom = atom
        self.constant = constant
        self.unboxed = unboxed
        self.whole = whole
        # for unboxed whole numbers: an interval the value is known to lie in (see Flow)
        self.bounds = bounds if bounds is not None else ((whole, whole) if whole is not None else None)


class Emitter:
    """Writes the Python source of one analysed program (:meth:`generate`). ``namespace`` collects
    the constants the source refers to; ``inputs_used`` is known once the source is written.

    ``collect_globals=False``: the run function returns None instead of its locals (servers read
    only the response variables). ``hidden_loop_variables``: keep upstream's ``#each_items_N`` /
    ``#each_i_N`` globals for every top-level for-each (the REPL shows them)."""

    def __init__(self, analysis: Analysis, *, collect_globals: bool = True, hidden_loop_variables: bool = False):
        self.analysis = analysis
        self.statements = analysis.statements
        self.functions = analysis.functions
        self.scopes = analysis.scopes
        self.top = analysis.scopes.top
        self.global_names = analysis.scopes.global_names
        self.kinds = analysis.kinds
        self.intervals = analysis.intervals
        self.inputs = analysis.inputs
        self.builtins = analysis.builtins
        self.collect_globals = collect_globals
        self.loop_numbers = _loop_numbers(self.statements) if hidden_loop_variables else {}
        self.names = Names()
        self.constants: dict[Any, str] = {}
        self.namespace: dict[str, Any] = {}
        self.inputs_used: frozenset[str] = frozenset()
        self.temp_counter = 0
        #: the statements lines were generated for, and once generated, by Python line number
        #: (1-based; index 0 unused) the position of the statement each line belongs to
        self.positions: list[Position] = []
        self.line_positions: list[Position | None] = []
        # the bundled library's functions that run natively (runtime/native): name -> binding
        self.native = native.bindings(self.functions)
        self.function_python: dict[str, str] = {
            name: f"F{index}_{ascii_hint(name)}" for index, name in enumerate(self.functions)
        }

    # ------------------------------------------------------------------ emission helpers
    def constant(self, value: Any, prefix: str = "K") -> str:
        key = (type(value), str(value)) if isinstance(value, Decimal) else (type(value), value)
        if key not in self.constants:
            name = f"{prefix}{len(self.constants)}"
            self.constants[key] = name
            self.namespace[name] = value
        return self.constants[key]

    def temp(self) -> str:
        self.temp_counter += 1
        return f"_t{self.temp_counter}"

    # ------------------------------------------------------------------ program
    def generate(self) -> str:
        lines: list[str] = []
        closures = [n for n, s in self.scopes.by_function.items() if s.needs_closure]
        plain = [n for n, s in self.scopes.by_function.items() if not s.needs_closure]
        for name in plain:
            lines.extend(self.function(name, indent=""))
        lines.append("def __run(_rt, _inj):")
        body: list[str] = []
        body.append("_S = _rt.stop")
        body.append("_d = 0")
        body.append("_resp = _rt.response")
        mentioned = self._mentioned_top_names()
        self.inputs_used = frozenset(self.inputs & mentioned)
        for name in sorted(self.inputs & mentioned):
            body.append(f"if {name!r} in _inj: {self.global_python(name)} = _inj[{name!r}]")
        for name in closures:
            body.extend(self.function(name, indent=""))
        statements = self.block(self.statements, self.top, Flow(set()))
        body.extend(statements)
        body.append("return locals()" if self.collect_globals else "return None")
        lines.extend("    " + line for line in body)
        return self.unmark(lines)

    def unmark(self, lines: list[str]) -> str:
        """The source of ``lines`` without their statement marks, which go to ``line_positions``
        (what a runtime error reports: Compiled.locate)."""
        table: list[Position | None] = [None]
        texts: list[str] = []
        for line in lines:
            text, _, number = line.partition(_MARK)
            texts.append(text)
            table.extend([self.positions[int(number)] if number else None] * (text.count("\n") + 1))
        self.line_positions = table
        return "\n".join(texts) + "\n"

    def python_functions(self) -> dict[str, str]:
        """Python function name -> the eTamil function it is (a natively run function's
        definition too, see runtime/native ``gated``)."""
        names = {python: name for name, python in self.function_python.items()}
        names.update({python + "_def": name for name, python in self.function_python.items()})
        return names

    def _mentioned_top_names(self) -> set[str]:
        names: set[str] = set()
        for statement in ast.statements_in(self.statements):
            names.update(ast.assigned_names(statement))
            names.update(node.name for node in evaluated(statement) if isinstance(node, ast.Var))
        for scope in self.scopes.by_function.values():
            names |= self.scopes.global_cells(scope)
        return names

    def global_python(self, name: str) -> str:
        return self.names.global_name(name)

    def function(self, name: str, indent: str) -> list[str]:
        fn = self.functions[name]
        scope = self.scopes.by_function[name]
        params = [self.names.local_name(p) for p in fn.params]
        # duplicate parameter names: Python refuses them; later ones win like repeated stores
        unique: list[str] = []
        for index, param in enumerate(params):
            unique.append(param if param not in params[index + 1 :] else f"_dup{index}")
        header = f"def {self.function_python[name]}(_rt, _d{''.join(', ' + p for p in unique)}):"
        body: list[str] = [
            "if _d > 256: _ops.call_depth()",
            "_S = _rt.stop",
            "if _S: _rt.stopped()",
        ]
        locals_unset = sorted(scope.written - set(fn.params))
        for local in locals_unset:
            body.append(f"{self.names.local_name(local)} = _U")
        flow = Flow(set(fn.params))
        statements = self.block(fn.body, scope, flow)
        if scope.uses_try:
            body.append("try:")
            body.extend("    " + line for line in statements or ["pass"])
            body.append("except _Prop as _p:")
            body.append("    return _p.value")
        else:
            body.extend(statements)
        body.append("return None")
        lines = [indent + header] + [indent + "    " + line for line in body]
        if name in self.native:  # runs natively; the definition stays at hand (runtime/native)
            return native.gated(self.native[name], lines, self.function_python[name], indent, self.constant)
        return lines

    # ------------------------------------------------------------------ statements
    def block(self, statements: list[ast.Stmt], scope: Scope, flow: Flow) -> list[str]:
        lines: list[str] = []
        for statement in statements:
            lines.extend(self.statement(statement, scope, flow))
        return lines

    def write(self, name: str, scope: Scope, flow: Flow) -> str:
        """The Python target for a write of ``name`` (§8: a function always writes a local)."""
        if scope is self.top:
            if name in RESPONSE_VARIABLES:
                return f"_resp[{name!r}]"
            return self.global_python(name)
        flow.assigned.add(name)
        return self.names.local_name(name)

    def read(self, name: str, scope: Scope, flow: Flow) -> Code:
        kind = self.kinds.variable(name, scope)
        if scope is self.top:
            if name in RESPONSE_VARIABLES:
                return Code(f"_ops.response_read(_resp, {name!r})", kind)
            if name not in self.global_names:
                return Code(f"_ops.undefined({name!r})", kind)
            if self.intervals.is_unboxed(name, scope):
                bounds = flow.bounds.get(name) or self.intervals.default_bounds(name, scope)
                return Code(self.global_python(name), I, atom=True, unboxed=True, bounds=bounds)
            return Code(self.global_python(name), kind, atom=True)
        if name in scope.written:
            local = self.names.local_name(name)
            if self.intervals.is_unboxed(name, scope):
                bounds = flow.bounds.get(name) or self.intervals.default_bounds(name, scope)
                if name in flow.assigned:
                    return Code(local, I, atom=True, unboxed=True, bounds=bounds)
                return Code(f"({local} if {local} is not _U else _ops.undefined({name!r}))", I, unboxed=True,
                             bounds=bounds)
            if name in flow.assigned:
                return Code(local, kind, atom=True)
            return Code(f"({local} if {local} is not _U else {self.global_read(name, scope)})", kind)
        return Code(self.global_read(name, scope), kind, atom=name not in RESPONSE_VARIABLES
                     and name in self.global_names and scope.needs_closure)

    def global_read(self, name: str, scope: Scope) -> str:
        if name in RESPONSE_VARIABLES:
            return f"_ops.response_read(_rt.response, {name!r})"
        if name in self.global_names and scope.needs_closure:
            return self.global_python(name)
        return f"_ops.undefined({name!r})"

    def statement(self, statement: ast.Stmt, scope: Scope, flow: Flow) -> list[str]:
        method = getattr(self, "s_" + type(statement).__name__)
        return self.located(method(statement, scope, flow), statement)

    def located(self, lines: list[str], statement: ast.Stmt) -> list[str]:
        """Mark the lines of ``statement`` that no nested statement has marked as its own."""
        if not lines:
            return lines
        self.positions.append((statement.line, statement.column, ast.origin(statement)))
        mark = f"{_MARK}{len(self.positions) - 1}"
        return [line if _MARK in line else line + mark for line in lines]

    def s_FunctionDef(self, statement, scope, flow):
        return []  # hoisted: executing a definition does nothing (§9.4)

    def s_Assign(self, statement, scope, flow):
        pre: list[str] = []
        if statement.value is None:
            return [f"{self.write(statement.name, scope, flow)} = _ZERO"]
        hint = None
        unboxed = self.intervals.is_unboxed(statement.name, scope)
        if isinstance(statement.value, ast.Binary) and statement.name not in RESPONSE_VARIABLES:
            # arithmetic straight into the variable: no temporary
            hint = self.global_python(statement.name) if scope is self.top else self.names.local_name(statement.name)
            code = self.e_Binary(statement.value, scope, flow, pre, target=hint)
        else:
            code = self.expr(statement.value, scope, flow, pre, raw=unboxed)
        if unboxed:
            code = self.unbox(code)
            flow.bounds[statement.name] = code.bounds or self.intervals.default_bounds(statement.name, scope)
        value = code.text if unboxed else self.box(code).text
        target = self.write(statement.name, scope, flow)
        if value == target:
            return pre
        return pre + [f"{target} = {value}"]

    def s_SetIndex(self, statement, scope, flow):
        pre: list[str] = []
        index, value = self.sequence([statement.index, statement.value], scope, flow, pre)
        current = self.read(statement.name, scope, flow).text
        target = self.write(statement.name, scope, flow)
        return pre + [f"{target} = _ops.set_index({index.text}, {value.text}, {current}, {statement.name!r})"]

    def s_SetField(self, statement, scope, flow):
        pre: list[str] = []
        value = self.expr(statement.value, scope, flow, pre)
        current = self.read(statement.name, scope, flow).text
        target = self.write(statement.name, scope, flow)
        return pre + [
            f"{target} = _ops.set_field({value.text}, {current}, {statement.key!r}, {statement.name!r})"
        ]

    def s_CallStmt(self, statement, scope, flow):
        pre: list[str] = []
        code = self.expr(statement.call, scope, flow, pre)
        return pre + [code.text]

    def s_Return(self, statement, scope, flow):
        pre: list[str] = []
        value = "None" if statement.value is None else self.expr(statement.value, scope, flow, pre).text
        if scope is self.top:
            return pre + [f"_ops.return_outside({value})"]
        return pre + [f"return {value}"]

    def s_Import(self, statement, scope, flow):
        return ["_ops.unsupported('இறக்கு (import)')"]

    def s_If(self, statement, scope, flow):
        pre: list[str] = []
        condition = self.expr(statement.condition, scope, flow, pre, raw=True)
        then_flow = flow.copy()
        self.intervals.guard(statement.condition, scope, then_flow)
        lines = pre + [f"if {condition.text}:"]
        lines.extend(_indent(self.block(statement.then, scope, then_flow) or ["pass"]))
        else_flow = flow.copy()
        if statement.otherwise:
            lines.append("else:")
            lines.extend(_indent(self.block(statement.otherwise, scope, else_flow) or ["pass"]))
            flow.assigned |= then_flow.assigned & else_flow.assigned
        # after the if, a variable either branch assigned lies in the union of both intervals
        changed = ast.assigned_in(statement.then) | ast.assigned_in(statement.otherwise or [])
        for name in changed:
            one, two = then_flow.bounds.get(name), else_flow.bounds.get(name)
            if one is None or two is None:
                flow.bounds.pop(name, None)
            else:
                flow.bounds[name] = (min(one[0], two[0]), max(one[1], two[1]))
        return lines

    def s_While(self, statement, scope, flow):
        pre: list[str] = []
        changed = ast.assigned_in(statement.body)
        flow.forget(changed)  # unknown after (and between) iterations
        body_flow = flow.copy()
        condition = self.expr(statement.condition, scope, body_flow, pre, raw=True)
        self.intervals.guard(statement.condition, scope, body_flow)  # holds at the start of every iteration
        body = self.block(statement.body, scope, body_flow)
        check = "if _S: _rt.stopped()"
        if not pre:
            return [f"while {condition.text}:", "    " + check] + _indent(body)
        return ["while True:"] + _indent(pre) + [f"    if not ({condition.text}): break", "    " + check] + _indent(body)

    def s_ForEach(self, statement, scope, flow):
        pre: list[str] = []
        collection = self.expr(statement.collection, scope, flow, pre)
        flow.forget(ast.assigned_in(statement.body))
        body_flow = flow.copy()
        target = self.write(statement.var, scope, body_flow)
        body = self.block(statement.body, scope, body_flow)
        if scope is self.top and id(statement) in self.loop_numbers:
            # The REPL shows upstream's hidden loop variables under :vars (HOST.md §2.6.4 quirk):
            # the items walked and the position reached.
            number = self.loop_numbers[id(statement)]
            items = self.global_python(f"#each_items_{number}")
            position = self.global_python(f"#each_i_{number}")
            return pre + [
                f"{items} = _ops.hidden_items({collection.text})",
                f"{position} = _ZERO",
                f"for {target} in {items}:",
                "    if _S: _rt.stopped()",
                f"    {position} = _num.add({position}, _ONE)",
            ] + _indent(body)
        return pre + [f"for {target} in _ops.iterate({collection.text}):", "    if _S: _rt.stopped()"] + _indent(body)

    def s_Print(self, statement, scope, flow):
        pre: list[str] = []
        value = self.expr(statement.value, scope, flow, pre)
        return pre + [f"_rt.print({value.text})"]

    def s_Input(self, statement, scope, flow):
        if isinstance(statement.target, ast.Var):
            return [f"{self.write(statement.target.name, scope, flow)} = _rt.input()"]
        return ["_rt.input()"]

    def s_FileOpen(self, statement, scope, flow):
        pre: list[str] = []
        path = self.expr(statement.path, scope, flow, pre)
        return pre + [f"_rt.file_open({path.text}, {statement.mode!r})"]

    def s_FileClose(self, statement, scope, flow):
        pre: list[str] = []
        path = self.expr(statement.path, scope, flow, pre)
        return pre + [f"_rt.file_close({path.text})"]

    def s_FileWrite(self, statement, scope, flow):
        pre: list[str] = []
        path, data = self.sequence([statement.path, statement.data], scope, flow, pre)
        return pre + [f"_rt.file_write({path.text}, {data.text})"]

    def s_FileRead(self, statement, scope, flow):
        pre: list[str] = []
        path = self.expr(statement.path, scope, flow, pre)
        method = "csv_read" if statement.csv else "file_read"
        return pre + [f"{self.write(statement.target, scope, flow)} = _rt.{method}({path.text})"]

    def s_DbConnect(self, statement, scope, flow):
        pre: list[str] = []
        connection = self.expr(statement.connection, scope, flow, pre)
        return pre + [f"_rt.db_connect({statement.db_type!r}, {connection.text})"]

    def s_DbDisconnect(self, statement, scope, flow):
        return [f"_rt.db_disconnect({statement.db_type!r})"]

    def s_DbExecute(self, statement, scope, flow):
        pre: list[str] = []
        sql, params = self.sequence([statement.sql, statement.params], scope, flow, pre)
        return pre + [f"_rt.db_execute({sql.text}, {params.text})"]

    def s_DbQuery(self, statement, scope, flow):
        pre: list[str] = []
        sql, params = self.sequence([statement.sql, statement.params], scope, flow, pre)
        return pre + [f"{self.write(statement.target, scope, flow)} = _rt.db_query({sql.text}, {params.text})"]

    def s_Route(self, statement, scope, flow):
        return ["_ops.unsupported('வழி (route)')"]

    def s_Every(self, statement, scope, flow):
        return ["_ops.unsupported('இடைவெளி (schedule)')"]

    def s_Unsupported(self, statement, scope, flow):
        return [f"_ops.unsupported({statement.label!r})"]

    def s_Respond(self, statement, scope, flow):
        pre: list[str] = []
        items = [statement.status, statement.body] + ([statement.headers] if statement.headers else [])
        codes = self.sequence(items, scope, flow, pre)
        headers = codes[2].text if len(codes) > 2 else "None"
        return pre + [f"_ops.respond(_rt.response, {codes[0].text}, {codes[1].text}, {headers})"]

    # ------------------------------------------------------------------ expressions
    def sequence(self, exprs: list[ast.Expr], scope: Scope, flow: Flow, pre: list[str],
                 raw: bool = False) -> list[Code]:
        """Generate operands left to right; an operand generated inline whose later siblings
        needed statements is bound to a temporary first, so the order of effects is kept."""
        codes: list[Code] = []
        marks: list[int] = []
        for expr in exprs:
            codes.append(self.expr(expr, scope, flow, pre, raw=raw))
            marks.append(len(pre))
        for position in range(len(codes) - 2, -1, -1):
            code = codes[position]
            if len(pre) > marks[position] and not code.constant and not (code.atom and code.text.startswith("_t")):
                name = self.temp()
                pre.insert(marks[position], f"{name} = {code.text}")
                codes[position] = Code(name, code.kind, atom=True, unboxed=code.unboxed)
        return codes

    def atom(self, code: Code, pre: list[str]) -> Code:
        if code.atom or code.constant:
            return code
        name = self.temp()
        pre.append(f"{name} = {code.text}")
        return Code(name, code.kind, atom=True, unboxed=code.unboxed)

    def expr(self, expr: ast.Expr, scope: Scope, flow: Flow, pre: list[str], raw: bool = False) -> Code:
        """Generate ``expr``; unless ``raw``, the value is always an eTamil value (boxed)."""
        method = getattr(self, "e_" + type(expr).__name__)
        code = method(expr, scope, flow, pre)
        if len(code.text) > 200 and _nesting(code.text) > 40:
            # Python's parser refuses deeply nested source (about 200 levels): evaluate this
            # part into a temporary here; evaluation order is unchanged (see ``sequence``).
            code = self.atom(code, pre)
        return code if raw else self.box(code)

    @staticmethod
    def box(code: Code) -> Code:
        if not code.unboxed:
            return code
        return Code(f"_D({code.text})", code.kind, atom=False)

    @staticmethod
    def unbox(code: Code) -> Code:
        if code.unboxed:
            return code
        if code.whole is not None:
            return Code(repr(code.whole), I, atom=True, constant=True, unboxed=True)
        return Code(f"int({code.text})", I, unboxed=True)

    def e_Number(self, expr, scope, flow, pre):
        whole = is_whole_literal(expr.value)
        return Code(self.constant(expr.value), I if whole else N, atom=True, constant=True,
                     whole=int(expr.value) if whole else None)

    def e_String(self, expr, scope, flow, pre):
        return Code(repr(expr.value), S, atom=True, constant=True)

    def e_Bool(self, expr, scope, flow, pre):
        return Code("True" if expr.value else "False", B, atom=True, constant=True)

    def e_Nil(self, expr, scope, flow, pre):
        return Code("None", NIL, atom=True, constant=True)

    def e_ArrayLit(self, expr, scope, flow, pre):
        codes = self.sequence(expr.items, scope, flow, pre)
        return Code("[" + ", ".join(c.text for c in codes) + "]", A)

    def e_RecordLit(self, expr, scope, flow, pre):
        codes = self.sequence([value for _, value in expr.entries], scope, flow, pre)
        if len({key for key, _ in expr.entries}) == len(expr.entries):
            return Code("{" + ", ".join(f"{k!r}: {c.text}" for (k, _), c in zip(expr.entries, codes, strict=True)) + "}", R)
        # duplicate keys: every value is evaluated, the first one is kept (quirk §10.2)
        items = ", ".join(f"({k!r}, {c.text})" for (k, _), c in zip(expr.entries, codes, strict=True))
        return Code(f"_ops.record_first([{items}])", R)

    def e_Var(self, expr, scope, flow, pre):
        return self.read(expr.name, scope, flow)

    def e_Call(self, expr, scope, flow, pre):
        codes = self.sequence(expr.args, scope, flow, pre)
        args = "".join(", " + c.text for c in codes)
        arg_list = ", ".join(c.text for c in codes)
        name = expr.name
        if name in self.functions:
            fn = self.functions[name]
            if len(fn.params) != len(expr.args):
                return Code(f"_ops.wrong_arity({name!r}, {len(fn.params)}{args})", ALL)
            return Code(f"{self.function_python[name]}(_rt, _d + 1{args})", ALL)
        target = self.builtins.get(name)
        if target is None:
            return Code(f"_ops.unknown_call({name!r}{args})", ALL)
        if target.arity != len(expr.args):
            return Code(f"_ops.wrong_arity({name!r}, {target.arity}{args})", ALL)
        if target.function is numeric.round_number:
            direct = self.rounding(codes[0], expr.args[1])
            if direct is not None:
                return direct
        function = self.constant(target.function, prefix="B")
        kind = self.kinds.of(expr, scope)  # the builtin's ``returns``, or what it unwraps
        if target.context:
            return Code(f"{function}(_rt{args})", kind)
        return Code(f"{function}({arg_list})", kind)

    def e_Index(self, expr, scope, flow, pre):
        base, index = self.sequence([expr.base, expr.index], scope, flow, pre)
        return Code(f"_ops.index({base.text}, {index.text})", ALL)

    def e_Field(self, expr, scope, flow, pre):
        base = self.expr(expr.base, scope, flow, pre)
        return Code(f"_ops.field({base.text}, {expr.key!r})", ALL)

    def e_Try(self, expr, scope, flow, pre):
        operand = self.expr(expr.operand, scope, flow, pre)
        helper = "try_at_top" if scope is self.top else "try_in_function"
        return Code(f"_ops.{helper}({operand.text})", ALL)

    def e_Neg(self, expr, scope, flow, pre):
        operand = self.expr(expr.operand, scope, flow, pre, raw=True)
        if operand.unboxed:
            low, high = operand.bounds or (-MAX_COEFFICIENT, MAX_COEFFICIENT)
            return Code(f"(-{operand.text})", I, unboxed=True, bounds=(-high, -low))
        return Code(f"_ops.neg({operand.text})", I if operand.kind == I else N)

    def e_Not(self, expr, scope, flow, pre):
        operand = self.expr(expr.operand, scope, flow, pre)
        return Code(f"(not {operand.text})", B)

    def e_Logical(self, expr, scope, flow, pre):
        left = self.expr(expr.left, scope, flow, pre)
        mark = len(pre)
        right_pre: list[str] = []
        right = self.expr(expr.right, scope, flow.copy(), right_pre)
        joiner = "and" if expr.op == "and" else "or"
        if not right_pre:
            return Code(f"(True if ({left.text} {joiner} {right.text}) else False)", B)
        name = self.temp()
        del pre[mark:]
        test = left.text if expr.op == "and" else f"not ({left.text})"
        short = "False" if expr.op == "and" else "True"
        pre.append(f"if {test}:")
        pre.extend(_indent(right_pre))
        pre.append(f"    {name} = True if {right.text} else False")
        pre.append("else:")
        pre.append(f"    {name} = {short}")
        return Code(name, B, atom=True)

    def e_Binary(self, expr, scope, flow, pre, target: str | None = None):
        left, right = self.sequence([expr.left, expr.right], scope, flow, pre, raw=True)
        op = expr.op
        both_numbers = not (left.kind & ~NUMERIC) and not (right.kind & ~NUMERIC)
        if both_numbers and (left.unboxed or right.unboxed):
            if op in ("+", "-", "*") and _int_capable(left) and _int_capable(right):
                return self.int_arithmetic(op, left, right, pre, target)
            if op in ("<", "<=", ">", ">=", "==", "!="):
                return Code(f"({_int_or_text(left)} {op} {_int_or_text(right)})", B)
        if op in ("+", "-", "*") and both_numbers:
            return self.fast_arithmetic(op, left, right, pre, target)
        if op == "&":
            return self.concatenation(left, right, pre)
        left, right = self.box(left), self.box(right)
        if op == "+":
            return Code(f"_ops.add({left.text}, {right.text})", N)
        if op == "-":
            return Code(f"_ops.sub({left.text}, {right.text})", N)
        if op == "*":
            return Code(f"_ops.mul({left.text}, {right.text})", N)
        if op == "/":
            if both_numbers:  # no conversion to look for: straight to the division
                return Code(f"_num.div({left.text}, {right.text})", N)
            return Code(f"_ops.div({left.text}, {right.text})", N)
        if op in ("==", "!="):
            if both_numbers or (left.kind == right.kind and left.kind in (S, B, NIL)):
                return Code(f"({left.text} {op} {right.text})", B)
            if left.kind in (S, NIL) or right.kind in (S, NIL):
                # Python's == of a text (or nil) with any value of ours is §7.2's equality: true
                # only for the same kind (no conversion) and then the same code points
                return Code(f"({left.text} {op} {right.text})", B)
            return Code(f"_ops.{'eq' if op == '==' else 'ne'}({left.text}, {right.text})", B)
        if (both_numbers or (left.kind == S and right.kind == S)):
            return Code(f"({left.text} {op} {right.text})", B)
        helper = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}[op]
        return Code(f"_ops.{helper}({left.text}, {right.text})", B)

    def concatenation(self, left: Code, right: Code, pre: list[str]) -> Code:
        """``left & right``: the two display forms joined (LANGUAGE.md §7.1). The one place
        concatenation is emitted: an operand whose kind is known is written as its display form
        in place (a text is its own), any other goes through ``ops.concat``; both keep the text
        limit (runtime/limits.py), here written out: two ``len`` in the common case. ``left``
        and ``right`` may be unboxed."""
        shown_left, shown_right = _display_text(left), _display_text(right)
        if shown_left is None or shown_right is None:
            return Code(f"_ops.concat({self.box(left).text}, {self.box(right).text})", S)
        # checked before the join, so a text past the limit is never built; a text operand that
        # is already a name is used as it is (a temporary would keep its old value alive until
        # the next join: with a text doubled in a loop, half as much memory again)
        left_text = self.shown(left, shown_left, pre)
        right_text = self.shown(right, shown_right, pre)
        pre.append(f"if len({left_text}) + len({right_text}) > _lim.quick_chars: "
                   f"_lim.join_too_large({left_text}, {right_text})")
        return Code(f"({left_text} + {right_text})", S)

    def shown(self, code: Code, shown: str, pre: list[str]) -> str:
        """A name (or constant) holding ``shown``, the display form of ``code``, evaluated once."""
        if code.kind == S:  # a text is its own display form
            return self.atom(code, pre).text
        return self.atom(Code(shown, S), pre).text

    def rounding(self, value: Code, places: ast.Expr) -> Code | None:
        """``வட்டமிடு(number, literal)``: no conversions to make, so ``round_decimal`` directly
        (``None``: the general builtin call)."""
        if value.kind & ~NUMERIC or not isinstance(places, ast.Number) or not is_whole_literal(places.value):
            return None
        count = int(places.value)
        if not 0 <= count <= numeric.U32_MAX:
            return None  # the builtin's error, at run time
        return Code(f"{self.constant(numeric.round_decimal, prefix='B')}({value.text}, {count})", N)

    def int_arithmetic(self, op: str, left: Code, right: Code, pre: list[str], target: str | None) -> Code:
        """Whole numbers as Python ints: exact; only the 96-bit overflow needs checking."""
        result = self.temp()
        what = {"+": "Addition", "-": "Subtraction", "*": "Multiplication"}[op]
        pre.append(f"{result} = {_int_or_text(left)} {op} {_int_or_text(right)}")
        # Interval arithmetic on what is known of the operands: only a side of the range the
        # result can actually leave is checked.
        low, high = arithmetic_bounds(op, left.bounds, right.bounds)
        tests = []
        if high > MAX_COEFFICIENT:
            tests.append(f"{result} > _MAXC")
        if low < -MAX_COEFFICIENT:
            tests.append(f"{result} < _MINC")
        if tests:
            pre.append(f"if {' or '.join(tests)}: _num.overflow({what!r})")
        bounds = (max(low, -MAX_COEFFICIENT), min(high, MAX_COEFFICIENT))
        if target is not None and target != result:
            pre.append(f"{target} = {result}")
            return Code(target, I, atom=True, unboxed=True, bounds=bounds)
        return Code(result, I, atom=True, unboxed=True, bounds=bounds)

    def fast_arithmetic(self, op: str, left: Code, right: Code, pre: list[str], target: str | None) -> Code:
        left = self.atom(left, pre)
        right = self.atom(right, pre)
        result = target or self.temp()
        kind = I if left.kind == I and right.kind == I else N
        exact = {"+": "_num.add", "-": "_num.sub", "*": "_num.mul"}[op]
        slow = f"{exact}({self.box(left).text}, {self.box(right).text})"
        if op == "*":
            fast = f"{left.text} * {right.text} or _ZERO"
        else:
            # A zero operand changes the crate's result only in scale or in the sign of zero
            # (see numbers.add): an operand that is a non-zero constant or a whole number of
            # scale 0 (kind I) can never cause that, so it needs no check.
            checks = [c.text for c in (left, right)
                      if not (c.constant and self.namespace[c.text]) and c.kind != I]
            fast = f"{left.text} {op} {right.text}"
            if checks:
                fast = f"{fast} if {' and '.join(checks)} else {slow}"
        pre.extend([f"try: {result} = {fast}", f"except ArithmeticError: {result} = {slow}"])
        return Code(result, kind, atom=True)



def _loop_numbers(statements: list[ast.Stmt]) -> dict[int, int]:
    """Upstream's for-each keeps two hidden variables per loop, numbered in program order (loops
    inside function bodies take numbers too; route and timer bodies are not this program's)."""
    enter = (*ast.BLOCK_STATEMENTS, ast.FunctionDef)
    loops = [s for s in ast.statements_in(statements, enter) if isinstance(s, ast.ForEach)]
    return {id(loop): number for number, loop in enumerate(loops)}


def _nesting(text: str) -> int:
    """The deepest bracket nesting of generated code (brackets inside strings count too, which
    only makes the caller split a little earlier)."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in ")]}":
            depth -= 1
    return deepest


def _display_text(code: Code) -> str | None:
    """Python text for the display form of ``code`` when its kind says which it is (§5.2)."""
    if code.unboxed:
        return f"str({code.text})"  # a whole number of scale 0, never negative zero
    if code.kind == S:
        return code.text
    if code.kind and not code.kind & ~NUMERIC:
        return f"_num.display({code.text})"
    if code.kind == B:
        return f"('true' if {code.text} else 'false')"
    if code.kind == NIL:
        return "'nil'"
    return None


def _int_capable(code: Code) -> bool:
    return code.unboxed or code.whole is not None


def _int_or_text(code: Code) -> str:
    return repr(code.whole) if code.whole is not None else code.text


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


