"""JWT and single sign-on (HOST.md §7.7): HS256 tokens the server issues and reads, and RS256
tokens of an identity provider checked against a JWKS key.

Signatures are PyJWT's (``PyJWS``: HMAC-SHA256 and RSASSA-PKCS1-v1_5 with SHA-256 over
``cryptography``); nothing here computes or compares a signature itself. What *is* ours is what
the reference's JWT library (Rust ``jsonwebtoken``) decides around the signature, reproduced rule
by rule because PyJWT's own claim checks differ in small ways:

* a token is exactly three strict base64url segments (no padding, canonical trailing bits);
* the header must name a known algorithm, and ``kid``/``typ`` must be text when present;
* ``exp`` is required and must be a whole number in unsigned 64-bit range (else "not valid");
  it has expired when it is more than 5 seconds in the past, counted in whole seconds;
* ``nbf`` and ``iat`` are not checked; an ``aud`` claim fails the HS256 check because no audience
  is configured (quirk); for RS256 ``iss`` and ``aud`` must equal (or, as arrays, contain) the
  expected values, checked in that order after ``exp``.

The HS256 secret is ``ETAMIL_JWT_SECRET`` when set and non-empty, otherwise a random secret for
the life of the process, announced once on stderr at first use. Under the pre-fork server the
master makes the random secret before the fork (:func:`prepare_server_secret`, called from
``workers/hooks.py``): every worker inherits the same one, so a token issued by one worker
verifies on another, and the first worker to use it prints the warning, once for the server.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import sys
import threading
import time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..base.errors import EtamilError
from ..runtime.values import Err, Ok
from . import jsontext

SECRET_VARIABLE = "ETAMIL_JWT_SECRET"
MISSING_SECRET_WARNING = (
    "⚠️  ETAMIL_JWT_SECRET is not set — using a random per-process secret. "
    "Issued tokens will not survive a restart. Set ETAMIL_JWT_SECRET in production."
)
LEEWAY_SECONDS = 5

PAYLOAD_NOT_JSON = "குறியீட்டுச் சுமை செல்லாத ஜேசான்  (the token payload is not valid JSON)"
PAYLOAD_NOT_RECORD = "குறியீட்டுச் சுமை ஒரு பொருளாக இருக்க வேண்டும்  (the token payload must be a record)"
BAD_LIFETIME = "நொடிகள் ஒரு முழு எண்  (the lifetime must be a whole number of seconds)"
CANNOT_ISSUE = "குறியீட்டை உருவாக்க முடியவில்லை  (cannot issue the token)"
EXPIRED = "குறியீடு காலாவதியானது  (the token has expired)"
INVALID = "குறியீடு செல்லாதது  (the token is not valid)"
BAD_HEADER = "குறியீட்டின் தலைப்பைப் படிக்க முடியவில்லை  (cannot read the token header)"
ISSUER_AND_AUDIENCE_REQUIRED = "வழங்குநரும் பார்வையாளரும் தேவை  (the issuer and the audience are both required)"
BAD_PUBLIC_KEY = "பொது சாவி செல்லாதது  (the public key is not valid)"
WRONG_ISSUER = "வழங்குநர் பொருந்தவில்லை  (the issuer does not match)"
WRONG_AUDIENCE = "பார்வையாளர் பொருந்தவில்லை  (the audience does not match)"

#: The algorithm names the reference's header type knows (its ``Algorithm`` enum).
KNOWN_ALGORITHMS = frozenset(
    ("HS256", "HS384", "HS512", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA")
)
#: RSA modulus sizes the reference's verifier (ring's RSA_PKCS1_2048_8192_SHA256) accepts.
RSA_BITS = range(2048, 8193)

_INT64 = range(-(2**63), 2**63)
_UINT64_MAX = 2**64 - 1
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_TEXT_HEADER_FIELDS = ("typ", "cty", "jku", "kid", "x5u", "x5t", "x5t#S256")


class TokenInvalid(Exception):
    """The token fails a check; ``message`` is the text for ``தவறு(...)``."""

    def __init__(self, message: str = INVALID):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------ the HS256 secret


class _SecretState:
    """The process's secret. ``random`` is made at first use, or by the server's master before the
    fork; ``announcement`` is then the read end of a pipe holding one byte: the worker that takes
    the byte prints the warning (reading a pipe is atomic, so exactly one does)."""

    lock = threading.Lock()
    random: bytes | None = None
    announcement: int | None = None
    resolved: bytes | None = None


def _configured_secret() -> bytes | None:
    """``ETAMIL_JWT_SECRET`` as bytes when set, non-empty and valid UTF-8 (the reference reads it
    as text: anything else counts as unset)."""
    raw = os.environb.get(SECRET_VARIABLE.encode())
    if not raw:
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return raw


def prepare_server_secret() -> None:
    """The pre-fork server's master, before any fork: when ``ETAMIL_JWT_SECRET`` is not set, make
    the random secret here so that every worker has the same one (and the warning is printed once
    for the whole server, by the first worker that uses a token)."""
    state = _SecretState
    with state.lock:
        if _configured_secret() is not None or state.random is not None:
            return
        state.random = secrets.token_bytes(32)
        read_end, write_end = os.pipe()  # both close on exec: programs run by கட்டளை_ஓட்டு never see them
        os.write(write_end, b"!")
        os.close(write_end)
        os.set_blocking(read_end, False)
        state.announcement = read_end


def _announce() -> None:
    sys.stdout.flush()
    sys.stderr.write(MISSING_SECRET_WARNING + "\n")
    sys.stderr.flush()


def _first_to_announce(state: type[_SecretState]) -> bool:
    if state.announcement is None:
        return True
    try:
        return os.read(state.announcement, 1) == b"!"
    except BlockingIOError:  # another worker took the byte
        return False
    except OSError:  # the pipe is gone: rather a second warning than none
        return True


def secret() -> bytes:
    """The HS256 secret of this process (looked up once, at first use)."""
    state = _SecretState
    resolved = state.resolved
    if resolved is not None:
        return resolved
    with state.lock:
        if state.resolved is None:
            configured = _configured_secret()
            if configured is not None:
                state.resolved = configured
            else:
                if state.random is None:
                    state.random = secrets.token_bytes(32)
                if _first_to_announce(state):
                    _announce()
                state.resolved = state.random
        return state.resolved


# ------------------------------------------------------------------------------ PyJWT


@lru_cache(maxsize=1)
def _jws() -> Any:
    """A PyJWS that knows HS256 and RS256 only (imported on first use: PyJWT and cryptography
    cost start-up time)."""
    from jwt.algorithms import HMACAlgorithm, RSAAlgorithm
    from jwt.api_jws import PyJWS

    class ServerSecretHMAC(HMACAlgorithm):
        """HMAC with the server's own secret taken as bytes, whatever they look like: PyJWT
        refuses secrets that look like PEM, SSH or JSON keys (a guard against algorithm
        confusion when the key comes from elsewhere), but the reference accepts any text, and
        this verifier accepts only HS256 anyway. Nor does it warn about short secrets (PyJWT
        >= 2.10 does, on stderr): the reference's one warning is about a missing secret."""

        def prepare_key(self, key: Any) -> bytes:
            return bytes(key)

        def check_key_length(self, key: Any) -> None:
            return None

    jws = PyJWS(algorithms=[])
    jws.register_algorithm("HS256", ServerSecretHMAC(HMACAlgorithm.SHA256))
    jws.register_algorithm("RS256", RSAAlgorithm(RSAAlgorithm.SHA256))
    return jws


def _signature_checked(token: str, key: Any, algorithm: str) -> bytes:
    """The payload bytes of a token whose signature verifies with ``key`` under ``algorithm``."""
    from jwt.exceptions import PyJWTError

    try:
        return _jws().decode_complete(token, key, algorithms=[algorithm])["payload"]
    except (PyJWTError, ValueError, TypeError):
        raise TokenInvalid() from None


# ------------------------------------------------------------------------------ token structure


def _strict_base64url(segment: str) -> bytes:
    """Unpadded base64url with canonical trailing bits, as the reference's decoder insists."""
    if len(segment) % 4 == 1 or not set(segment) <= _BASE64URL:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != segment:
        raise ValueError("non-canonical base64url")
    return data


def _segments(token: str) -> list[str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a token has three segments")
    return parts


def read_header(token: str) -> dict[str, Any]:
    """The token's header, checked the way the reference's header type deserialises it."""
    try:
        header = jsontext.loads(_strict_base64url(_segments(token)[0]))
    except (ValueError, binascii.Error):
        raise TokenInvalid(BAD_HEADER) from None
    if type(header) is not dict or header.get("alg") not in KNOWN_ALGORITHMS:
        raise TokenInvalid(BAD_HEADER)
    for name in _TEXT_HEADER_FIELDS:
        if header.get(name) is not None and type(header[name]) is not str:
            raise TokenInvalid(BAD_HEADER)
    x5c = header.get("x5c")
    if x5c is not None and not (type(x5c) is list and all(type(item) is str for item in x5c)):
        raise TokenInvalid(BAD_HEADER)
    if header.get("jwk") is not None and type(header["jwk"]) is not dict:
        raise TokenInvalid(BAD_HEADER)
    return header


def _checked_structure(token: str) -> dict[str, Any]:
    """Raise :class:`TokenInvalid` unless every segment is strict base64url and the header is good."""
    try:
        for segment in _segments(token)[1:]:
            _strict_base64url(segment)
        return read_header(token)
    except (ValueError, binascii.Error, TokenInvalid):
        raise TokenInvalid() from None


def _claims(payload: bytes) -> dict[str, Any]:
    try:
        claims = jsontext.loads(payload)
    except jsontext.JsonError:
        raise TokenInvalid() from None
    if type(claims) is not dict:
        raise TokenInvalid()
    return claims


def _check_expiry(claims: dict[str, Any]) -> None:
    expiry = claims.get("exp")
    if type(expiry) is not int or not 0 <= expiry <= _UINT64_MAX:
        raise TokenInvalid()  # a missing (or unreadable) exp is a missing required claim
    if expiry < int(time.time()) - LEEWAY_SECONDS:
        raise TokenInvalid(EXPIRED)


def _matches(claim: Any, expected: str) -> bool:
    if type(claim) is str:
        return claim == expected
    return type(claim) is list and all(type(item) is str for item in claim) and expected in claim


# ------------------------------------------------------------------------------ HS256


def issue(payload_text: str, lifetime: Decimal) -> str:
    """``சீட்டு_ஆக்கு``: the signed token; failures are runtime errors."""
    try:
        claims = jsontext.loads(payload_text)
    except jsontext.JsonError:
        raise EtamilError(PAYLOAD_NOT_JSON) from None
    if type(claims) is not dict:
        raise EtamilError(PAYLOAD_NOT_RECORD)
    seconds = int(lifetime)  # the fraction is dropped
    if seconds not in _INT64:
        raise EtamilError(BAD_LIFETIME)
    now = int(time.time())
    claims["iat"] = now
    claims["exp"] = now + seconds
    payload = jsontext.dumps(claims).encode("utf-8")
    try:
        # The header is {"typ":"JWT","alg":"HS256"} in that order, as the reference writes it.
        return _jws().encode(payload, secret(), algorithm="HS256", sort_headers=False)
    except Exception:  # noqa: BLE001 - whatever the library raises, the program gets the spec's error
        raise EtamilError(CANNOT_ISSUE) from None


def read(token: str) -> Ok | Err:
    """``சீட்டு_சரிபார்``: ``சரி(claims JSON)`` or ``தவறு(expired | not valid)``."""
    try:
        header = _checked_structure(token)
        if header["alg"] != "HS256":
            raise TokenInvalid()
        claims = _claims(_signature_checked(token, secret(), "HS256"))
        _check_expiry(claims)
        if "aud" in claims:  # quirk: no audience is configured, so any audience fails
            raise TokenInvalid()
    except TokenInvalid as failure:
        return Err(failure.message)
    return Ok(jsontext.dumps(claims))


# ------------------------------------------------------------------------------ single sign-on


def header_record(token: str) -> Ok | Err:
    """``சீட்டு_தலைப்பு``: ``சரி({kid, alg})`` read without verifying."""
    try:
        header = read_header(token)
    except TokenInvalid as failure:
        return Err(failure.message)
    return Ok({"alg": header["alg"], "kid": header.get("kid") or ""})


@lru_cache(maxsize=32)
def _rsa_key(modulus: str, exponent: str) -> Any:
    """The public key of a JWKS entry. Kept: a program checks every request against the same few
    keys, and building one costs about as much as the verification."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    try:
        n = int.from_bytes(_strict_base64url(modulus), "big")
        e = int.from_bytes(_strict_base64url(exponent), "big")
        if n.bit_length() not in RSA_BITS:
            raise ValueError("modulus size")
        return RSAPublicNumbers(e, n).public_key()
    except (ValueError, binascii.Error):
        raise TokenInvalid(BAD_PUBLIC_KEY) from None


def verify_rsa(token: str, modulus: str, exponent: str, issuer: str, audience: str) -> Ok | Err:
    """``சீட்டு_பொதுச்_சரிபார்``: an RS256 token checked with a JWKS key (``n``, ``e``)."""
    if not issuer or not audience:
        return Err(ISSUER_AND_AUDIENCE_REQUIRED)
    try:
        key = _rsa_key(modulus, exponent)
        header = _checked_structure(token)
        if header["alg"] != "RS256":
            raise TokenInvalid()
        claims = _claims(_signature_checked(token, key, "RS256"))
        _check_expiry(claims)
        if not _matches(claims.get("iss"), issuer):
            raise TokenInvalid(WRONG_ISSUER)
        if not _matches(claims.get("aud"), audience):
            raise TokenInvalid(WRONG_AUDIENCE)
    except TokenInvalid as failure:
        return Err(failure.message)
    return Ok(jsontext.dumps(claims))
