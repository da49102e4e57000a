"""சூழல் and வெளியேறு (HOST.md §6.7)."""

from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilExit
from etamil_server.host.builtins import env, exit_process
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.values import Ok


def test_spellings():
    assert BUILTINS["cUzal"] is BUILTINS["_env"] is BUILTINS["சூழல்"]
    assert BUILTINS["veLiyERu"] is BUILTINS["_exit"] is BUILTINS["வெளியேறு"]
    assert BUILTINS["சூழல்"].arity == 2 and BUILTINS["வெளியேறு"].arity == 1


def test_env_returns_the_variable_as_text(monkeypatch):
    monkeypatch.setenv("ETAMIL_TEST_VALUE", "42")
    assert env("ETAMIL_TEST_VALUE", Decimal(0)) == "42"
    monkeypatch.setenv("ETAMIL_TEST_VALUE", "")
    assert env("ETAMIL_TEST_VALUE", "default") == ""  # set but empty is still set


def test_env_name_is_rendered(monkeypatch):
    monkeypatch.setenv("7", "seven")
    assert env(Decimal("7.0"), None) == "seven"


def test_env_unset_gives_the_fallback_unchanged(monkeypatch):
    monkeypatch.delenv("ETAMIL_TEST_ABSENT", raising=False)
    fallback = Ok([Decimal(1)])
    assert env("ETAMIL_TEST_ABSENT", fallback) is fallback
    assert env("ETAMIL_TEST_ABSENT", None) is None
    assert env("", "x") == "x"
    assert env("A=B", "x") == "x"


def test_env_that_is_not_utf8_gives_the_fallback(monkeypatch):
    monkeypatch.setenv("ETAMIL_TEST_BYTES", "ok\udcff")  # the byte 0xFF, via surrogateescape
    assert env("ETAMIL_TEST_BYTES", "fallback") == "fallback"


def exit_status(value) -> int:
    with pytest.raises(EtamilExit) as caught:
        exit_process(value)
    return caught.value.status


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (Decimal(0), 0),
        (Decimal(3), 3),
        (Decimal("2.9"), 2),
        (Decimal("-2.9"), -2),
        (Decimal(2**31 - 1), 2**31 - 1),
        (Decimal(-(2**31)), -(2**31)),
        (Decimal(2**31), 1),
        (Decimal(-(2**31) - 1), 1),
        ("7", 7),
        (" 4.5 ", 4),
        ("abc", 0),
        (True, 1),
        (None, 0),
    ],
)
def test_exit_status(value, status):
    assert exit_status(value) == status


def test_exit_is_not_an_ordinary_exception():
    # host code that catches Exception must not swallow the end of the process
    assert not issubclass(EtamilExit, Exception)
