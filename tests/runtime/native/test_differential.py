"""Every bundled function: the native and the compiled eTamil definition give the same value (to
the scale of every number) or the same error, for generated arguments of the intended kinds and of
every other kind (LANGUAGE.md §17, issue 8 §1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_helpers import (
    ARITY,
    LABEL,
    SPECIAL,
    decimals,
    json_texts,
    letters,
    number_texts,
    numbers_any,
    plain_values,
    positions,
    short_texts,
    small_numbers,
    small_wholes,
    texts,
    values,
)

text_or_any = st.one_of(texts, texts, values)
number_or_any = st.one_of(numbers_any, numbers_any, number_texts, values)
#: bounds of loops that count up (the definitions run once per step: keep them finite)
counts = st.one_of(small_numbers, number_texts, st.booleans(), st.none(), st.lists(small_wholes, max_size=2),
                   st.sampled_from(["7.5", "-2", "abc"]))
number_lists = st.lists(numbers_any, max_size=6)
lists_or_any = st.one_of(number_lists, st.lists(values, max_size=5), texts, values)
records = st.dictionaries(st.one_of(short_texts, st.sampled_from(["0", "1", "amount", "rate"])), values, max_size=5)
records_or_any = st.one_of(records, records, values)
keys = st.one_of(st.sampled_from(["0", "1", "amount", "rate", ""]), short_texts, small_wholes, values)
digit_texts = st.one_of(st.integers(0, 10**30).map(str), texts, values)
json_or_any = st.one_of(json_texts(), json_texts(), json_texts(), values)
#: pads that always lengthen the text (a mark, ZWJ, a prepended sign or a jamo would join the
#: letter after it and the definition would never end: see test_col.py)
pad_letters = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from(["\r", "\n", "\t", "அ", "க", "வ", "ஷ", "👍", "🇮", "é", "₹", "ß"]),
)
pads = st.lists(pad_letters, min_size=1, max_size=3).map("".join)
base64_texts = st.one_of(
    st.binary(max_size=12).map(lambda raw: __import__("base64").b64encode(raw).decode()),
    st.lists(st.sampled_from(list("ABCZaz09+/=\n\r") + ["\r\n", "-", "_", "அ", "\u0301"]), max_size=12).map("".join),
    texts,
    values,
)
hex_texts = st.one_of(
    st.binary(max_size=8).map(bytes.hex),
    st.binary(max_size=8).map(lambda raw: raw.hex().upper()),
    st.lists(st.sampled_from(list("0123456789abcdefABCDEFxg ") + ["İ", "\u0301", "அ"]), max_size=10).map("".join),
    texts,
    values,
)
json_positions = st.one_of(st.integers(0, 8).map(Decimal), st.integers(0, 3).map(Decimal), positions)

#: The argument strategies of every function, in order.
ARGUMENTS = {
    # col.qmz
    "எழுத்து": (text_or_any, positions),
    "துண்டு": (text_or_any, positions, positions),
    "தேடு": (text_or_any, st.one_of(short_texts, values)),
    "கொண்டுள்ளதா": (text_or_any, st.one_of(short_texts, values)),
    "தொடங்குகிறதா": (text_or_any, st.one_of(short_texts, values)),
    "முடிகிறதா": (text_or_any, st.one_of(short_texts, values)),
    "ஒழுங்கு": (st.one_of(st.lists(st.sampled_from([" ", " ", "a", "\t", "\u0301", "க்"]), max_size=8).map("".join),
                         text_or_any),),
    "திரும்பச்செய்": (values, counts),
    "இடமிருந்து_நிரப்பு": (values, st.one_of(st.integers(-2, 24).map(Decimal), counts), pads),
    # kaNiqam.qmz
    "முழுமதிப்பு": (number_or_any,),
    "சிறியது": (number_or_any, number_or_any),
    "பெரியது": (number_or_any, number_or_any),
    "கூட்டு": (lists_or_any,),
    "சராசரி": (lists_or_any,),
    "மிகச்சிறியது": (st.one_of(lists_or_any, records),),
    "மிகப்பெரியது": (st.one_of(lists_or_any, records),),
    "சதவீதம்": (number_or_any, number_or_any),
    "முழு_எண்ணா": (number_or_any,),
    "மீதி": (number_or_any, st.one_of(st.just(Decimal(0)), number_or_any)),
    # aNi.qmz
    "உள்ளதா": (lists_or_any, values),
    "இடம்_காண்": (lists_or_any, values),
    "தலைகீழ்": (st.one_of(lists_or_any, records),),
    "வெட்டு": (lists_or_any, positions, positions),
    "புலம்_எடு": (st.one_of(st.lists(records, max_size=4), lists_or_any), keys),
    "காலியா": (lists_or_any,),
    # poruL.qmz
    "புலம்_உள்ளதா": (records_or_any, keys),
    "புலம்_அல்லது": (records_or_any, keys, values),
    "புலங்கள்": (records_or_any,),
    "மதிப்பீடுகள்": (st.one_of(records_or_any, st.lists(small_wholes, max_size=4)),),
    "காலியா_பதிவேடு": (records_or_any,),
    # paNam.qmz
    "குழுக்கள்": (digit_texts,),
    "காசு_வடிவம்": (number_or_any,),
    "ரூபாய்": (number_or_any,),
    "காசாக": (number_or_any,),
    "லட்சம்": (number_or_any,),
    "கோடி": (number_or_any,),
    # kAcu.qmz
    "ரூபாயும்_பைசாவும்": (number_or_any, number_or_any),
    "ரூபாயாக": (number_or_any,),
    "காசு_உரை": (number_or_any,),
    "காசு_கூட்டு": (number_or_any, number_or_any),
    "காசு_கழி": (number_or_any, number_or_any),
    "காசு_மடங்கு": (number_or_any, number_or_any),
    "காசு_கூட்டல்": (lists_or_any,),
    "விழுக்காடு_காசு": (number_or_any, number_or_any, st.one_of(st.just(Decimal(0)), number_or_any)),
    "சமமாகப்_பிரி": (number_or_any, counts),
    "விகிதத்தில்_பிரி": (number_or_any, st.one_of(number_lists, st.lists(small_wholes, max_size=5), lists_or_any)),
    # jEcAZ.qmz
    "ஜேசான்_ஆக்கு": (st.one_of(plain_values, values),),
    "ஜேசான்_சரம்": (text_or_any,),
    "எழுத்து_மறை": (st.one_of(letters, st.sampled_from(SPECIAL), values),),
    "ஜேசான்_படி": (json_or_any,),
    "ஜே_எழுத்து": (json_or_any, json_positions),
    "ஜே_வெண்மை": (json_or_any, json_positions),
    "ஜே_விடுவி": (st.one_of(letters, st.sampled_from(["n", "t", "r", "u", '"']), values),),
    "ஜே_மதிப்பு": (json_or_any, json_positions),
    "ஜே_எண்": (json_or_any, json_positions),
    "ஜே_சரம்": (json_or_any, json_positions),
    "ஜே_அணி": (json_or_any, json_positions),
    "ஜே_சோடி": (json_or_any, json_positions),
    "ஜே_பொருள்": (json_or_any, json_positions),
    # kuRiyAkkam.qmz
    "அறுபத்துநான்கு_எழுத்துகள்": (),
    "பதினாறு_எழுத்துகள்": (),
    "அறுபத்துநான்கு_ஆக்கு": (st.one_of(texts, values),),
    "அறுபத்துநான்கு_படி": (base64_texts,),
    "பதினாறு_ஆக்கு": (st.one_of(texts, values),),
    "பதினாறு_படி": (hex_texts,),
}

#: the functions whose inputs have the most shapes get more examples
MORE = {"ஜேசான்_படி": 300, "ஜேசான்_ஆக்கு": 150, "ஜே_மதிப்பு": 100, "துண்டு": 100, "இடமிருந்து_நிரப்பு": 100}


def test_every_bundled_function_is_covered():
    assert set(ARGUMENTS) == set(ARITY)
    for name, strategies in ARGUMENTS.items():
        assert len(strategies) == ARITY[name], name


def _differential(name):
    @settings(max_examples=MORE.get(name, 50), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def run(twin, data):
        arguments = tuple(data.draw(strategy, label=f"argument {i}") for i, strategy in enumerate(ARGUMENTS[name]))
        twin.check(name, *arguments)

    return run


@pytest.mark.parametrize("name", sorted(ARGUMENTS), ids=lambda name: LABEL[name])
def test_native_gives_what_the_definition_gives(twin, name):
    _differential(name)(twin)


# A few values hypothesis is unlikely to find on its own: the limits of the number model.
LIMITS = [Decimal("79228162514264337593543950335"), Decimal("-79228162514264337593543950335"),
          Decimal("7.9228162514264337593543950335"), Decimal("0.0000000000000000000000000001"),
          Decimal("-0"), Decimal("1E-28"), Decimal("9999999999999999999999999999")]


@pytest.mark.parametrize("name", ["முழுமதிப்பு", "காசு_வடிவம்", "ரூபாய்", "காசாக", "லட்சம்", "கோடி", "ரூபாயாக",
                                  "காசு_உரை", "முழு_எண்ணா", "ஜேசான்_ஆக்கு"])
@pytest.mark.parametrize("number", LIMITS)
def test_numbers_at_the_limits(twin, name, number):
    twin.check(name, number)


@pytest.mark.parametrize("name", ["சதவீதம்", "மீதி", "ரூபாயும்_பைசாவும்", "காசு_கூட்டு", "காசு_கழி", "காசு_மடங்கு",
                                  "சிறியது", "பெரியது"])
@given(a=st.sampled_from(LIMITS), b=st.one_of(st.sampled_from(LIMITS), decimals()))
@settings(max_examples=25, deadline=None)
def test_arithmetic_at_the_limits(twin, name, a, b):
    twin.check(name, a, b)  # overflow (the decimal overflow error) included
