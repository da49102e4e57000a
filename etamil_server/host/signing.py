"""Signing (HOST.md §6.5): HMAC-SHA256, and ECDSA over P-256 with SHA-256.

Keys and signatures travel as lowercase hex text. ECDSA failures (bad hex, bad keys) are
:class:`SigningError` carrying the spec's message; the builtins return them as ``தவறு(...)``.
``cryptography`` is imported on first use, so that loading the builtins stays cheap.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ..runtime.values import WHITE_SPACE

#: The order n of the P-256 group: a private scalar must lie in [1, n-1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

BAD_PRIVATE_KEY = "தனிச்சாவி சரியில்லை  (not a valid P-256 private key: it must be 32 bytes, and not zero)"
BAD_PUBLIC_KEY = (
    "பொதுச்சாவி சரியில்லை  (not a valid P-256 public key: expected an uncompressed SEC1 point)"
)
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class SigningError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------------ HMAC


def hmac_sign(key: str, message: str) -> str:
    """Lowercase hex of HMAC-SHA256(key, message) over their UTF-8 bytes."""
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_verify(key: str, message: str, signature: str) -> bool:
    """Trimmed and lower-cased ``signature`` against the expected one: length first, then a
    constant-time comparison (so timing reveals nothing about how much of it matched)."""
    expected = hmac_sign(key, message).encode("ascii")
    given = signature.strip(WHITE_SPACE).lower().encode("utf-8")
    return len(given) == len(expected) and hmac.compare_digest(given, expected)


# ------------------------------------------------------------------------------------- hex


def _pair_text(raw: bytes, start: int) -> str:
    """The letters covering the byte pair at ``start``, widened to whole UTF-8 sequences."""
    begin, end = start, min(start + 2, len(raw))
    while begin > 0 and raw[begin] & 0xC0 == 0x80:
        begin -= 1
    while end < len(raw) and raw[end] & 0xC0 == 0x80:
        end += 1
    return raw[begin:end].decode("utf-8", "replace")


def parse_hex(text: str) -> bytes:
    """Hex text (white space anywhere is ignored) to bytes.

    Lengths count UTF-8 bytes, as the reference does. Unlike the reference, a pair holding a
    sign (``+a``) or a non-ASCII letter is rejected as not hex (upstream accepts the first and
    crashes on the second)."""
    compact = "".join(char for char in text if char not in WHITE_SPACE)
    raw = compact.encode("utf-8")
    if len(raw) % 2:
        raise SigningError(
            f"பதினாறு எண்ணிக்கை இரட்டையாக இருக்க வேண்டும்  (hex needs an even number of digits, got {len(raw)})"
        )
    for start in range(0, len(raw), 2):
        if raw[start] not in _HEX_DIGITS or raw[start + 1] not in _HEX_DIGITS:
            pair = _pair_text(raw, start)
            raise SigningError(f"'{pair}' பதினாறு அல்ல  ('{pair}' is not hex)")
    return bytes.fromhex(compact)


# ----------------------------------------------------------------------------------- ECDSA


def _curve() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.SECP256R1()


def _public_hex(private_key: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint).hex()


def _private_key(text: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    data = parse_hex(text)
    scalar = int.from_bytes(data, "big")
    if len(data) != 32 or not 0 < scalar < P256_ORDER:
        raise SigningError(BAD_PRIVATE_KEY)
    return ec.derive_private_key(scalar, _curve())


def _public_key(text: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    data = parse_hex(text)
    try:
        # Accepts uncompressed (65 bytes) and compressed (33 bytes) SEC1 points, as upstream's
        # library does despite the message's wording.
        return ec.EllipticCurvePublicKey.from_encoded_point(_curve(), data)
    except ValueError:
        raise SigningError(BAD_PUBLIC_KEY) from None


def new_key_pair() -> tuple[str, str]:
    """A fresh key pair: (private scalar as 64 hex digits, uncompressed public point as 130)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = ec.generate_private_key(_curve())
    scalar = private_key.private_numbers().private_value
    return scalar.to_bytes(32, "big").hex(), _public_hex(private_key)


def public_from_private(private_hex: str) -> str:
    return _public_hex(_private_key(private_hex))


def _ecdsa(deterministic: bool) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    if deterministic:
        return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    return ec.ECDSA(hashes.SHA256())


def ec_sign(message: str, private_hex: str) -> str:
    """DER signature, hex. Deterministic (RFC 6979) like upstream's library where ours can do it
    (cryptography >= 43 on OpenSSL >= 3.2); otherwise randomised, which verifies the same."""
    from cryptography.exceptions import UnsupportedAlgorithm

    private_key = _private_key(private_hex)
    data = message.encode("utf-8")
    try:
        return private_key.sign(data, _ecdsa(deterministic=True)).hex()
    except (TypeError, UnsupportedAlgorithm):  # an older cryptography or OpenSSL
        return private_key.sign(data, _ecdsa(deterministic=False)).hex()


def ec_verify(message: str, signature_hex: str, public_hex: str) -> bool:
    """Whether ``signature_hex`` (DER) signs ``message`` for the key. A signature that is not
    valid DER is simply not valid (``False``); bad hex or a bad key is a :class:`SigningError`."""
    from cryptography.exceptions import InvalidSignature

    public_key = _public_key(public_hex)
    signature = parse_hex(signature_hex)
    try:
        public_key.verify(signature, message.encode("utf-8"), _ecdsa(deterministic=False))
    except (InvalidSignature, ValueError):
        return False
    return True
