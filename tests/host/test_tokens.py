"""JWT and single sign-on (HOST.md §7.7) through the builtins, with keys made in the test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from etamil_server.base.errors import EtamilError
from etamil_server.host import builtins as host
from etamil_server.host import tokens
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.values import Err, Ok

SECRET = "unit-test-secret"
INVALID = Err(tokens.INVALID)
EXPIRED = Err(tokens.EXPIRED)
REPO = Path(__file__).resolve().parents[2]
# the test's own PyJWT calls sign with short secrets on purpose
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:jwt")


@pytest.fixture
def fresh_secret(monkeypatch):
    """A process that has not looked its secret up yet (the state is per process)."""
    for name in ("random", "announcement", "resolved"):
        monkeypatch.setattr(tokens._SecretState, name, None)

    def with_secret(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv(tokens.SECRET_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(tokens.SECRET_VARIABLE, value)

    return with_secret


@pytest.fixture
def secret(fresh_secret):
    fresh_secret(SECRET)
    return SECRET


def same(result, expected) -> bool:
    """Results are compared by kind and value (``Ok``/``Err`` have no ``==`` of their own)."""
    return type(result) is type(expected) and result.value == expected.value


def segments(token: str) -> list[bytes]:
    return [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")]


def signed(claims: dict, key=SECRET, algorithm="HS256", headers=None) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header: bytes, payload: bytes, key: bytes = SECRET.encode()) -> str:
    """An HS256 token PyJWT would refuse to make (it checks headers and claims when encoding)."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def test_every_spelling_is_registered_with_its_arity():
    expected = {
        ("சீட்டு_ஆக்கு", "cIttu_Akku", "_issueToken"): 2,
        ("சீட்டு_சரிபார்", "cIttu_caripAr", "_readToken"): 1,
        ("சீட்டு_தலைப்பு", "cIttu_qalYppu", "_tokenHeader"): 1,
        ("சீட்டு_பொதுச்_சரிபார்", "cIttu_poquc_caripAr", "_verifyTokenRSA"): 5,
        ("மொங்கோ_இணை", "mowkO_iNY", "_mongoConnect"): 2,
    }
    for spellings, arity in expected.items():
        (entry,) = {BUILTINS[s] for s in spellings}
        assert (entry.name, entry.arity) == (spellings[0], arity)
    for name in ("மொங்கோ_கட்டளை", "மொங்கோ_செருகு", "மொங்கோ_கண்டுபிடி", "மொங்கோ_புதுப்பி", "மொங்கோ_நீக்கு"):
        assert name not in BUILTINS  # unknown functions, as in the reference build


def test_mongo_connect_is_the_not_built_error():
    with pytest.raises(EtamilError) as raised:
        host.mongo_connect("mongodb://127.0.0.1", "db")
    assert raised.value.message == host.MONGO_NOT_BUILT


# ------------------------------------------------------------------------------ issuing


def test_issued_token_header_payload_and_signature(secret):
    before = int(time.time())
    token = host.issue_token('{"sub": "ravi", "amount": 12.50, "iat": 1, "exp": 2, "z": [1e20, 0.00001]}', Decimal("60.9"))
    after = int(time.time())
    header, payload, _ = segments(token)
    assert header == b'{"typ":"JWT","alg":"HS256"}'
    claims = json.loads(payload)
    assert before <= claims["iat"] <= after and claims["exp"] == claims["iat"] + 60
    issued_at = claims["iat"]
    # compact, keys sorted, numbers as the reference's JSON library writes them
    assert payload == (
        f'{{"amount":12.5,"exp":{issued_at + 60},"iat":{issued_at},"sub":"ravi","z":[1e20,0.00001]}}'
    ).encode()
    # PyJWT agrees that it is a valid HS256 token for the secret
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "ravi"


def test_issue_errors_are_runtime_errors(secret):
    cases = {
        "{sub: 1}": tokens.PAYLOAD_NOT_JSON,
        '{"x": NaN}': tokens.PAYLOAD_NOT_JSON,
        '{"x": 1e999}': tokens.PAYLOAD_NOT_JSON,
        '{"x": "\\ud800"}': tokens.PAYLOAD_NOT_JSON,
        "": tokens.PAYLOAD_NOT_JSON,
        "[1]": tokens.PAYLOAD_NOT_RECORD,
        '"text"': tokens.PAYLOAD_NOT_RECORD,
    }
    for payload, message in cases.items():
        with pytest.raises(EtamilError) as raised:
            host.issue_token(payload, Decimal(60))
        assert raised.value.message == message, payload
    with pytest.raises(EtamilError) as raised:
        host.issue_token("{}", Decimal(2**63))
    assert raised.value.message == tokens.BAD_LIFETIME
    assert host.issue_token("{}", Decimal(-(2**63)))  # the smallest lifetime that fits


def test_a_record_payload_is_rendered_and_is_not_json(secret):
    with pytest.raises(EtamilError) as raised:
        host.issue_token({"sub": "ravi"}, Decimal(60))
    assert raised.value.message == tokens.PAYLOAD_NOT_JSON


def test_a_secret_that_looks_like_a_key_still_signs(fresh_secret):
    # PyJWT refuses PEM- or JSON-looking HMAC secrets; the reference takes any text
    fresh_secret('{"kty": "oct", "k": "abc"}')
    token = host.issue_token("{}", Decimal(60))
    assert isinstance(host.read_token(token), Ok)


# ------------------------------------------------------------------------------ reading


def test_round_trip_and_claims_text(secret):
    token = host.issue_token('{"name": "ரவி", "tags": ["a"], "n": {"b": null, "a": true}}', Decimal(60))
    result = host.read_token(token)
    assert isinstance(result, Ok)
    claims = json.loads(result.value)
    assert result.value == json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert claims["name"] == "ரவி" and claims["n"] == {"a": True, "b": None}


def test_expiry_counts_whole_seconds_with_five_seconds_leeway(secret):
    now = int(time.time())
    assert same(host.read_token(signed({"exp": now - 8})), EXPIRED)
    assert isinstance(host.read_token(signed({"exp": now - 2})), Ok)
    assert isinstance(host.read_token(signed({"exp": now + 100})), Ok)
    # not checked, as in the reference: nbf and iat in the future
    assert isinstance(host.read_token(signed({"exp": now + 100, "nbf": now + 50, "iat": now + 50})), Ok)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "no exp"},
        {"exp": "4102444800"},
        {"exp": 4102444800.0},
        {"exp": -1},
        {"exp": 2**64},
        {"exp": True},
        {"exp": 4102444800, "aud": "anyone"},  # the quirk
        {"exp": 4102444800, "aud": []},
    ],
)
def test_claims_that_make_a_token_not_valid(secret, claims):
    assert same(host.read_token(signed(claims)), INVALID)


def test_tokens_that_do_not_verify(secret):
    good = signed({"sub": "ravi", "exp": 4102444800})
    header, payload, signature = good.split(".")
    other = signed({"sub": "admin", "exp": 4102444800}).split(".")[1]
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    bad = [
        f"{header}.{other}.{signature}",  # another payload under this signature
        f"{header}.{payload}.{signature[:-2]}AA",
        f"{header}.{payload}.{signature}=",  # padding
        f"{header}.{payload}",
        f"{header}.{payload}.{signature}.{signature}",
        f"{unsigned_header}.{payload}.",
        signed({"exp": 4102444800}, key="another secret"),
        signed({"exp": 4102444800}, algorithm="HS512"),
        hand_signed(b'{"alg":"HS256","kid":7}', b'{"exp":4102444800}'),
        "",
        "வணக்கம்.a.b",
    ]
    for token in bad:
        assert same(host.read_token(token), INVALID), token
    assert isinstance(host.read_token(good), Ok)


def test_a_token_whose_payload_is_not_an_object_is_not_valid(secret):
    assert isinstance(host.read_token(hand_signed(b'{"alg":"HS256"}', b'{"exp":4102444800}')), Ok)
    for payload in (b"[1]", b"not json", b'{"exp": NaN}'):
        token = hand_signed(b'{"typ":"JWT","alg":"HS256"}', payload)
        assert same(host.read_token(token), INVALID)


# ------------------------------------------------------------------------------ the secret


def test_random_secret_is_announced_once_and_shared_by_the_process(fresh_secret, capsys):
    fresh_secret(None)
    token = host.issue_token('{"sub": "ravi"}', Decimal(60))
    assert isinstance(host.read_token(token), Ok)
    host.issue_token("{}", Decimal(60))
    assert capsys.readouterr().err == tokens.MISSING_SECRET_WARNING + "\n"


def test_an_empty_secret_counts_as_unset(fresh_secret, capsys):
    fresh_secret("")
    host.issue_token("{}", Decimal(60))
    assert tokens.MISSING_SECRET_WARNING in capsys.readouterr().err


def test_a_set_secret_is_not_announced(secret, capsys):
    host.issue_token("{}", Decimal(60))
    assert capsys.readouterr().err == ""


def _in_child(work, results_fd: int, stderr_path: str) -> None:
    """Run ``work`` in a forked child that reports through a pipe, then leave without cleanup."""
    pid = os.fork()
    if pid:
        return
    status = 0
    try:
        with open(stderr_path, "w", encoding="utf-8") as err:
            sys.stderr = err
            os.write(results_fd, (work() + "\n").encode())
    except BaseException:  # noqa: BLE001 - a child must never return into pytest
        status = 1
    os._exit(status)


def test_the_servers_secret_is_made_before_the_fork_and_announced_once(fresh_secret, tmp_path):
    """What the pre-fork master does (``workers/hooks.py`` ``on_starting``): children forked
    afterwards share one secret, and only the first to use it prints the warning."""
    fresh_secret(None)
    tokens.prepare_server_secret()
    read_end, write_end = os.pipe()
    _in_child(lambda: host.issue_token('{"sub": "from-a"}', Decimal(60)), write_end, str(tmp_path / "a.err"))
    os.wait()
    token = os.read(read_end, 65536).decode().strip()
    _in_child(lambda: host.read_token(token).value, write_end, str(tmp_path / "b.err"))
    os.wait()
    os.close(write_end)
    claims = os.read(read_end, 65536).decode().strip()
    os.close(read_end)
    assert json.loads(claims)["sub"] == "from-a"
    warnings = (tmp_path / "a.err").read_text() + (tmp_path / "b.err").read_text()
    assert warnings == tokens.MISSING_SECRET_WARNING + "\n"


def _etamil_run(tmp_path: Path, source: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    program = tmp_path / "prog.qmz"
    program.write_text(source, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != tokens.SECRET_VARIABLE}
    environment.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8", **env)
    return subprocess.run([sys.executable, "-m", "etamil_server", "run", str(program)], capture_output=True,
                          text=True, env=environment, timeout=60)


def test_without_the_master_each_process_has_its_own_secret(tmp_path):
    """Why the server makes the secret before the fork: two processes that each make their own
    cannot read each other's tokens."""
    issued = _etamil_run(tmp_path, 'அச்சு சீட்டு_ஆக்கு("{}", 60);', {})
    token = issued.stdout.strip()
    read = _etamil_run(tmp_path, 'அச்சு சீட்டு_சரிபார்(சூழல்("TOKEN", ""));', {"TOKEN": token})
    assert read.stdout.strip() == "தவறு(குறியீடு செல்லாதது  (the token is not valid))"
    shared = {tokens.SECRET_VARIABLE: "shared"}
    token = _etamil_run(tmp_path, 'அச்சு சீட்டு_ஆக்கு("{}", 60);', shared).stdout.strip()
    read = _etamil_run(tmp_path, 'அச்சு சரியா(சீட்டு_சரிபார்(சூழல்("TOKEN", "")));', {"TOKEN": token, **shared})
    assert read.stdout.strip() == "true"


# ------------------------------------------------------------------------------ RS256


def jwks_numbers(private_key) -> tuple[str, str]:
    numbers = private_key.public_key().public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return b64(numbers.n), b64(numbers.e)


@pytest.fixture(scope="module")
def provider():
    """An identity provider's signing key and its JWKS entry, and a second key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, jwks_numbers(key), other


ISSUER, AUDIENCE = "https://id.example", "ledger-api"


def sso_token(key, **claims) -> str:
    """Signed by PyJWS from JSON bytes: PyJWT's encode would refuse an array issuer."""
    from jwt.api_jws import PyJWS

    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ravi", "exp": int(time.time()) + 300}
    base.update(claims)
    payload = json.dumps({k: v for k, v in base.items() if v is not None}).encode()
    return PyJWS().encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def verify(provider, token, issuer=ISSUER, audience=AUDIENCE, numbers=None):
    n, e = numbers or provider[1]
    return host.verify_token_rsa(token, n, e, issuer, audience)


def test_rs256_valid_token(provider):
    token = sso_token(provider[0], name="ரவி")
    result = verify(provider, token)
    assert isinstance(result, Ok)
    assert json.loads(result.value)["name"] == "ரவி"
    assert result.value.startswith('{"aud":"ledger-api","exp":')
    assert same(host.token_header(token), Ok({"alg": "RS256", "kid": "k1"}))
    assert isinstance(verify(provider, sso_token(provider[0], aud=["x", AUDIENCE], iss=[ISSUER])), Ok)


def test_rs256_failures_in_check_order(provider):
    key, _, other = provider
    now = int(time.time())
    assert same(verify(provider, sso_token(key), issuer=""), Err(tokens.ISSUER_AND_AUDIENCE_REQUIRED))
    assert same(verify(provider, sso_token(key), audience=""), Err(tokens.ISSUER_AND_AUDIENCE_REQUIRED))
    assert same(verify(provider, sso_token(key, exp=now - 10)), Err(tokens.EXPIRED))
    assert isinstance(verify(provider, sso_token(key, exp=now - 2)), Ok)  # within the leeway
    assert same(verify(provider, sso_token(key, iss="https://evil.example")), Err(tokens.WRONG_ISSUER))
    assert same(verify(provider, sso_token(key, iss=None)), Err(tokens.WRONG_ISSUER))
    assert same(verify(provider, sso_token(key, aud="other")), Err(tokens.WRONG_AUDIENCE))
    assert same(verify(provider, sso_token(key, aud=None)), Err(tokens.WRONG_AUDIENCE))
    # exp before issuer before audience
    assert same(verify(provider, sso_token(key, exp=now - 10, iss="x", aud="y")), Err(tokens.EXPIRED))
    assert same(verify(provider, sso_token(key, iss="x", aud="y")), Err(tokens.WRONG_ISSUER))
    assert same(verify(provider, sso_token(key, exp=None)), INVALID)
    assert same(verify(provider, sso_token(other)), INVALID)  # wrong key
    assert isinstance(verify(provider, sso_token(other), numbers=jwks_numbers(other)), Ok)
    hs256 = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 60}, "k", algorithm="HS256")
    assert same(verify(provider, hs256), INVALID)
    ps256 = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 60}, key, algorithm="PS256")
    assert same(verify(provider, ps256), INVALID)


def test_rs256_public_key_checks(provider):
    key = provider[0]
    n, e = provider[1]
    token = sso_token(key)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    for numbers in [("not base64!", e), (n + "=", e), (n, "AQAB="), ("", e), (n, ""), jwks_numbers(small)]:
        assert same(verify(provider, token, numbers=numbers), Err(tokens.BAD_PUBLIC_KEY)), numbers
    # the key is checked before the token
    assert same(verify(provider, "garbage", numbers=("!", e)), Err(tokens.BAD_PUBLIC_KEY))
    assert same(verify(provider, "garbage"), INVALID)


def test_token_header_failures():
    bad_header = Err(tokens.BAD_HEADER)
    for token in ["", "a.b", "x.y.z", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30."]:
        assert same(host.token_header(token), bad_header), token
    header = base64.urlsafe_b64encode(b'{"alg":"EdDSA","kid":null}').rstrip(b"=").decode()
    assert same(host.token_header(header + ".."), Ok({"alg": "EdDSA", "kid": ""}))
