"""Kind-directed emission (runtime/compiler/emit.py, kinds.py): where the operands' kinds are known
the emitter writes a quicker form — division straight to ``numbers.div``, concatenation as the
display forms joined in place, ``==`` with a text as Python's ``==``, ``வட்டமிடு`` of a number
to a literal count as ``round_decimal``, and ``இயல்பு(எண்ணாக்கு(t), 0)`` known to be a number.

Each property runs one expression twice: with its operands written as literals (their kinds are
known: the quick forms) and with the same values injected as inputs of unknown kind (the general
``ops`` functions). Both must give the same value — numbers with the same scale — or the same
error message.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError
from etamil_server.config import LimitSettings
from etamil_server.lang.loader import load_text
from etamil_server.runtime import limits
from etamil_server.runtime.builtins import numeric
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok


def outcome(source: str, inject: dict | None = None):
    """The value of the global ``விடை`` after running ``source`` (or the error message)."""
    compiled = compile_program(load_text(source).statements, inputs=frozenset(inject or ()))
    try:
        result = compiled.run(RunContext(), inject=inject)["விடை"]
    except EtamilError as error:
        return ("error", error.message)
    if type(result) is Decimal:
        return ("number", result.as_tuple())
    if type(result) in (Ok, Err):
        return (type(result).__name__, repr(result.value))
    return (type(result).__name__, result)


def source_of(operands: list, expression: str) -> tuple[str, str, dict]:
    """``expression`` over operands ``a``, ``b``...: as literals, and as injected inputs."""
    names = "abcd"[: len(operands)]
    literal = expression
    for name, value in zip(names, operands, strict=True):
        literal = literal.replace("{" + name + "}", literal_of(value))
    injected = expression.format(**{name: "உள்_" + name for name in names})
    inject = {"உள்_" + name: value for name, value in zip(names, operands, strict=True)}
    return f"விடை = {literal};", f"விடை = {injected};", inject


def literal_of(value) -> str:
    if value is None:
        return "இன்மை"
    if value is True:
        return "மெய்"
    if value is False:
        return "பொய்"
    if type(value) is Decimal:
        text = numbers.display_scaled(value.copy_abs())
        return f"(-{text})" if value.is_signed() else text
    return '"' + value + '"'


def same_both_ways(operands: list, expression: str) -> None:
    literal, injected, inject = source_of(operands, expression)
    quick, general = outcome(literal), outcome(injected, inject)
    assert quick == general, (literal, quick, general)


plain_numbers = st.builds(
    lambda negative, coefficient, scale: numbers.make(negative, coefficient, scale),
    st.booleans(), st.one_of(st.integers(0, 10**6), st.integers(0, numbers.MAX_COEFFICIENT)), st.integers(0, 28),
)
texts = st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs",)), max_size=6)
scalars = st.one_of(plain_numbers, texts, st.booleans(), st.none())


@given(scalars, scalars)
@settings(max_examples=300, deadline=None)
@example(Decimal("1.50"), "x")
@example(True, None)
@example(Decimal("-0.5"), Decimal("2"))
def test_concatenation_of_known_kinds(a, b):
    same_both_ways([a, b], "{a} & {b}")


@given(plain_numbers)
@settings(max_examples=100, deadline=None)
def test_concatenation_of_a_whole_counter(n):
    # a counter is held as a Python int (unboxed): its display form is its digits
    whole = int(n.copy_abs().to_integral_value()) % 10**6
    source = f"கு = 0;\n(கு < {whole % 7}) சுற்று {{ கு = கு + 1; }}\nவிடை = கு & \"|\" & {whole};"
    assert outcome(source) == ("str", f"{whole % 7}|{whole}")


@given(scalars, scalars)
@settings(max_examples=300, deadline=None)
@example("a", "a")
@example(Decimal(1), True)  # Python's 1 == True must not leak in
@example(None, None)
@example("", None)
def test_equality_with_a_known_text_or_nil(a, b):
    same_both_ways([a, b], "{a} == {b}")
    same_both_ways([a, b], "{a} != {b}")


@given(plain_numbers, plain_numbers)
@settings(max_examples=300, deadline=None)
@example(Decimal(1), Decimal(2))
@example(Decimal("180.09"), Decimal(2))
@example(Decimal(5), Decimal(0))
@example(Decimal(numbers.MAX_COEFFICIENT), Decimal("0.1"))
def test_division_of_known_numbers(a, b):
    same_both_ways([a, b], "{a} / {b}")


@given(plain_numbers, st.integers(0, 40))
@settings(max_examples=300, deadline=None)
@example(Decimal("2.345"), 2)
@example(Decimal("-0.004"), 2)
def test_rounding_a_number_to_a_literal_count(a, places):
    literal, injected, inject = source_of([a], "வட்டமிடு({a}, " + str(places) + ")")
    assert outcome(literal) == outcome(injected, inject), literal


@given(st.one_of(texts, st.builds(numbers.display_scaled, plain_numbers)), plain_numbers)
@settings(max_examples=300, deadline=None)
@example("1000.50", Decimal(18))
@example("abc", Decimal(3))
@example(" 7 ", Decimal("0.5"))
def test_a_number_read_from_text_then_used(text, b):
    # இயல்பு(எண்ணாக்கு(t), 0) is known to be a number: the arithmetic on it is inlined
    same_both_ways([text, b], "இயல்பு(எண்ணாக்கு({a}), 0) * {b} / 100")
    same_both_ways([text, b], "மதிப்பு(எண்ணாக்கு({a})) + {b}")


def test_the_quick_forms_are_emitted():
    # the properties above compare with the general path only if the quick forms are really used
    def source(text: str) -> str:
        return compile_program(load_text(text).statements).source

    assert "_num.div(" in source("விடை = 7 / 2;")
    assert "_ops.concat" not in source('விடை = 1.5 & "x" & மெய் & இன்மை;')
    assert "_ops.eq" not in source('அ = 5; விடை = அ == "x";')
    rounding = compile_program(load_text("விடை = வட்டமிடு(2.345, 2);").statements)
    assert numeric.round_decimal in rounding._run.__globals__.values()
    assert numeric.round_number not in rounding._run.__globals__.values()
    reads = source('விடை = இயல்பு(எண்ணாக்கு("5"), 0) * 2;')
    assert "_ops.mul" not in reads and " * " in reads


def test_user_functions_named_like_the_builtins_keep_the_general_path():
    program = """
    செயல் எண்ணாக்கு(t) { திரும்பு "not a number"; }
    விடை = இயல்பு(எண்ணாக்கு("5"), 0) & "";
    """
    assert outcome(program) == ("error", outcome('விடை = இயல்பு("not a number", 0);')[1])


def test_concatenation_of_known_kinds_keeps_the_text_limit():
    # a number joined to a text in a loop: the inline form checks the limit as ops.concat does
    limits.apply(LimitSettings(max_text_bytes=10_000, max_items=1_000))
    try:
        loop = 'உ = "";\nகு = 0;\n(கு < 100000) சுற்று {{ உ = {join}; கு = கு + 1; }}\nவிடை = உ;'
        for join in ("உ & 12345.5", "உ & மெய்", "உ & கு"):
            kind, message = outcome(loop.format(join=join))
            assert kind == "error" and "(text too large: " in message, join
    finally:
        limits.from_environment()
