from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etamil_server.runtime import text
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.builtins.strings import lower, replace, split, upper


@pytest.mark.parametrize(
    ("spellings", "function", "arity", "returns"),
    [
        (("மேல்_எழுத்து", "mEl_ezuqqu", "_upper"), upper, 1, "string"),
        (("கீழ்_எழுத்து", "kIz_ezuqqu", "_lower"), lower, 1, "string"),
        (("மாற்று", "mARRu", "_replace"), replace, 3, "string"),
        (("பிரி", "piri", "_split"), split, 2, "array"),
    ],
)
def test_registered_under_three_spellings(spellings, function, arity, returns):
    for spelling in spellings:
        entry = BUILTINS[spelling]
        assert entry.function is function
        assert (entry.name, entry.arity, entry.returns) == (spellings[0], arity, returns)


def test_upper_and_lower_use_full_case_mapping():
    assert upper("straße") == "STRASSE"
    assert lower("ΟΔΟΣ") == "οδος"  # final sigma
    assert lower("ΣΑ") == "σα"
    assert upper("abc Déf") == "ABC DÉF"
    assert lower("ABC") == "abc"


def test_tamil_has_no_case():
    assert upper("வணக்கம்") == "வணக்கம்"
    assert lower("வணக்கம்") == "வணக்கம்"


def test_case_builtins_take_the_text_of_any_value():
    assert upper(True) == "TRUE"
    assert upper(None) == "NIL"
    assert upper(["a", D("1.50")]) == "[A, 1.5]"
    assert lower(D(5)) == "5"


def test_replace_every_non_overlapping_occurrence_left_to_right():
    assert replace("aaa", "aa", "b") == "ba"
    assert replace("a-b-c", "-", "+") == "a+b+c"
    assert replace("abc", "x", "y") == "abc"
    assert replace("abab", "ab", "") == ""
    assert replace("வணக்கம் உலகம்", "உலகம்", "நண்பா") == "வணக்கம் நண்பா"


def test_replace_only_on_letter_boundaries():
    assert replace("கா", "ா", "x") == "கா"
    assert replace("கைகை", "க", "x") == "கைகை"
    assert replace("க்க", "க", "x") == "க்x"  # the first க is inside the letter க்
    assert replace("a\r\nb", "\n", "x") == "a\r\nb"
    assert replace("a\r\nb", "\r\n", " ") == "a b"


def test_a_rejected_occurrence_does_not_hide_a_later_one():
    assert replace("காக", "க", "x") == "காx"


def test_replace_with_empty_from_is_unchanged():
    assert replace("abc", "", "x") == "abc"
    assert replace("", "", "x") == ""


def test_replace_takes_the_text_of_every_argument():
    assert replace(D("1.50"), D(5), True) == "1.true"
    assert replace([D(1), D(2)], ", ", None) == "[1nil2]"


def test_split_examples():
    assert split("a,b,c", ",") == ["a", "b", "c"]
    assert split("a,,b", ",") == ["a", "", "b"]
    assert split("a,", ",") == ["a", ""]
    assert split(",", ",") == ["", ""]
    assert split("", ",") == [""]
    assert split("abc", "") == ["abc"]
    assert split("", "") == [""]
    assert split("a::b", "::") == ["a", "b"]


def test_split_only_on_letter_boundaries():
    assert split("a\r\nb", "\n") == ["a\r\nb"]
    assert split("a\r\nb", "\r\n") == ["a", "b"]
    assert split("கா,கி", "ா") == ["கா,கி"]
    assert split("கா,கி", ",") == ["கா", "கி"]
    assert split("e\u0301e", "e") == ["e\u0301", ""]


def test_split_takes_the_text_of_its_arguments():
    assert split(D("1.5"), ".") == ["1", "5"]
    assert split(True, "u") == ["tr", "e"]


ascii_without_cr = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127, blacklist_characters="\r"))


@given(ascii_without_cr, ascii_without_cr.filter(bool), ascii_without_cr)
def test_on_plain_ascii_replace_and_split_match_python(subject, old, new):
    assert replace(subject, old, new) == subject.replace(old, new)
    assert split(subject, old) == subject.split(old)


@given(st.text(), st.text(min_size=1))
def test_joining_the_pieces_gives_back_the_text(subject, separator):
    pieces = split(subject, separator)
    assert separator.join(pieces) == subject
    assert replace(subject, separator, separator) == subject


@given(st.text(), st.text(min_size=1))
def test_pieces_never_cut_a_letter(subject, separator):
    boundaries = set(text.boundaries(subject))
    offset = 0
    for piece in split(subject, separator)[:-1]:
        offset += len(piece)
        assert offset in boundaries and offset + len(separator) in boundaries
        offset += len(separator)


@given(st.text())
def test_upper_and_lower_match_python(subject):
    assert upper(subject) == subject.upper()
    assert lower(subject) == subject.lower()
