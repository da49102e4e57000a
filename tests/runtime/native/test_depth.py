"""The call-depth limit (LANGUAGE.md §9.4: at most 256 active calls) and deadlines reach the
bundled functions exactly as they reach their definitions: a function called near the limit fails
(or not) as its definition would, wherever its own nested calls would cross the limit; JSON nested
a thousand deep gives the depth error, never a Python RecursionError."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from native_helpers import LABEL, same

from etamil_server.base.errors import CALL_DEPTH
from etamil_server.runtime.values import Err

#: Arguments that walk each definition's deepest path (and some that return early).
TYPICAL = {
    "எழுத்து": [("வணக்கம்", D(1))],
    "துண்டு": [("வணக்கம்", D(1), D(3))],
    "தேடு": [("வணக்கம்", "க்")],
    "கொண்டுள்ளதா": [("வணக்கம்", "க்")],
    "தொடங்குகிறதா": [("வணக்கம்", "வ"), ("a", "abc")],
    "முடிகிறதா": [("வணக்கம்", "ம்"), ("a", "abc")],
    "ஒழுங்கு": [("  x  ",)],
    "திரும்பச்செய்": [("ab", D(3))],
    "இடமிருந்து_நிரப்பு": [(D(7), D(3), "0")],
    "முழுமதிப்பு": [(D(-5),)],
    "சிறியது": [(D(1), D(2))],
    "பெரியது": [(D(1), D(2))],
    "கூட்டு": [([D(1), D(2)],)],
    "சராசரி": [([D(1), D(2)],), ([],)],
    "மிகச்சிறியது": [([D(3), D(1)],)],
    "மிகப்பெரியது": [([D(3), D(1)],)],
    "சதவீதம்": [(D(1000), D(18))],
    "முழு_எண்ணா": [(D("2.5"),)],
    "மீதி": [(D(-7), D(3))],
    "உள்ளதா": [([D(1), "x"], "x")],
    "இடம்_காண்": [([D(1), "x"], "x")],
    "தலைகீழ்": [([D(1), D(2)],)],
    "வெட்டு": [([D(1), D(2), D(3)], D(1), D(2))],
    "புலம்_எடு": [([{"k": D(1)}], "k")],
    "காலியா": [([],)],
    "புலம்_உள்ளதா": [({"a": D(1)}, "a")],
    "புலம்_அல்லது": [({"a": D(1)}, "a", D(0)), ({"a": D(1)}, "b", D(0))],
    "புலங்கள்": [({"b": D(1), "a": D(2)},)],
    "மதிப்பீடுகள்": [({"b": D(1), "a": D(2)},)],
    "காலியா_பதிவேடு": [({},)],
    "குழுக்கள்": [("1234567",), ("123",)],
    "காசு_வடிவம்": [(D("12345678.5"),), (D(5),)],
    "ரூபாய்": [(D("-1234.5"),)],
    "காசாக": [(D("2.345"),)],
    "லட்சம்": [(D(2500000),)],
    "கோடி": [(D(250000000),)],
    "ரூபாயும்_பைசாவும்": [(D(2), D(5))],
    "ரூபாயாக": [(D(2),)],
    "காசு_உரை": [(D(-5),)],
    "காசு_கூட்டு": [(D(1), D(2))],
    "காசு_கழி": [(D(1), D(2))],
    "காசு_மடங்கு": [(D(3), D(2))],
    "காசு_கூட்டல்": [([D(1), D(2)],)],
    "விழுக்காடு_காசு": [(D(1001), D(18), D(100)), (D(1), D(1), D(0))],
    "சமமாகப்_பிரி": [(D(1000), D(3))],
    "விகிதத்தில்_பிரி": [(D(1000), [D(1), D(1), D(1)])],
    "ஜேசான்_ஆக்கு": [({"a": [D(1), "x"], "": ""},), ("",), ([],), ([[]],), ({},), ({"": D(1)},)],
    "ஜேசான்_சரம்": [("a\"b",), ("",)],
    "எழுத்து_மறை": [("\n",)],
    "ஜேசான்_படி": [('{"a": [1, "x"]}',), ("[]",), ("1",), ('""',), ("{}",), ('[{"": []}]',)],
    "ஜே_எழுத்து": [("[1]", D(0))],
    "ஜே_வெண்மை": [("  1", D(0))],
    "ஜே_விடுவி": [("n",)],
    "ஜே_மதிப்பு": [("[1]", D(0)), ('"x"', D(0))],
    "ஜே_எண்": [("12", D(0))],
    "ஜே_சரம்": [('"a\\nb"', D(0))],
    "ஜே_அணி": [("[1, 2]", D(0)), ("[]", D(0))],
    "ஜே_சோடி": [('"a": 1', D(0))],
    "ஜே_பொருள்": [('{"a": 1}', D(0)), ("{}", D(0))],
    "அறுபத்துநான்கு_எழுத்துகள்": [()],
    "பதினாறு_எழுத்துகள்": [()],
    "அறுபத்துநான்கு_ஆக்கு": [("வணக்கம்",)],
    "அறுபத்துநான்கு_படி": [("4K6V",), ("!",)],
    "பதினாறு_ஆக்கு": [("வ",)],
    "பதினாறு_படி": [("e0aeb5",), ("e",)],
}


def test_every_bundled_function_has_typical_arguments():
    assert set(TYPICAL) == set(LABEL)


@pytest.mark.parametrize("name", sorted(TYPICAL), ids=lambda name: LABEL[name])
def test_near_the_depth_limit(twin, name):
    outcomes = set()
    for arguments in TYPICAL[name]:
        for depth in range(249, 259):
            outcome = twin.check(name, *arguments, depth=depth)
            outcomes.add(outcome[0])
    assert "error" in outcomes  # at 257 at the latest every call fails


@pytest.mark.parametrize("depth", [2, 100, 240, 250, 252, 253, 254, 255, 256])
def test_json_nesting_around_the_limit(twin, depth):
    for nesting in list(range(0, 8)) + list(range(74, 86)) + [120, 126, 127, 128]:
        for text in ("[" * nesting + "]" * nesting, "[" * nesting + "1" + "]" * nesting,
                     '{"a":' * nesting + "1" + "}" * nesting, '[{"":' * nesting + '""' + "}]" * nesting,
                     "[" * nesting + "[1," * 2 + "x"):
            twin.check("ஜேசான்_படி", text, depth=depth)
        value: object = D(1)
        for level in range(nesting):
            value = [value] if level % 2 else {"k": value}
        twin.check("ஜேசான்_ஆக்கு", value, depth=depth)


def test_a_thousand_levels_deep_is_the_depth_error_not_a_recursion_error(twin):
    for text in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000):
        assert twin.check("ஜேசான்_படி", text) == ("error", "EtamilError", CALL_DEPTH)
    value: object = []
    for _ in range(1000):
        value = [value]
    assert twin.check("ஜேசான்_ஆக்கு", value) == ("error", "EtamilError", CALL_DEPTH)


def test_a_failure_before_the_limit_comes_first(twin):
    # the reader meets the bad letter before it nests deep enough to fail
    kind, value = twin.check("ஜேசான்_படி", "[x" + "[" * 1000)
    assert kind == "value" and same(value, Err("ஒரு மதிப்பு எதிர்பார்க்கப்பட்டது  (expected a value)"))
