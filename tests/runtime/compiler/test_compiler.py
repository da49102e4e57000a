"""The compiler and its generated fast paths (LANGUAGE.md §6-§11).

The central property: random arithmetic programs (literals of every scale, whole-number variables
and counters the compiler keeps as machine integers, loops, functions with locals, negative zero,
zero operands with scales) print exactly what an independent evaluator computes with the exact-path
functions ``numbers.add/sub/mul/div/neg`` on the same expression tree; the final ``[0][e]`` reveals
the scale of ``e`` through the index error (Appendix B), and the globals returned by the run reveal
the scale of every global.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etamil_server.base import numbers
from etamil_server.base.errors import DeadlineExceeded, EtamilError
from etamil_server.lang.loader import load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok

MAX = 2**96 - 1
CALL_DEPTH = "செயல் அழைப்பு ஆழம் மிகுதி (256)  (call depth exceeded — infinite recursion?)"


def undefined(name: str) -> str:
    return f"அறிவிக்கப்படாத மாறி '{name}'  (undefined variable '{name}')"


class Outcome:
    def __init__(self, output: str, error: str | None, globals_: dict | None, exception=None):
        self.output = output
        self.lines = output.splitlines()
        self.error = error
        self.globals = globals_
        self.exception = exception


def run(source: str, ctx: RunContext | None = None, inputs=(), inject=None) -> Outcome:
    program = load_text(source)
    compiled = compile_program(program.statements, inputs=frozenset(inputs))
    out = io.StringIO()
    if ctx is None:
        ctx = RunContext(stdout=out)
    else:
        ctx.stdout = out
    try:
        globals_ = compiled.run(ctx, inject=inject)
    except EtamilError as error:
        return Outcome(out.getvalue(), error.message, getattr(error, "globals", None), error)
    return Outcome(out.getvalue(), None, globals_)


def printed(source: str) -> list[str]:
    outcome = run(source)
    assert outcome.error is None, outcome.error
    return outcome.lines


def failure(source: str) -> tuple[list[str], str]:
    outcome = run(source)
    assert outcome.error is not None, outcome.lines
    return outcome.lines, outcome.error


# ================================================================ random arithmetic programs
#
# Trees are tuples:
#   expressions  ("lit", Decimal, text) ("negzero",) ("var", name) ("neg", e) ("bin", op, l, r)
#                ("call", name, [args])
#   statements   ("assign", name, e) ("print", e) ("loop", counter, n, [statements])
#   functions    (name, [params], [statements], return expression)

ARITHMETIC = {"+": numbers.add, "-": numbers.sub, "*": numbers.mul, "/": numbers.div}


@st.composite
def literals(draw, whole: bool = False):
    style = "whole" if whole else draw(st.sampled_from(["whole", "whole", "small", "small", "model", "zero"]))
    if style == "whole":
        coefficient = draw(st.one_of(st.integers(1, 12), st.integers(0, 10**12), st.integers(0, MAX)))
        places = 0
    elif style == "small":
        coefficient, places = draw(st.integers(0, 10**6)), draw(st.integers(0, 6))
    elif style == "model":
        coefficient, places = draw(st.integers(0, MAX)), draw(st.integers(0, 28))
    else:
        coefficient, places = 0, draw(st.integers(0, 4))
    value = Decimal(f"{coefficient}E-{places}")
    return ("lit", value, format(value, "f"))


@st.composite
def expressions(draw, names: list[str], functions: dict[str, int], depth: int, whole: bool = False):
    """An expression over ``names``; ``whole``: only whole literals, whole names and + - * (so the
    compiler may hold its value as a machine integer)."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        choices = ["lit"] + (["var", "var"] if names else []) + ([] if whole else ["negzero"])
        leaf = draw(st.sampled_from(choices))
        if leaf == "lit":
            return draw(literals(whole=whole))
        if leaf == "var":
            return ("var", draw(st.sampled_from(names)))
        return ("negzero",)
    shapes = ["bin", "bin", "bin", "neg"] + (["call"] if functions and not whole else [])
    shape = draw(st.sampled_from(shapes))
    if shape == "neg":
        return ("neg", draw(expressions(names, functions, depth - 1, whole)))
    if shape == "call":
        name = draw(st.sampled_from(sorted(functions)))
        args = [draw(expressions(names, functions, depth - 1)) for _ in range(functions[name])]
        return ("call", name, args)
    op = draw(st.sampled_from("+-*" if whole else "+-*/+-*"))
    left = draw(expressions(names, functions, depth - 1, whole))
    right = draw(expressions(names, functions, depth - 1, whole))
    if op == "/" and draw(st.booleans()):
        right = draw(literals().filter(lambda literal: literal[1] != 0))  # fewer divisions by zero
    return ("bin", op, left, right)


@st.composite
def function_definitions(draw, index: int, global_names: list[str], whole_globals: list[str],
                         earlier: dict[str, int]):
    name = f"f{index}"
    params = [f"p{index}_{i}" for i in range(draw(st.integers(1, 2)))]
    readable = params + global_names
    body = []
    # a local: sometimes with the name of a global (first read is the global, then the local)
    local = draw(st.sampled_from([f"l{index}", f"l{index}", *global_names])) if global_names else f"l{index}"
    body.append(("assign", local, draw(expressions(readable, earlier, 2))))
    readable = readable + [local]
    if draw(st.booleans()):
        counter = f"k{index}"
        whole_local = f"m{index}"
        body.append(("assign", whole_local, draw(literals(whole=True))))
        loop_body = [
            ("assign", local, ("bin", draw(st.sampled_from("+-*")), ("var", local),
                               draw(expressions(readable + [counter], earlier, 1)))),
            ("assign", whole_local, draw(expressions([whole_local, counter, *whole_globals], {}, 2, whole=True))),
        ]
        body.append(("loop", counter, draw(st.integers(0, 3)), loop_body))
        readable = readable + [counter, whole_local]
    result = draw(expressions(readable, earlier, 2))
    return name, params, body, result


@st.composite
def programs(draw):
    functions: list = []
    arities: dict[str, int] = {}
    global_names = [f"v{i}" for i in range(draw(st.integers(1, 3)))]
    whole_globals = [f"w{i}" for i in range(draw(st.integers(0, 2)))]
    for index in range(draw(st.integers(0, 2))):
        definition = draw(function_definitions(index, global_names + whole_globals, whole_globals, dict(arities)))
        functions.append(definition)
        arities[definition[0]] = len(definition[1])
    statements = []
    defined: list[str] = []
    for name in global_names:
        statements.append(("assign", name, draw(expressions(defined, {}, 1))))
        defined.append(name)
    for name in whole_globals:
        statements.append(("assign", name, draw(literals(whole=True))))
        defined.append(name)
    for position in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["print", "print", "assign", "loop"]))
        if kind == "print":
            statements.append(("print", draw(expressions(defined, arities, 3))))
        elif kind == "assign":
            if whole_globals and draw(st.booleans()):
                target = draw(st.sampled_from(whole_globals))
                value = draw(expressions(whole_globals, {}, 2, whole=True))
            else:
                target = draw(st.sampled_from(global_names + ["t"]))
                value = draw(expressions(defined, arities, 3))
            statements.append(("assign", target, value))
            if target not in defined:
                defined.append(target)
        else:
            counter = f"c{position}"
            target = draw(st.sampled_from(global_names))
            body = [("assign", target, ("bin", draw(st.sampled_from("+-*/")), ("var", target),
                                        draw(expressions(defined + [counter], arities, 2)))),
                    ("print", draw(expressions(defined + [counter], arities, 2)))]
            if whole_globals:
                whole_target = draw(st.sampled_from(whole_globals))
                body.append(("assign", whole_target,
                             draw(expressions(whole_globals + [counter], {}, 2, whole=True))))
            statements.append(("loop", counter, draw(st.integers(0, 3)), body))
            defined.append(counter)
    final = draw(expressions(defined, arities, 3))
    return functions, statements, final


# ---------------------------------------------------------------------------------- rendering


def render_expr(e) -> str:
    kind = e[0]
    if kind == "lit":
        return e[2]
    if kind == "negzero":
        return "mEl(-0.5)"
    if kind == "var":
        return e[1]
    if kind == "neg":
        return f"-{render_expr(e[1])}"
    if kind == "call":
        return f"{e[1]}(" + ", ".join(render_expr(a) for a in e[2]) + ")"
    return f"({render_expr(e[2])} {e[1]} {render_expr(e[3])})"


def render_statements(statements, indent: str = "") -> list[str]:
    lines = []
    for statement in statements:
        if statement[0] == "assign":
            lines.append(f"{indent}{statement[1]} = {render_expr(statement[2])};")
        elif statement[0] == "print":
            lines.append(f"{indent}accu {render_expr(statement[1])};")
        else:
            _, counter, count, body = statement
            lines.append(f"{indent}{counter} = 0;")
            lines.append(f"{indent}({counter} < {count}) cuRRu {{")
            lines.extend(render_statements(body, indent + "    "))
            lines.append(f"{indent}    {counter} = {counter} + 1;")
            lines.append(f"{indent}}}")
    return lines


def render(program) -> str:
    functions, statements, final = program
    lines = []
    # definitions first: they read globals assigned after them (hoisting, §9.4 and §8)
    for name, params, body, result in functions:
        lines.append(f"ceyal {name}({', '.join(params)}) {{")
        lines.extend(render_statements(body, "    "))
        lines.append(f"    qirumpu {render_expr(result)};")
        lines.append("}")
    lines.extend(render_statements(statements))
    lines.append(f"accu [0][{render_expr(final)}];")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- the evaluator


class Evaluator:
    """Runs the tuple trees with only the exact-path functions of ``numbers``."""

    def __init__(self, functions):
        self.functions = {name: (params, body, result) for name, params, body, result in functions}
        self.globals: dict[str, Decimal] = {}
        self.output: list[str] = []

    def read(self, name: str, local: dict | None) -> Decimal:
        if local is not None and name in local:
            return local[name]
        if name in self.globals:
            return self.globals[name]
        raise EtamilError(undefined(name))

    def expr(self, e, local: dict | None) -> Decimal:
        kind = e[0]
        if kind == "lit":
            return e[1]
        if kind == "negzero":
            return Decimal("-0")
        if kind == "var":
            return self.read(e[1], local)
        if kind == "neg":
            return numbers.neg(self.expr(e[1], local))
        if kind == "call":
            args = [self.expr(a, local) for a in e[2]]
            params, body, result = self.functions[e[1]]
            frame = dict(zip(params, args, strict=True))
            self.execute(body, frame)
            return self.expr(result, frame)
        left = self.expr(e[2], local)
        right = self.expr(e[3], local)
        return ARITHMETIC[e[1]](left, right)

    def write(self, name: str, value: Decimal, local: dict | None) -> None:
        (self.globals if local is None else local)[name] = value

    def execute(self, statements, local: dict | None = None) -> None:
        for statement in statements:
            if statement[0] == "assign":
                self.write(statement[1], self.expr(statement[2], local), local)
            elif statement[0] == "print":
                self.output.append(numbers.display(self.expr(statement[1], local)))
            else:
                _, counter, count, body = statement
                self.write(counter, Decimal(0), local)
                while self.read(counter, local) < count:
                    self.execute(body, local)
                    self.write(counter, numbers.add(self.read(counter, local), Decimal(1)), local)

    def index_zero(self, value: Decimal) -> None:
        """``accu [0][value];`` (§10.1): the index errors print the number with its scale."""
        shown = numbers.display_scaled(value)
        if value != value.to_integral_value():
            raise EtamilError(
                f"அட்டவணை முழு எண்ணாக இருக்க வேண்டும்  (array index must be a whole number, got {shown})"
            )
        if int(value) != 0:
            raise EtamilError(
                f"அட்டவணை {shown} வரம்பிற்கு வெளியே (நீளம் 1)  (index {shown} out of bounds, length 1)"
            )
        self.output.append("0")

    def run(self, statements, final) -> str | None:
        try:
            self.execute(statements)
            self.index_zero(self.expr(final, None))
        except EtamilError as error:
            return error.message
        return None


def same_numbers(actual: dict, expected: dict) -> bool:
    return actual.keys() == expected.keys() and all(
        type(actual[k]) is Decimal and actual[k].as_tuple() == expected[k].as_tuple() for k in expected
    )


@given(programs())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_arithmetic_programs_match_the_exact_path(program):
    source = render(program)
    functions, statements, final = program
    evaluator = Evaluator(functions)
    expected_error = evaluator.run(statements, final)
    outcome = run(source)
    assert outcome.lines == evaluator.output, source
    assert outcome.error == expected_error, source
    assert same_numbers(outcome.globals, evaluator.globals), (source, outcome.globals, evaluator.globals)


def test_random_program_generator_covers_the_interesting_cases():
    # The property above is only as good as its programs: render a few fixed ones through the
    # same harness, covering the paths the generator is meant to reach.
    cases = [
        # whole-number counter (a machine int) and zero operands with scales
        ([], [("assign", "v0", ("lit", Decimal("0.00"), "0.00")),
              ("loop", "c0", 3, [("assign", "v0", ("bin", "+", ("var", "v0"), ("var", "c0"))),
                                 ("print", ("var", "v0"))])],
         ("bin", "+", ("var", "v0"), ("lit", Decimal("0.50"), "0.50"))),
        # negative zero meets zero operands
        ([], [("assign", "v0", ("negzero",)),
              ("print", ("bin", "+", ("lit", Decimal(0), "0"), ("var", "v0"))),
              ("print", ("bin", "-", ("lit", Decimal("0.0"), "0.0"), ("var", "v0")))],
         ("bin", "*", ("var", "v0"), ("lit", Decimal("2.5"), "2.5"))),
        # a function with a whole local loop and a local shadowing a global
        ([("f0", ["p0_0"], [("assign", "v0", ("bin", "*", ("var", "v0"), ("var", "p0_0"))),
                            ("assign", "m0", ("lit", Decimal(1), "1")),
                            ("loop", "k0", 3, [("assign", "m0", ("bin", "*", ("var", "m0"), ("lit", Decimal(3), "3")))])],
           ("bin", "+", ("var", "v0"), ("var", "m0")))],
         [("assign", "v0", ("lit", Decimal("1.10"), "1.10")),
          ("print", ("call", "f0", [("lit", Decimal("2"), "2")])), ("print", ("var", "v0"))],
         ("call", "f0", [("lit", Decimal("0.000"), "0.000")])),
        # whole-number overflow on the machine-int path
        ([], [("assign", "w0", ("lit", Decimal(MAX), str(MAX))),
              ("assign", "w0", ("bin", "+", ("var", "w0"), ("lit", Decimal(1), "1")))],
         ("var", "w0")),
    ]
    expected_outputs = [
        (["0", "1", "3"], "whole number, got 3.50"),
        (["-0", "-0"], None),
        (["29.2", "1.1"], "index 27 out of bounds"),
        ([], "decimal overflow"),
    ]
    for (functions, statements, final), (lines, fragment) in zip(cases, expected_outputs, strict=True):
        source = render((functions, statements, final))
        evaluator = Evaluator(functions)
        error = evaluator.run(statements, final)
        outcome = run(source)
        assert outcome.lines == evaluator.output == lines + (["0"] if fragment is None else [])
        assert outcome.error == error
        if fragment is None:
            assert error is None
        else:
            assert fragment in error


# ======================================================================= fixed programs


def test_scale_revealed_by_index_errors():
    assert failure("accu [7][5.0];")[1] == (
        "அட்டவணை 5.0 வரம்பிற்கு வெளியே (நீளம் 1)  (index 5.0 out of bounds, length 1)"
    )
    assert failure("x = 2.50; accu [1][x * 2];")[1].endswith("(index 5.00 out of bounds, length 1)")
    assert failure("accu [1][20% * 10];")[1].endswith("(index 2.00 out of bounds, length 1)")
    assert failure("accu [1][0.5];")[1] == (
        "அட்டவணை முழு எண்ணாக இருக்க வேண்டும்  (array index must be a whole number, got 0.5)"
    )


def test_zero_operand_rules_in_compiled_code():
    source = """
z = mEl(-0.5);
accu z; accu 0 + z; accu 0 - z; accu z + 0; accu -z; accu z * 5; accu 0 / 3;
a = 0.00; b = 7;
i = 0; (i < 1) cuRRu { i = i + 1; }
g = [a + b, b + a, b - a, a - b, a * b, i + a, a + i];
"""
    outcome = run(source)
    assert outcome.lines == ["-0", "-0", "-0", "0", "-0", "0", "0"]
    scales = [numbers.display_scaled(v) for v in outcome.globals["g"]]
    assert scales == ["7", "7", "7", "-7", "0", "1", "1"]


def test_whole_number_counter_arithmetic_and_overflow():
    lines, error = failure(
        "n = 1; i = 0; (i < 200) cuRRu { n = n * 2; i = i + 1; accu n; }"
    )
    assert lines[:3] == ["2", "4", "8"]
    assert lines[-1] == str(2**95)
    assert len(lines) == 95
    assert "overflow" in error


def test_globals_returned_by_run():
    outcome = run('x = 1.50; s = "a"; ceyal f() { l = 5; qirumpu l; } y = f(); i = 0; i = i + 2;')
    assert outcome.error is None
    assert outcome.globals.keys() == {"x", "s", "y", "i"}
    assert numbers.display_scaled(outcome.globals["x"]) == "1.50"
    assert outcome.globals["s"] == "a"
    assert outcome.globals["y"] == 5
    assert type(outcome.globals["i"]) is Decimal and outcome.globals["i"] == 2


def test_globals_after_a_runtime_error():
    outcome = run("a = 1; b = [1, 2]; c = a / 0; d = 4;")
    assert outcome.error == "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"
    assert outcome.globals == {"a": Decimal(1), "b": [Decimal(1), Decimal(2)]}


def test_globals_after_an_error_inside_a_function_and_a_loop():
    outcome = run("ceyal f(x) { qirumpu [x][5]; } i = 0; (i < 10) cuRRu { i = i + 1; (i == 3) eZil { f(i); } }")
    assert "index 5 out of bounds, length 1" in outcome.error
    assert outcome.globals == {"i": Decimal(3)}


def test_each_run_has_fresh_globals():
    compiled = compile_program(load_text("accu x; x = 1;").statements)
    for _ in range(2):
        with pytest.raises(EtamilError) as caught:
            compiled.run(RunContext(stdout=io.StringIO()))
        assert caught.value.message == undefined("x")
    compiled = compile_program(load_text("n = 0; n = n + 1; accu n;").statements)
    for _ in range(2):
        out = io.StringIO()
        assert compiled.run(RunContext(stdout=out)) == {"n": Decimal(1)}
        assert out.getvalue() == "1\n"


def test_injected_inputs():
    outcome = run("accu request_method & \"!\"; x = request_method;", inputs={"request_method"},
                  inject={"request_method": "GET"})
    assert outcome.lines == ["GET!"]
    assert outcome.globals["x"] == "GET"


# -------------------------------------------------------------------------- value semantics (§4)


def test_arrays_and_records_are_copied_on_assignment():
    assert printed("a = [1, 2]; b = a; b[0] = 9; accu a; accu b;") == ["[1, 2]", "[9, 2]"]
    assert printed("r = {a: 1}; s = r; s.a = 2; s.b = 3; accu r; accu s;") == ["{a: 1}", "{a: 2, b: 3}"]
    assert printed("m = [[1]]; n = m; k = n[0]; k[0] = 5; accu m; accu k;") == ["[[1]]", "[5]"]


def test_values_are_copied_into_and_out_of_functions():
    source = """
ceyal change(a) { a[0] = 99; qirumpu a; }
x = [1, 2];
y = change(x);
accu x; accu y;
y[1] = 7; accu x; accu y;
r = {k: [1]};
ceyal field(q) { q.k = 0; qirumpu q; }
accu field(r); accu r;
"""
    assert printed(source) == ["[1, 2]", "[99, 2]", "[1, 2]", "[99, 7]", "{k: 0}", "{k: [1]}"]


def test_for_each_walks_a_snapshot():
    source = "xs = [1, 2, 3]; ovvoru v il xs { xs[0] = 100; accu v; } accu xs; accu v;"
    assert printed(source) == ["1", "2", "3", "[100, 2, 3]", "3"]


# ---------------------------------------------------------------------------------- scope (§8)


def test_spec_scope_example():
    source = """
வரம்பு_மதிப்பு = 100;
ceyal maaRRu() {
    accu வரம்பு_மதிப்பு;
    வரம்பு_மதிப்பு = 5;
    qirumpu வரம்பு_மதிப்பு;
}
accu maaRRu();
accu வரம்பு_மதிப்பு;
"""
    assert printed(source) == ["100", "5", "100"]


def test_a_function_cannot_change_a_global():
    source = """
x = 1; g = [1, 2]; r = {a: 1};
ceyal f() { x = x + 1; g[0] = 9; r.a = 2; qirumpu [x, g, r]; }
accu f(); accu x; accu g; accu r;
"""
    assert printed(source) == ["[2, [9, 2], {a: 2}]", "1", "[1, 2]", "{a: 1}"]


def test_a_function_never_sees_its_callers_locals():
    source = "ceyal inner() { qirumpu secret; } ceyal outer() { secret = 1; qirumpu inner(); } accu outer();"
    assert failure(source) == ([], undefined("secret"))


def test_local_not_yet_written_in_this_call_reads_the_global():
    source = """
t = 5;
ceyal f(c) { (c) eZil { t = 1; } qirumpu t; }
accu f(0); accu f(1); accu f(0); accu t;
"""
    assert printed(source) == ["5", "1", "5", "5"]


def test_local_written_only_in_a_branch_is_undefined_otherwise():
    source = "ceyal f(c) { (c) eZil { t = 1; } qirumpu t; } accu f(1); accu f(0);"
    assert failure(source) == (["1"], undefined("t"))


def test_unboxed_local_written_only_in_a_branch():
    source = "ceyal f(c) { (c) eZil { k = 0; k = k + 1; } qirumpu k + 1; } accu f(1); accu f(0);"
    assert failure(source) == (["2"], undefined("k"))


def test_blocks_do_not_create_scopes():
    assert printed("(mey) eZil { a = 1; } ovvoru v il [2] { b = v; } accu a + b; accu v;") == ["3", "2"]


def test_variables_and_functions_have_separate_namespaces():
    assert printed("f = 1; ceyal f() { qirumpu 2; } accu f; accu f();") == ["1", "2"]


def test_for_each_variable_inside_a_function_is_local():
    source = "v = 0; ceyal f() { ovvoru v il [1, 2] { } qirumpu v; } accu f(); accu v;"
    assert printed(source) == ["2", "0"]


# ---------------------------------------------------------------------- undefined variables (§8)


def test_undefined_variable_at_top_level():
    assert failure("accu 1; accu h;") == (["1"], undefined("h"))
    assert failure("x = h + 1;") == ([], undefined("h"))


def test_undefined_variable_from_a_function():
    assert failure("ceyal f() { qirumpu h; } accu f();") == ([], undefined("h"))
    assert failure("ceyal f() { y = y + 1; qirumpu y; } accu f();") == ([], undefined("y"))


def test_element_assignment_to_an_undefined_variable():
    assert failure("q[0] = 1;") == ([], undefined("q"))
    assert failure("ceyal f() { q.a = 1; } f();") == ([], undefined("q"))


def test_a_function_reads_a_global_assigned_after_its_definition():
    assert printed("ceyal f() { qirumpu g * 2; } g = 21; accu f(); g = 1; accu f();") == ["42", "2"]


def test_a_function_called_before_the_global_exists():
    assert failure("ceyal f() { qirumpu g; } accu f(); g = 1;") == ([], undefined("g"))


def test_names_keep_their_exact_spelling():
    assert printed("vari = 1; வரி = 2; accu vari; accu வரி;") == ["1", "2"]
    assert failure("varavu = 1; accu வரவு;")[1] == undefined("வரவு")


# ----------------------------------------------------------------------------- functions (§9.4)


def test_functions_are_hoisted_and_the_last_definition_wins():
    source = """
accu f();
ceyal f() { qirumpu 1; }
(poy) eZil { ceyal f() { qirumpu 2; } }
accu f();
"""
    assert printed(source) == ["2", "2"]


def test_nested_function_definition_is_global():
    assert printed("ceyal outer() { ceyal inner() { qirumpu 7; } qirumpu 1; } accu inner();") == ["7"]


def test_user_function_hides_a_builtin():
    assert printed("accu nILam([1, 2, 3]); ceyal nILam(x) { qirumpu 42; } accu nILam([1]);") == ["42", "42"]
    assert failure("ceyal nILam(a, b) { qirumpu 0; } accu nILam([1]);")[1] == (
        "செயல் 'nILam' 2 அளவுருக்களை எதிர்பார்க்கிறது, 1 வழங்கப்பட்டது  "
        "(function 'nILam' expects 2 argument(s), got 1)"
    )


def test_builtin_other_spellings_are_not_hidden():
    assert printed("ceyal nILam(x) { qirumpu 42; } accu நீளம்([1]); accu _length([1, 2]);") == ["1", "2"]


def test_unknown_function_and_arity_after_evaluating_arguments():
    source = 'ceyal p() { accu "p"; qirumpu 1; } nope(p(), p());'
    assert failure(source) == (["p", "p"], "அறியப்படாத செயல் 'nope'  (unknown function 'nope')")
    source = 'ceyal p() { accu "p"; qirumpu 1; } ceyal f(a) { qirumpu a; } f(p(), 2);'
    assert failure(source) == (
        ["p"],
        "செயல் 'f' 1 அளவுருக்களை எதிர்பார்க்கிறது, 2 வழங்கப்பட்டது  (function 'f' expects 1 argument(s), got 2)",
    )
    assert failure("accu nILam(1, 2);")[1] == (
        "செயல் 'nILam' 1 அளவுருக்களை எதிர்பார்க்கிறது, 2 வழங்கப்பட்டது  "
        "(function 'nILam' expects 1 argument(s), got 2)"
    )


def test_return_values():
    source = """
ceyal bare() { qirumpu; }
ceyal falls() { x = 1; }
ceyal early(n) { ovvoru i il [1, 2, 3] { (i == n) eZil { qirumpu i * 10; } } qirumpu -1; }
accu bare(); accu falls(); accu early(2); accu early(9);
"""
    assert printed(source) == ["nil", "nil", "20", "-1"]


def test_return_at_top_level_fails_when_executed():
    assert failure("accu 1; qirumpu 2; accu 3;") == (
        ["1"], "செயலுக்கு வெளியே திரும்பு  (return outside of a function)"
    )
    assert printed("(poy) eZil { qirumpu; } accu 1;") == ["1"]


def test_call_depth_256():
    source = "ceyal f(n) { (n == 0) eZil { qirumpu 0; } qirumpu f(n - 1) + 1; } accu f(N);"
    assert printed(source.replace("N", "255")) == ["255"]
    assert failure(source.replace("N", "256")) == ([], CALL_DEPTH)


def test_call_depth_counts_frames_from_nested_top_level_calls():
    source = """
ceyal down(n) { (n == 0) eZil { qirumpu 0; } qirumpu down(n - 1); }
ceyal wrap(n) { qirumpu down(n); }
accu wrap(254);
accu wrap(255);
"""
    assert failure(source) == (["0"], CALL_DEPTH)


def test_infinite_recursion_is_the_depth_error():
    assert failure("ceyal f() { qirumpu g(); } ceyal g() { qirumpu f(); } accu 1; f();") == (["1"], CALL_DEPTH)


# -------------------------------------------------------------------------------- results (§11)


def test_question_mark_propagation_spec_example():
    source = """
ceyal pakuppu(a, b) {
    (b == 0) eZil { qirumpu qavaRu("zero"); }
    qirumpu cari(a / b);
}
ceyal iru_pakuppu(a, b) {
    paati = pakuppu(a, b)?;
    qirumpu cari(paati / 2);
}
accu iru_pakuppu(8, 2);
accu iru_pakuppu(8, 0);
"""
    assert printed(source) == ["சரி(2)", "தவறு(zero)"]


def test_question_mark_abandons_the_rest_of_the_expression_and_function():
    source = """
ceyal side(t) { accu t; qirumpu 1; }
ceyal g() {
    ovvoru i il [1, 2] {
        x = side("a") + qavaRu([i])? + side("b");
    }
    accu "never";
}
r = g();
accu r; accu vakY(r);
"""
    assert printed(source) == ["a", "தவறு([1])", "a result"]


def test_question_mark_propagates_through_callers():
    source = """
ceyal inner() { qirumpu qavaRu("e")?; }
ceyal outer() { v = inner()?; accu "not reached"; qirumpu v; }
accu outer();
accu cari(3)?;
"""
    assert printed(source) == ["தவறு(e)", "3"]


def test_question_mark_at_top_level_and_on_non_results():
    assert failure('accu 1; x = qavaRu([1, "a"])?;') == (
        ["1"], "கையாளப்படாத தவறு: [1, a]  (unhandled error at top level: [1, a])"
    )
    assert failure("x = 5?;")[1] == "'?' க்கு ஒரு முடிவு தேவை  ('?' needs a result, got a number)"
    assert failure("ceyal f() { qirumpu iZmY?; } f();")[1] == "'?' க்கு ஒரு முடிவு தேவை  ('?' needs a result, got nil)"


def test_results_as_values():
    outcome = run("a = cari(1); b = qavaRu(2); accu a == cari(1.0); accu a == b;")
    assert outcome.lines == ["true", "false"]
    assert type(outcome.globals["a"]) is Ok and type(outcome.globals["b"]) is Err


# ---------------------------------------------------------------------- operators (§7) compiled


def test_mixed_operand_arithmetic_and_logic():
    source = """
accu "5" + 1; accu " 7 " * 2; accu "abc" + 1; accu mey + mey; accu [1, 2] + 1;
accu "x" & 1 + 2; accu "x" & (1 + 2); accu 3 > 2 > 1; accu 10 - -3; accu - - 3;
accu (0 allaqu 5); accu ("" allaqu ""); accu 1 maRRum "s"; accu illY [];
accu 1 == mey; accu 1.0 == 1.00; accu [1, 2] == [1, 2.0]; accu "B" < "a"; accu 5 < "6";
"""
    assert printed(source) == [
        "6", "14", "1", "2", "1", "2", "x3", "false", "13", "3",
        "true", "false", "true", "true", "false", "true", "true", "true", "true",
    ]


def test_logical_operators_short_circuit():
    source = """
ceyal side(t) { accu t; qirumpu mey; }
x = poy maRRum side("and");
y = mey allaqu side("or");
z = 0 allaqu side("evaluated");
accu [x, y, z];
"""
    assert printed(source) == ["evaluated", "[false, true, true]"]


def test_duplicate_record_keys_evaluate_every_value_and_keep_the_first():
    source = 'ceyal side(t) { accu t; qirumpu t; } r = {a: side("1"), a: side("2")}; accu r;'
    assert printed(source) == ["1", "2", "{a: 1}"]


# ------------------------------------------------------------------------------------- deadline


def run_with_stop(source: str, delay: float = 0.2, message: str | None = None):
    """Run ``source`` in a worker thread; a timer appends to ``ctx.stop`` after ``delay``."""
    compiled = compile_program(load_text(source).statements)
    ctx = RunContext(stdout=io.StringIO())
    if message is not None:
        ctx.stop_message = message
    result: dict = {}

    def target():
        try:
            result["globals"] = compiled.run(ctx)
        except BaseException as error:  # handed back to the test thread
            result["error"] = error

    timer = threading.Timer(delay, ctx.stop.append, args=("deadline",))
    worker = threading.Thread(target=target, daemon=True)
    timer.start()
    worker.start()
    worker.join(timeout=30)
    timer.cancel()
    assert not worker.is_alive(), "the run did not stop after ctx.stop was set"
    return result


@pytest.mark.parametrize(
    "source",
    [
        "(mey) cuRRu { }",
        "i = 0; (mey) cuRRu { i = i + 1; }",
        "x = 0.5; (x > 0) cuRRu { x = x * 1; }",
        "ceyal f() { (1) cuRRu { } } f();",
        "ceyal f(n) { qirumpu n; } (mey) cuRRu { f(1); }",
        "xs = [1, 2, 3]; (mey) cuRRu { ovvoru v il xs { } }",
    ],
)
def test_deadline_stops_the_run(source):
    result = run_with_stop(source)
    assert isinstance(result.get("error"), DeadlineExceeded)


def test_deadline_uses_the_stop_message_and_keeps_globals():
    result = run_with_stop("n = 0; (mey) cuRRu { n = n + 1; }", message="stopped here")
    error = result["error"]
    assert isinstance(error, DeadlineExceeded) and error.message == "stopped here"
    assert error.globals["n"] > 0


def test_stop_set_before_the_run_stops_at_the_first_loop_iteration():
    compiled = compile_program(load_text("accu 1; (mey) cuRRu { accu 2; }").statements)
    out = io.StringIO()
    ctx = RunContext(stdout=out)
    ctx.stop.append("now")
    with pytest.raises(DeadlineExceeded):
        compiled.run(ctx)
    assert out.getvalue() == "1\n"


@pytest.mark.parametrize(
    "source",
    [
        "ceyal f(n) { (n > 0) eZil { f(n - 1); f(n - 1); } } f(60);",  # no loop: function entries
        "ceyal f(s) { qirumpu s; } (mey) cuRRu { x = f(1) + f(2); }",
    ],
)
def test_deadline_stops_loop_free_recursion_and_calls(source):
    assert isinstance(run_with_stop(source).get("error"), DeadlineExceeded)


# ------------------------------------------------------------------ for-each and collections


def test_for_each_details():
    source = """
ovvoru v il [1, 2, 3] { accu v; v = 10; }
accu v;
ovvoru k il {b: 1, a: 2, "B": 3} { accu k; }
ovvoru l il "கௌa\\r\\nb" { accu nILam(l); }
w = "keep";
ovvoru w il [] { accu "never"; }
accu w;
"""
    assert printed(source) == ["1", "2", "3", "10", "B", "a", "b", "1", "1", "1", "1", "keep"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("ovvoru v il 5 { }", "இதை சுற்ற முடியாது  (cannot iterate over a number)"),
        ("ovvoru v il cari(1) { }", "இதை சுற்ற முடியாது  (cannot iterate over a result)"),
        ("accu [1][1.5];", "அட்டவணை முழு எண்ணாக இருக்க வேண்டும்  (array index must be a whole number, got 1.5)"),
        ("accu [1][-1];", "அட்டவணை -1 வரம்பிற்கு வெளியே (நீளம் 1)  (index -1 out of bounds, length 1)"),
        ('accu "கைகை"[2];', "அட்டவணை 2 வரம்பிற்கு வெளியே (நீளம் 2)  (index 2 out of bounds, length 2)"),
        ("accu {a: 1}.b;", "புலம் 'b' இல்லை  (no field 'b' on this record)"),
        ("accu {a: 1}[1];", "புலம் '1' இல்லை  (no field '1' on this record)"),
        ("accu mey[0];", "அட்டவணைப்படுத்த முடியாது  (cannot index into a boolean)"),
        ("accu iZmY[0];", "அட்டவணைப்படுத்த முடியாது  (cannot index into nil)"),
        ("accu [1].k;", "'k' ஒரு பொருள் அல்ல  ('.k' needs a record, got an array)"),
        ("x = 5; x.k = 1;", "'x' ஒரு பொருள் அல்ல  ('x.k' needs a record, got a number)"),
        ("x = iZmY; x[0] = 1;", "'x' ஐ அட்டவணைப்படுத்த முடியாது  (cannot index into nil)"),
        ('s = "ab"; s[0] = "x";', "'s' ஐ அட்டவணைப்படுத்த முடியாது  (cannot index into a string)"),
        ("a = [1]; a[1] = 2;", "அட்டவணை 1 வரம்பிற்கு வெளியே (நீளம் 1)  (index 1 out of bounds, length 1)"),
        ("accu 1 / (2 - 2.0);", "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"),
        ("accu 1 / mEl(-0.5);", "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"),
        ('accu 1 / "abc";', "பூஜ்ஜியத்தால் வகுத்தல்  (division by zero)"),
        ('(mey) eZil { iRakku "m.qmz"; }',
         "இறக்கு (import) — இந்த VM இல் இன்னும் செயல்படுத்தப்படவில்லை  (not implemented in the VM yet)"),
    ],
)
def test_runtime_error_messages(source, message):
    assert failure(source)[1] == message


def test_element_and_field_assignment_add_and_replace():
    source = "r = {}; r.a = 1; r[\"b c\"] = 2; r[1] = 3; r.a = 4; a = [1, 2]; a[mey] = 9; accu r; accu a;"
    assert printed(source) == ["{1: 3, a: 4, b c: 2}", "[1, 9]"]


def test_function_hiding_a_builtin_from_a_block_that_never_runs():
    assert printed("accu nILam([1]); (poy) eZil { ceyal nILam(x) { qirumpu 0; } }") == ["0"]


# ------------------------------------------------------------------------- deep nesting


def test_long_concatenation_chain_compiles():
    assert printed("accu " + " & ".join(['"a"'] * 300) + ";") == ["a" * 300]


def test_deeply_nested_unary_minus_compiles():
    assert printed("accu " + "-" * 250 + "1;") == ["1"]


def test_deeply_nested_calls_compile():
    program = "ceyal f(x) { qirumpu x; } accu " + "f(" * 250 + "1" + ")" * 250 + ";"
    assert printed(program) == ["1"]


def test_blocks_nested_past_cpython_limit_give_a_clean_error():
    # CPython refuses more than 100 indentation levels; such a program gets a bilingual error,
    # never a Python exception.
    from etamil_server.runtime.compiler import CompileError

    with pytest.raises(CompileError) as caught:
        printed("(mey) eZil { " * 100 + "accu 1;" + " }" * 100)
    assert "(the program nests blocks or expressions too deeply" in caught.value.message


def test_blocks_nested_fifty_deep_compile():
    assert printed("(mey) eZil { " * 50 + "accu 1;" + " }" * 50) == ["1"]


def test_hard_keyword_field_keys_written_as_strings():
    assert printed('r = {"il": 1}; accu r["il"]; accu r."il"; r."col" = 2; accu r;') == ["1", "1", "{col: 2, il: 1}"]


# ------------------------------------------------------------------------- overflow checks kept


@pytest.mark.parametrize(
    "program",
    [
        # a guard bounds only one side: the other side is still checked
        "i = 79228162514264337593543950335; (i > 0) cuRRu { i = i + 1; }",
        # a bound from an outer loop does not survive an inner loop that changes the variable
        "i = 1; (i < 10) cuRRu { j = 0; (j < 40) cuRRu { i = i * 10; j = j + 1; } }",
        # a bound from an if condition holds only until the variable is assigned
        "x = 5; (x < 10) eZil { x = x * 79228162514264337593543950335; x = x * 2; }",
        # a counter that only grows is never negative, but it can still pass the top
        "n = 79228162514264337593543950330; k = 0; (k < 10) cuRRu { n = n + 1; k = k + 1; }",
        # subtraction below the bottom
        "m = 0 - 79228162514264337593543950335; m = m - 1;",
        "ceyal f() { t = 1; c = 0; (c < 100) cuRRu { t = t * 3; c = c + 1; } qirumpu t; } accu f();",
    ],
)
def test_whole_number_overflow_is_still_detected(program):
    from etamil_server.base.errors import EtamilOverflow

    outcome = run(program)
    assert isinstance(outcome.exception, EtamilOverflow), (outcome.lines, outcome.error)


def test_bounded_counters_compile_without_overflow_checks():
    from etamil_server.lang.loader import load_text
    from etamil_server.runtime.compiler import compile_program

    source = compile_program(
        load_text("t = 0; i = 0; (i < 1000) cuRRu { v = 300000 + i; t = t + (v - 300000); i = i + 1; } accu t;").statements
    ).source
    loop = source[source.index("while") :]
    # only the unbounded running total keeps its check; the bounded counter and v do not
    assert loop.count("_num.overflow") == 1, loop
    assert printed("t = 0; i = 0; (i < 1000) cuRRu { v = 300000 + i; t = t + (v - 300000); i = i + 1; } accu t;") == ["499500"]
