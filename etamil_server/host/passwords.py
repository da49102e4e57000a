"""Password hashing with bcrypt (HOST.md §6.4).

bcrypt only ever uses the first 72 bytes of a password. The reference's library truncates
silently; bcrypt 5 for Python refuses longer passwords instead, so we truncate first: hashes
then agree with the reference's for every password, and hashing never fails on length.
Each call costs about a quarter of a second of CPU (cost 12): the builtins are marked blocking.
"""

from __future__ import annotations

from ..base.errors import EtamilError

COST = 12
BCRYPT_KEY_BYTES = 72
HASH_FAILED = "கடவுச்சொல்லை மறைக்க முடியவில்லை  (cannot hash the password)"
INVALID_HASH = "சேமித்த மறையீடு செல்லாதது  (the stored password hash is not valid)"


def _key(password: str) -> bytes:
    return password.encode("utf-8")[:BCRYPT_KEY_BYTES]


def hash_password(password: str) -> str:
    """A ``$2b$12$…`` hash (60 characters) with a fresh random salt."""
    import bcrypt

    try:
        return bcrypt.hashpw(_key(password), bcrypt.gensalt(COST, b"2b")).decode("ascii")
    except (ValueError, TypeError):
        raise EtamilError(HASH_FAILED) from None


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches ``hashed``; a hash that is not bcrypt's is a runtime error."""
    import bcrypt

    try:
        return bcrypt.checkpw(_key(password), hashed.encode("utf-8"))
    except (ValueError, TypeError):
        raise EtamilError(INVALID_HASH) from None
