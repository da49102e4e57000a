"""``kuRiyAkkam.qmz`` natively (LANGUAGE.md §17.8): base64 and hex of the UTF-8 of a text."""

from __future__ import annotations

import base64
import re
from typing import Any

from .. import text, values
from ..builtins.encoding import NOT_UTF8
from ..values import Err, Ok
from . import describes, native

FILE = "kuRiyAkkam.qmz"
describes(FILE, "d995325edfdd4fabfb6fda5715d1b8528c31ad983a590744fdd7905b95c4df1c")

BASE64_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
HEX_DIGITS = "0123456789abcdef"
NOT_BASE64 = "அறுபத்துநான்கில் இல்லாத எழுத்து: "
ODD_HEX = "பதினாறு எழுத்துகள் இரட்டையாக இருக்க வேண்டும்  (hex needs an even number of characters)"
NOT_HEX = "பதினாறில் இல்லாத எழுத்து: "

_BASE64_VALUES = {letter: value for value, letter in enumerate(BASE64_LETTERS)}
_PLAIN_BASE64 = re.compile(r"[A-Za-z0-9+/=\n]*")
_PLAIN_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def _utf8(value: Any) -> bytes:
    # as பைட்டுகள் encodes (see builtins/encoding.py)
    return values.display(value).encode("utf-8", "surrogatepass")


def _text_of(raw: bytes) -> Ok | Err:
    """பைட்டுச்_சரம் of byte values that are all whole numbers 0-255."""
    try:
        return Ok(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Err(NOT_UTF8)


@native(FILE, "அறுபத்துநான்கு_எழுத்துகள்")
def _base64_letters(rt, d):
    return BASE64_LETTERS


@native(FILE, "பதினாறு_எழுத்துகள்")
def _hex_digits(rt, d):
    return HEX_DIGITS


@native(FILE, "அறுபத்துநான்கு_ஆக்கு")
def _to_base64(rt, d, v):
    return base64.b64encode(_utf8(v)).decode("ascii")


@native(FILE, "அறுபத்துநான்கு_படி")
def _from_base64(rt, d, t):
    source = values.display(t)
    if _PLAIN_BASE64.fullmatch(source):
        # "=" and line feeds are skipped wherever they are; bits that do not make a whole byte
        # at the end are dropped (one letter alone carries only 6 of them)
        letters = source.replace("=", "").replace("\n", "")
        if len(letters) % 4 == 1:
            letters = letters[:-1]
        return _text_of(base64.b64decode(letters + "=" * (-len(letters) % 4)))
    raw = bytearray()
    waiting = bits = 0
    for letter in text.letters(source):
        if letter == "=" or letter == "\n" or letter == "\r":
            continue
        value = _BASE64_VALUES.get(letter)
        if value is None:
            return Err(NOT_BASE64 + letter)
        waiting = waiting << 6 | value
        bits += 6
        if bits >= 8:
            bits -= 8
            byte = waiting >> bits
            raw.append(byte)
            waiting -= byte << bits
    return _text_of(bytes(raw))


@native(FILE, "பதினாறு_ஆக்கு")
def _to_hex(rt, d, v):
    return _utf8(v).hex()


@native(FILE, "பதினாறு_படி")
def _from_hex(rt, d, t):
    lowered = values.display(t).lower()
    if _PLAIN_HEX.fullmatch(lowered):
        return _text_of(bytes.fromhex(lowered))
    letters = text.letters(lowered)
    if len(letters) % 2:
        return Err(ODD_HEX)
    raw = bytearray()
    for position in range(0, len(letters), 2):
        high, low = letters[position], letters[position + 1]
        high_value, low_value = HEX_DIGITS.find(high), HEX_DIGITS.find(low)
        if high_value < 0 or low_value < 0:
            return Err(NOT_HEX + high + low)
        raw.append(high_value * 16 + low_value)
    return _text_of(bytes(raw))
