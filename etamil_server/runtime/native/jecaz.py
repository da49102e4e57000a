r"""``jEcAZ.qmz`` natively (LANGUAGE.md §17.7): compact JSON out, a lenient reader in.

Both definitions recurse once per nesting level, so the natives count the call depth the
definitions would reach and raise the 256-frame error exactly when a definition would (its
message is the same wherever it arises, so only *whether* it arises matters — and, for the reader,
whether a failure comes first). Positions are letters (grapheme clusters), as the definitions
index the text with ``எழுத்து``.

The reader has two paths for text:

* Python's ``json`` module (C), when its answer is provably the definition's: no escape but
  ``\" \\ \/ \n \t \r`` (``json`` decodes ``\b``, ``\f``, ``\uXXXX``, the definition does not), and
  escapes only in ASCII text; no quote that is part of a longer letter (the definition sees no
  quote there); few enough brackets that no nesting can reach the depth limit; every number one
  the definition reads the same (``json`` hands us the digits). Anything ``json`` refuses goes
  to ...
* ... the letter-by-letter reader below, the definition's steps in Python; it also gives every
  failure message.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import regex

from ...base import numbers
from .. import limits, ops, text
from ..values import WHITE_SPACE, Err, Ok, display
from . import MAX_DEPTH, Unusual, describes, native
from .common import call_depth, length, whole

FILE = "jEcAZ.qmz"
describes(FILE, "8d4adf2b7fe01b289df2ed7d40067fe9f2df8ab856c56cd820eed041d3041106")

END = "எதிர்பாராத உள்ளீட்டு முடிவு  (unexpected end of input)"
EXPECTED_VALUE = "ஒரு மதிப்பு எதிர்பார்க்கப்பட்டது  (expected a value)"
BAD_NUMBER = "செல்லாத எண்: {run}  (not a number)"
UNTERMINATED = "முடிவடையாத சரம்  (unterminated string)"
EXPECTED_ARRAY_SEPARATOR = "',' அல்லது ']' எதிர்பார்க்கப்பட்டது  (expected ',' or ']')"
EXPECTED_OBJECT_SEPARATOR = "',' அல்லது '}' எதிர்பார்க்கப்பட்டது  (expected ',' or '}')"
NAME_NOT_STRING = "புலப் பெயர் ஒரு சரமாக இருக்க வேண்டும்  (a field name must be a string)"
EXPECTED_COLON = "':' எதிர்பார்க்கப்பட்டது  (expected ':')"
TRAILING = "ஜேசான் முடிந்த பின் கூடுதல் உரை  (trailing text after the JSON value)"

# ============================================================================== writing

#: எழுத்து_மறை: the letters that are escaped (CR LF is one letter).
ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\r\n": "\\r\\n"}
# On code points the table gives the same text for every ASCII string, CR LF included.
_ASCII_ESCAPES = str.maketrans({char: ESCAPES[char] for char in '"\\\n\t\r'})


def quoted(s: str) -> str:
    """ஜேசான்_சரம் of a string: quoted, escaped letter by letter."""
    if '"' not in s and "\\" not in s and "\n" not in s and "\t" not in s and "\r" not in s:
        return '"' + s + '"'
    if s.isascii():
        return '"' + s.translate(_ASCII_ESCAPES) + '"'
    get = ESCAPES.get
    return '"' + "".join([get(letter, letter) for letter in text.letters(s)]) + '"'


#: record keys come back request after request: their quoted forms, kept (a bounded number)
_QUOTED_KEYS: dict[str, str] = {}
_QUOTED_KEYS_MAX = 4096


def _quoted_key(key: str) -> str:
    found = _QUOTED_KEYS.get(key)
    if found is None:
        if len(_QUOTED_KEYS) >= _QUOTED_KEYS_MAX:
            _QUOTED_KEYS.clear()
        found = _QUOTED_KEYS[key] = quoted(key)
    return found


#: The display form of a number: ``numbers.display`` writes it by the quick ``str`` where it can.
number_text = numbers.display


#: Below this depth a record's or an array's scalars are written in place: every call the
#: definition makes for them (ஜேசான்_ஆக்கு, ஜேசான்_சரம், எழுத்து_மறை: d + 1 .. d + 3) stays within
#: the limit, so only containers need to look at the depth again.
_ROOMY = MAX_DEPTH - 3


def encode(v: Any, d: int) -> str:
    """ஜேசான்_ஆக்கு(v) called at depth ``d``."""
    kind = type(v)
    if kind is dict:
        if d > _ROOMY:
            return _encode_near_the_limit(v, d)
        parts = []
        for key in sorted(v):
            item = v[key]
            kind = type(item)
            if kind is Decimal:
                written = number_text(item)
            elif kind is str:
                written = quoted(item)
            else:
                written = encode(item, d + 1)
            parts.append(_quoted_key(key) + ":" + written)
        return "{" + ",".join(parts) + "}"
    if kind is list:
        if d > _ROOMY:
            return _encode_near_the_limit(v, d)
        parts = []
        for item in v:
            kind = type(item)
            if kind is Decimal:
                parts.append(number_text(item))
            elif kind is str:
                parts.append(quoted(item))
            else:
                parts.append(encode(item, d + 1))
        return "[" + ",".join(parts) + "]"
    return _encode_near_the_limit(v, d)


def _encode_near_the_limit(v: Any, d: int) -> str:
    """ஜேசான்_ஆக்கு(v) at depth ``d``, looking at the depth of every call the definition makes."""
    if d > MAX_DEPTH:
        call_depth()
    kind = type(v)
    if kind is str:
        # ஜேசான்_சரம் runs at d + 1 and, for each letter, எழுத்து_மறை at d + 2
        if d >= MAX_DEPTH - 1 and (d >= MAX_DEPTH or v):
            call_depth()
        return quoted(v)
    if kind is Decimal:
        return number_text(v)
    if kind is dict:
        if d >= MAX_DEPTH - 1:
            for key in v:  # each key is quoted at d + 1, its letters at d + 2
                if d >= MAX_DEPTH or key:
                    call_depth()
        return "{" + ",".join([quoted(key) + ":" + encode(v[key], d + 1) for key in sorted(v)]) + "}"
    if kind is list:
        return "[" + ",".join([encode(item, d + 1) for item in v]) + "]"
    if v is None:
        return "null"
    if kind is bool:
        return "true" if v else "false"
    return "null"  # a result has no JSON form


@native(FILE, "ஜேசான்_ஆக்கு", own_depth=True)
def _encode(rt, d, v):
    return encode(v, d)


@native(FILE, "ஜேசான்_சரம்")
def _quoted(rt, d, s):
    if type(s) is str:
        return quoted(s)
    get = ESCAPES.get
    parts = ['"']
    for item in ops.iterate(s):
        parts.append(display(get(item, item) if type(item) is str else item))
    parts.append('"')
    return "".join(parts)


@native(FILE, "எழுத்து_மறை")
def _escape(rt, d, c):
    return ESCAPES.get(c, c) if type(c) is str else c


# ============================================================================== reading


class _Failure(Exception):
    """A failure result on its way up (``?`` in the definition)."""

    def __init__(self, message: str):
        self.message = message


_WHITE = frozenset((" ", "\n", "\t", "\r", "\r\n"))
_NUMBER_LETTERS = frozenset("-+.0123456789eE")
_UNESCAPE = {"n": "\n", "t": "\t", "r": "\r"}
_WHITE_RUN = re.compile(r"[ \n\t\r]*")
_NUMBER_RUN = re.compile(r"[-+.0-9eE]*")
_STRING_RUN = re.compile(r'[^"\\]*')


class _Source:
    """The text as the definition sees it: its letters, and how many there are. ``plain``: each
    code point is a letter, so the string methods can do the scanning."""

    __slots__ = ("letters", "size", "plain")

    def __init__(self, source: str):
        self.letters = text.letters(source)
        self.size = len(self.letters)
        self.plain = type(self.letters) is str


def _letter(src: _Source, position: int) -> str:
    """ஜே_எழுத்து: the letter at ``position``, "" past the end."""
    return src.letters[position] if position < src.size else ""


def _skip_white(src: _Source, position: int) -> int:
    """ஜே_வெண்மை."""
    if src.plain:
        return _WHITE_RUN.match(src.letters, position).end() if position < src.size else position
    letters, size = src.letters, src.size
    while position < size and letters[position] in _WHITE:
        position += 1
    return position


def _value(src: _Source, position: int, d: int) -> tuple[Any, int]:
    """ஜே_மதிப்பு at depth ``d``: (value, position after it) or :class:`_Failure`."""
    if d + 3 > MAX_DEPTH:  # ஜே_வெண்மை -> ஜே_எழுத்து -> எழுத்து, its first step
        call_depth()
    position = _skip_white(src, position)
    if position >= src.size:
        raise _Failure(END)
    letter = src.letters[position]
    if letter == "{":
        return _object(src, position, d + 1)
    if letter == "[":
        return _array(src, position, d + 1)
    if letter == '"':
        return _string(src, position)
    if _run(src, position, 4) == "true":
        return True, position + 4
    if _run(src, position, 5) == "false":
        return False, position + 5
    if _run(src, position, 4) == "null":
        return None, position + 4
    if letter in _NUMBER_LETTERS:
        return _number(src, position)
    raise _Failure(EXPECTED_VALUE)


def _run(src: _Source, position: int, count: int) -> str:
    """துண்டு(text, position, count) for a position inside the text."""
    chosen = src.letters[position : position + count]
    return chosen if src.plain else "".join(chosen)


def _number(src: _Source, position: int) -> tuple[Decimal, int]:
    """ஜே_எண்: the longest run of -+.0123456789eE, read as எண்ணாக்கு reads it."""
    if src.plain:
        end = _NUMBER_RUN.match(src.letters, position).end()
        run = src.letters[position:end]
    else:
        letters, size = src.letters, src.size
        end = position
        while end < size and letters[end] in _NUMBER_LETTERS:
            end += 1
        run = "".join(letters[position:end])
    parsed = numbers.parse_text(run.strip(WHITE_SPACE))
    if parsed is None:
        raise _Failure(BAD_NUMBER.format(run=run))
    return parsed, end


def _string(src: _Source, position: int) -> tuple[str, int]:
    """ஜே_சரம்: the string whose opening quote is at ``position``."""
    letters, size = src.letters, src.size
    parts = []
    position += 1
    while True:
        if src.plain:
            end = _STRING_RUN.match(letters, position).end()
            if end > position:
                parts.append(letters[position:end])
                position = end
        if position >= size:
            raise _Failure(UNTERMINATED)
        letter = letters[position]
        if letter == '"':
            return "".join(parts), position + 1
        if letter == "\\":
            position += 1
            if position >= size:
                raise _Failure(UNTERMINATED)
            escaped = letters[position]
            parts.append(_UNESCAPE.get(escaped, escaped))
        else:
            parts.append(letter)
        position += 1


def _array(src: _Source, position: int, d: int) -> tuple[list, int]:
    """ஜே_அணி at depth ``d``; the "[" is at ``position``."""
    if d + 3 > MAX_DEPTH:
        call_depth()
    items: list[Any] = []
    position = _skip_white(src, position + 1)
    if _letter(src, position) == "]":
        return items, position + 1
    while True:
        item, position = _value(src, position, d + 1)
        items.append(item)
        position = _skip_white(src, position)
        letter = _letter(src, position)
        if letter == "]":
            return items, position + 1
        if letter != ",":
            raise _Failure(EXPECTED_ARRAY_SEPARATOR)
        position += 1


def _pair(src: _Source, position: int, d: int) -> tuple[str, Any, int]:
    """ஜே_சோடி at depth ``d``: one "name": value."""
    if d + 3 > MAX_DEPTH:
        call_depth()
    position = _skip_white(src, position)
    if _letter(src, position) != '"':
        raise _Failure(NAME_NOT_STRING)
    name, position = _string(src, position)
    position = _skip_white(src, position)
    if _letter(src, position) != ":":
        raise _Failure(EXPECTED_COLON)
    item, position = _value(src, position + 1, d + 1)
    return name, item, position


def _object(src: _Source, position: int, d: int) -> tuple[dict, int]:
    """ஜே_பொருள் at depth ``d``; the "{" is at ``position``. A later duplicate name wins."""
    if d + 3 > MAX_DEPTH:
        call_depth()
    record: dict[str, Any] = {}
    position = _skip_white(src, position + 1)
    if _letter(src, position) == "}":
        return record, position + 1
    while True:
        name, item, position = _pair(src, position, d + 1)
        record[name] = item
        position = _skip_white(src, position)
        letter = _letter(src, position)
        if letter == "}":
            return record, position + 1
        if letter != ",":
            raise _Failure(EXPECTED_OBJECT_SEPARATOR)
        position += 1


# ------------------------------------------------------------------------------ the json path

#: A quote that a neighbouring code point joins into a longer letter (UAX #29 GB9, GB9a, GB9b;
#: no other rule can join a quote).
_JOINED_QUOTE = regex.compile(
    r'"[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=ZWJ}'
    r'\p{Grapheme_Cluster_Break=SpacingMark}]|\p{Grapheme_Cluster_Break=Prepend}"'
)


#: A backslash before anything but the escapes both readers decode alike.
_OTHER_ESCAPE = re.compile(r'\\[^"\\/ntr]')


class _NotTheSame(Exception):
    """``json`` read something the definition reads otherwise (or not at all)."""


def _json_number(digits: str) -> Decimal:
    parsed = numbers.parse_text(digits)  # exponents and numbers too large for the model: None
    if parsed is None:
        raise _NotTheSame
    return parsed


def _json_constant(name: str) -> Any:
    raise _NotTheSame  # NaN, Infinity: not JSON to the definition


_DECODER = json.JSONDecoder(parse_float=_json_number, parse_int=_json_number,
                            parse_constant=_json_constant, strict=False)


def _by_json(source: str, d: int) -> Any:
    """The value of ``source`` if ``json`` reads it exactly as the definition would, else
    :class:`_NotTheSame`."""
    if "\\" in source and (not source.isascii() or _OTHER_ESCAPE.search(source)):
        # json decodes \b, \f and \uXXXX, the definition does not; in other scripts a mark after
        # the escaped letter would join it (a false alarm on an escaped backslash just costs time)
        raise _NotTheSame
    # k nested brackets put the deepest call at d + 4 + 3k at most (an object adds three frames)
    brackets = source.count("[") + source.count("{")
    if d + 4 + 3 * brackets > MAX_DEPTH:
        raise _NotTheSame
    if not source.isascii() and _JOINED_QUOTE.search(source):
        raise _NotTheSame
    try:
        return _DECODER.decode(source)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise _NotTheSame from None


# ------------------------------------------------------------------------------ the functions


def read(source: str, d: int) -> Ok | Err:
    """ஜேசான்_படி of a string, called at depth ``d``."""
    if len(source) > limits.max_items:
        # a text this long may hold more items than an array may: items are counted before
        # anything is built (all the arrays and records of the text together, at most)
        limits.check_items(source.count(",") + 1)
    try:
        return Ok(_by_json(source, d))
    except _NotTheSame:
        pass
    src = _Source(source)
    try:
        value, position = _value(src, 0, d + 1)
    except _Failure as failure:
        return Err(failure.message)
    if _skip_white(src, position) < src.size:
        return Err(TRAILING)
    return Ok(value)


@native(FILE, "ஜேசான்_படி", own_depth=True)
def _read(rt, d, source):
    length(source)
    if type(source) is not str:
        raise Unusual  # an array or record: the definition reads its items as letters
    return read(source, d)


def _helper_arguments(source: Any, position: Any) -> tuple[_Source, int]:
    """The helpers of the reader for a text and a plain whole position (others: the definition)."""
    if type(source) is not str or type(position) is not Decimal or not whole(position):
        raise Unusual
    return _Source(source), int(position)


def _result(step, *arguments) -> Ok | Err:
    try:
        found = step(*arguments)
    except _Failure as failure:
        return Err(failure.message)
    return Ok([found[0], Decimal(found[1])] if len(found) == 2 else [found[0], found[1], Decimal(found[2])])


@native(FILE, "ஜே_எழுத்து")
def _letter_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _letter(src, at)


@native(FILE, "ஜே_வெண்மை")
def _skip_white_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return Decimal(_skip_white(src, at))


@native(FILE, "ஜே_விடுவி")
def _unescape_native(rt, d, c):
    return _UNESCAPE.get(c, c) if type(c) is str else c


@native(FILE, "ஜே_எண்")
def _number_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _result(_number, src, at)


@native(FILE, "ஜே_சரம்")
def _string_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _result(_string, src, at)


@native(FILE, "ஜே_மதிப்பு", own_depth=True)
def _value_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _result(_value, src, at, d)


@native(FILE, "ஜே_அணி", own_depth=True)
def _array_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _result(_array, src, at, d)


@native(FILE, "ஜே_பொருள்", own_depth=True)
def _object_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _result(_object, src, at, d)


@native(FILE, "ஜே_சோடி", own_depth=True)
def _pair_native(rt, d, source, position):
    src, at = _helper_arguments(source, position)
    return _result(_pair, src, at, d)
