"""The differential harness: every bundled function, called with the same arguments at the same
call depth, once natively and once through its compiled eTamil definition.

One program imports the eight modules and defines ``அழை(n, which, a0, a1, a2)``, which recurses
``n - 1`` times and then calls the function named ``which``; it is compiled twice, with the
switch on and off. An outcome is the value left in ``விடை`` or the error (its class and text).
"""

from __future__ import annotations

import contextlib
import os
import threading
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from etamil_server.base import numbers
from etamil_server.base.errors import EtamilError
from etamil_server.lang.loader import load_text
from etamil_server.runtime import native
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok

MODULES = ("col", "kaNiqam", "aNi", "poruL", "paNam", "kAcu", "jEcAZ", "kuRiyAkkam")
ARITY = {name: entry.arity for (_, name), entry in native.NATIVES.items()}
#: a readable test id per function: file and the native's Python name ("col.piece" for துண்டு)
LABEL = {name: f"{file[:-4]}.{entry.impl.__name__.strip('_')}" for (file, name), entry in native.NATIVES.items()}
INPUTS = ("ஆழம்", "which", "a0", "a1", "a2")


def _source() -> str:
    lines = [f'இறக்கு "nUlakam/{module}.qmz";' for module in MODULES]
    lines.append("செயல் அழை(n, which, a0, a1, a2) {")
    lines.append("    (n > 1) எனில் { திரும்பு அழை(n - 1, which, a0, a1, a2); }")
    for name, arity in sorted(ARITY.items()):
        arguments = ", ".join(f"a{i}" for i in range(arity))
        lines.append(f'    (which == "{name}") எனில் {{ திரும்பு {name}({arguments}); }}')
    lines.append("}")
    lines.append("விடை = அழை(ஆழம், which, a0, a1, a2);")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def switch(value: str | None):
    """``ETAMIL_NATIVE_STDLIB`` set to ``value`` (None: unset) for the duration."""
    saved = os.environ.get(native.SWITCH)
    if value is None:
        os.environ.pop(native.SWITCH, None)
    else:
        os.environ[native.SWITCH] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(native.SWITCH, None)
        else:
            os.environ[native.SWITCH] = saved


def compile_both(source: str, inputs: tuple[str, ...] = ()) -> tuple[Any, Any]:
    """(native, definitions) compilations of ``source``."""
    statements = load_text(source).statements
    with switch("1"):
        natively = compile_program(statements, inputs=inputs)
    with switch("0"):
        as_written = compile_program(statements, inputs=inputs)
    return natively, as_written


class Twin:
    def __init__(self) -> None:
        self.native, self.definitions = compile_both(_source(), INPUTS)

    def outcome(self, compiled: Any, name: str, arguments: tuple, depth: int, deadline: float) -> tuple:
        ctx = RunContext()
        padded = list(arguments) + [None] * (3 - len(arguments))
        inject = {"ஆழம்": Decimal(depth - 1), "which": name, "a0": padded[0], "a1": padded[1], "a2": padded[2]}
        timer = threading.Timer(deadline, ctx.stop.append, ["deadline"])
        timer.start()
        try:
            return ("value", compiled.run(ctx, inject)["விடை"])
        except EtamilError as error:
            return ("error", type(error).__name__, error.message)
        finally:
            timer.cancel()

    def both(self, name: str, *arguments: Any, depth: int = 2, deadline: float = 10.0) -> tuple[tuple, tuple]:
        assert len(arguments) == ARITY[name], name
        return (self.outcome(self.native, name, arguments, depth, deadline),
                self.outcome(self.definitions, name, arguments, depth, deadline))

    def check(self, name: str, *arguments: Any, depth: int = 2, deadline: float = 10.0) -> tuple:
        """Assert that both give the same outcome; returns it."""
        natively, as_written = self.both(name, *arguments, depth=depth, deadline=deadline)
        assert same_outcome(natively, as_written), (
            f"{name}{arguments!r} at depth {depth}:\n  native:      {natively!r}\n  definition:  {as_written!r}"
        )
        return natively


def same(a: Any, b: Any) -> bool:
    """Equal as eTamil values *and* in every detail a program could observe (the scale of a
    number, the sign of a zero, the kinds)."""
    if type(a) is not type(b):
        return False
    if type(a) is Decimal:
        return a.as_tuple() == b.as_tuple()
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if type(a) in (Ok, Err):
        return same(a.value, b.value)
    return a == b


def same_outcome(a: tuple, b: tuple) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "value":
        return same(a[1], b[1])
    return a == b


# ============================================================================== strategies

#: Letters and code points that the rules treat specially: JSON syntax, whitespace, CR LF, Tamil
#: consonants, vowel signs and the virama, combining marks, ZWJ emoji, regional indicators, a
#: prepended mark, Hangul jamo, control characters, case mappings that change the length.
SPECIAL = [
    '"', "\\", "/", "{", "}", "[", "]", ",", ":", " ", "\n", "\t", "\r", "\r\n", "-", "+", ".", "e", "E",
    "0", "1", "5", "9", "a", "b", "f", "n", "t", "r", "u", "l", "s", "q", "A", "Z", "z", "=", "_",
    "அ", "க", "வ", "ா", "்", "ி", "ஷ", "\u0301", "\u0308", "\u200d", "\u200c", "👍", "🏽", "👨‍👩‍👧",
    "🇮", "🇳", "\u0600", "\u0d4e", "ᄀ", "ᅡ", "ᆨ", "\x00", "\x01", "\x08", "\x0c", "\x1f", "\x7f", "\x85",
    "\xa0", "\u2028", "é", "ß", "İ", "Σ", "ﬀ", "₹",
]

letters = st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8"))
texts = st.lists(letters, max_size=12).map("".join)
short_texts = st.lists(letters, max_size=5).map("".join)

LIMIT_COEFFICIENTS = [0, 1, 2, 5, 9, 10, 99, 100, 255, 256, 10**27, 10**28 - 1, 10**28, 2**96 - 2, 2**96 - 1]


@st.composite
def decimals(draw) -> Decimal:
    """Any number of the model (coefficient <= 2**96 - 1, scale 0..28), the limits often."""
    coefficient = draw(st.one_of(st.integers(0, 1000), st.integers(0, 2**96 - 1), st.sampled_from(LIMIT_COEFFICIENTS)))
    scale = draw(st.one_of(st.just(0), st.sampled_from([1, 2, 27, 28]), st.integers(0, 28)))
    return numbers.make(draw(st.booleans()), coefficient, scale)


small_wholes = st.integers(-3, 12).map(Decimal)
small_numbers = st.one_of(small_wholes, st.sampled_from(["0.5", "2.5", "-0.5", "1.0", "3.00", "-0"]).map(Decimal))
numbers_any = st.one_of(small_numbers, decimals())
number_texts = st.sampled_from(["0", "1", "2", " 3 ", "-1", "2.5", "1_0", "x", "", "1e2", "+4"])

scalars = st.one_of(numbers_any, texts, st.booleans(), st.none())


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(short_texts, children, max_size=4),
        children.map(Ok),
        children.map(Err),
    )


values = st.recursive(scalars, _containers, max_leaves=10)
plain_values = st.recursive(  # no results: what JSON can hold
    st.one_of(numbers_any, texts, st.booleans(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(short_texts, children, max_size=4)),
    max_leaves=10,
)

#: Arguments of any kind, positions and counts often small and whole.
positions = st.one_of(small_numbers, number_texts, values)


# ------------------------------------------------------------------------------ JSON-like texts

JSON_NUMBERS = [
    "0", "-0", "01", "+1", "-", "1.", ".5", "1.5", "-2.50", "1e3", "2.5E0", "1-2", "1.2.3", "1_000",
    "79228162514264337593543950335", "79228162514264337593543950336", "-79228162514264337593543950335",
    "7922816251426433759354395033.5", "0.0000000000000000000000000001", "0.00000000000000000000000000005",
    "0.12345678901234567890123456789", "12345678901234567890123456789.123",
]


def _json_dump(value: Any, ascii_only: bool, spaced: bool) -> str:
    import json

    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(value, ensure_ascii=ascii_only, separators=separators, default=str)


_json_scalars = st.one_of(
    st.integers(-(2**100), 2**100),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
    st.booleans(),
    st.none(),
)
_json_plain = st.recursive(
    _json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(short_texts, children, max_size=4)),
    max_leaves=8,
)


@st.composite
def json_texts(draw) -> str:
    """Texts a JSON reader meets: well-formed (json.dumps, our own writer, odd numbers), then
    often broken by a few edits, and plain noise."""
    kind = draw(st.sampled_from(["dumps", "ours", "number", "noise", "nested"]))
    if kind == "dumps":
        source = _json_dump(draw(_json_plain), draw(st.booleans()), draw(st.booleans()))
    elif kind == "ours":
        from etamil_server.runtime.native.jecaz import encode

        source = encode(draw(plain_values), 1)
    elif kind == "number":
        source = draw(st.sampled_from(JSON_NUMBERS))
        if draw(st.booleans()):
            source = "[" + source + ", " + draw(st.sampled_from(JSON_NUMBERS)) + "]"
    elif kind == "nested":
        parts = draw(st.lists(st.sampled_from(["[", '{"k":', '{"":', "[1,"]), max_size=12))
        opening = "".join(parts)
        closing = "".join("]" if part.startswith("[") else "}" for part in reversed(parts))
        source = opening + draw(st.sampled_from(["1", '"x"', "[]", "{}", "null"])) + closing
    else:
        return draw(st.lists(st.sampled_from(SPECIAL), max_size=16).map("".join))
    for _ in range(draw(st.integers(0, 3)) if draw(st.booleans()) else 0):
        at = draw(st.integers(0, len(source)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        letter = draw(letters)
        if edit == "insert":
            source = source[:at] + letter + source[at:]
        elif edit == "delete":
            source = source[:at] + source[at + 1 :]
        else:
            source = source[:at] + letter + source[at + 1 :]
    return source
