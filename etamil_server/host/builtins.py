"""The host builtins (HOST.md §6.1, §6.3-§6.5, §6.7, §7.1, §7.2, §7.5, §7.7): files, outbound
HTTP, passwords, signing, environment and exit, Redis, MongoDB (absent, as in the reference build),
document packages, running other programs, tokens. Database builtins live in
``host/db/builtins.py``.

Importing this module must stay cheap (it runs at every start of the ``etamil`` command): the
modules doing the work — and their libraries (bcrypt, cryptography, http.client, ssl) — are
imported inside the functions, on first call.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from ..base.errors import EtamilError, EtamilExit
from ..runtime.builtins import builtin
from ..runtime.values import Err, Ok, display, to_number, type_name

# ------------------------------------------------------------------------------ files (§6.1)


@builtin("கோப்பு_சேமி", "kOppu_cEmi", "_fileSave", blocking=True, returns="result")
def file_save(file: Any, content: Any) -> Ok | Err:
    """Write the whole file; ``சரி(bytes written)`` or ``தவறு(message)``."""
    from . import files

    path = display(file)
    try:
        return Ok(Decimal(files.file_save(path, display(content))))
    except (OSError, ValueError) as exc:
        return Err(files.write_failed_message(path, exc))


# ---------------------------------------------------------------------- outbound HTTP (§6.3)


def _http(method: str, url: Any, body: str | None, headers: Any) -> Ok | Err:
    from . import http_client

    pairs = [(name, display(headers[name])) for name in sorted(headers)] if type(headers) is dict else []
    data = None if body is None else body.encode("utf-8")
    try:
        response = http_client.fetch(method, display(url), data, pairs)
    except http_client.HttpFailure as failure:
        return Err(failure.message)
    header_record = {name: response.headers[name] for name in sorted(response.headers)}
    return Ok(
        {
            "உடலுரை": response.body,
            "தலைப்புகள்": header_record,
            "நிலைக்_குறி": Decimal(response.status),
        }
    )


@builtin("வலை_பெறு", "valY_peRu", "_httpGet", blocking=True, returns="result")
def http_get(url: Any, headers: Any) -> Ok | Err:
    return _http("GET", url, None, headers)


@builtin("வலை_பதி", "valY_paqi", "_httpPost", blocking=True, returns="result")
def http_post(url: Any, body: Any, headers: Any) -> Ok | Err:
    # Quirk kept from the reference: இன்மை is rendered and sent as the text "nil".
    return _http("POST", url, display(body), headers)


@builtin("வலை_அனுப்பு", "valY_aZuppu", "_httpRequest", blocking=True, returns="result")
def http_request(method: Any, url: Any, body: Any, headers: Any) -> Ok | Err:
    return _http(display(method).upper(), url, None if body is None else display(body), headers)


# --------------------------------------------------------------------------- passwords (§6.4)


@builtin("கடவுச்சொல்_மறை", "kataveuccol_maRY", "_hashPassword", blocking=True, returns="string")
def hash_password(password: Any) -> str:
    from . import passwords

    return passwords.hash_password(display(password))


@builtin("கடவுச்சொல்_சரியா", "kataveuccol_cariyA", "_verifyPassword", blocking=True, returns="boolean")
def verify_password(password: Any, hashed: Any) -> bool:
    from . import passwords

    return passwords.verify_password(display(password), display(hashed))


# ----------------------------------------------------------------------------- signing (§6.5)


@builtin("கையொப்பம்", "kYyoppam", "_sign", returns="string")
def sign(key: Any, message: Any) -> str:
    from . import signing

    return signing.hmac_sign(display(key), display(message))


@builtin("கையொப்பம்_சரியா", "kYyoppam_cariyA", "_verifySignature", returns="boolean")
def verify_signature(key: Any, message: Any, signature: Any) -> bool:
    from . import signing

    return signing.hmac_verify(display(key), display(message), display(signature))


@builtin("வளைவு_சாவிகள்", "vaLYvu_cAvikaL", "_keyPair", returns="record")
def key_pair() -> dict[str, str]:
    from . import signing

    private, public = signing.new_key_pair()
    return {"தனி": private, "பொது": public}


@builtin("வளைவு_பொதுச்சாவி", "vaLYvu_poquccAvi", "_publicKey", returns="result")
def public_key(private: Any) -> Ok | Err:
    from . import signing

    try:
        return Ok(signing.public_from_private(display(private)))
    except signing.SigningError as error:
        return Err(error.message)


@builtin("வளைவு_கையொப்பம்", "vaLYvu_kYyoppam", "_ecSign", returns="result")
def ec_sign(message: Any, private: Any) -> Ok | Err:
    from . import signing

    try:
        return Ok(signing.ec_sign(display(message), display(private)))
    except signing.SigningError as error:
        return Err(error.message)


@builtin("வளைவு_சரிபார்", "vaLYvu_caripAr", "_ecVerify", returns="result")
def ec_verify(message: Any, signature: Any, public: Any) -> Ok | Err:
    from . import signing

    try:
        return Ok(signing.ec_verify(display(message), display(signature), display(public)))
    except signing.SigningError as error:
        return Err(error.message)


# ---------------------------------------------------------------- environment and exit (§6.7)


@builtin("சூழல்", "cUzal", "_env")
def env(name: Any, fallback: Any) -> Any:
    """The variable as text when set and valid Unicode, otherwise ``fallback`` unchanged."""
    value = os.environ.get(display(name))
    if value is None:
        return fallback
    try:
        value.encode("utf-8")  # bytes that were not UTF-8 arrive as lone surrogates
    except UnicodeEncodeError:
        return fallback
    return value


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


@builtin("வெளியேறு", "veLiyERu", "_exit")
def exit_process(status: Any) -> None:
    """End the process: the caller (CLI or server) flushes the streams and exits with it."""
    code = int(to_number(status))  # the fraction is dropped (toward zero)
    raise EtamilExit(code if _INT32_MIN <= code <= _INT32_MAX else 1)


# --------------------------------------------------------------------------------- Redis (§7.1)
# One connection per run, kept on the run's context as ``ctx.redis`` (not pooled, not shared).


def close_redis(ctx: Any) -> bool:
    """Close the run's Redis connection, if any; whether there was one. The end of a run (the
    context's release) should call this."""
    connection = getattr(ctx, "redis", None)
    ctx.redis = None
    if connection is None:
        return False
    connection.close()
    return True


@builtin("ரெடிஸ்_இணை", "retis_iNY", "_redisConnect", context=True, blocking=True, returns="result")
def redis_connect(ctx: Any, address: Any) -> Ok | Err:
    from .redis_client import RedisConnection

    connection, result = RedisConnection.open(display(address))
    if connection is not None:  # a failed attempt leaves the previous connection in place
        close_redis(ctx)
        ctx.redis = connection
    return result


@builtin("ரெடிஸ்_கட்டளை", "retis_kattaLY", "_redisCommand", context=True, blocking=True, returns="result")
def redis_command(ctx: Any, command: Any, arguments: Any) -> Ok | Err:
    if type(arguments) is not list:
        raise EtamilError(
            "ரெடிஸ்_கட்டளை அளபுருக்கள் ஒரு அணி தேவை  "
            f"(the arguments must be an array, got {type_name(arguments)})"
        )
    connection = getattr(ctx, "redis", None)
    if connection is None:
        from .redis_client import NOT_CONNECTED

        return Err(NOT_CONNECTED)
    return connection.command(display(command), [display(item) for item in arguments])


@builtin("ரெடிஸ்_பிரி", "retis_piri", "_redisClose", context=True, returns="boolean")
def redis_close(ctx: Any) -> bool:
    return close_redis(ctx)


# ------------------------------------------------------------------ JWT and single sign-on (§7.7)


@builtin("சீட்டு_ஆக்கு", "cIttu_Akku", "_issueToken", returns="string")
def issue_token(payload_json: Any, seconds: Any) -> str:
    """An HS256 token for the JSON payload, valid for ``seconds``; failures are runtime errors."""
    from . import tokens

    return tokens.issue(display(payload_json), to_number(seconds))


@builtin("சீட்டு_சரிபார்", "cIttu_caripAr", "_readToken", returns="result")
def read_token(token: Any) -> Ok | Err:
    from . import tokens

    return tokens.read(display(token))


@builtin("சீட்டு_தலைப்பு", "cIttu_qalYppu", "_tokenHeader", returns="result")
def token_header(token: Any) -> Ok | Err:
    from . import tokens

    return tokens.header_record(display(token))


@builtin("சீட்டு_பொதுச்_சரிபார்", "cIttu_poquc_caripAr", "_verifyTokenRSA", returns="result")
def verify_token_rsa(token: Any, modulus: Any, exponent: Any, issuer: Any, audience: Any) -> Ok | Err:
    from . import tokens

    return tokens.verify_rsa(display(token), display(modulus), display(exponent), display(issuer), display(audience))


# ------------------------------------------------- document packages and other programs (§7.5)


@builtin("பொதி_படி", "poqi_pati", "_packageRead", blocking=True, returns="result")
def package_read(path: Any, entry: Any) -> Ok | Err:
    from . import packages

    return packages.read_entry(display(path), display(entry))


@builtin("பொதி_மாற்று", "poqi_mARRu", "_packageWrite", blocking=True, returns="result")
def package_write(source: Any, target: Any, changes: Any) -> Ok | Err:
    if type(changes) is not dict:
        raise EtamilError(
            f"பொதி_மாற்று ஒரு பொருள் தேவை  (package changes must be a record, got {type_name(changes)})"
        )
    from . import packages

    return packages.rewrite(display(source), display(target), {name: display(changes[name]) for name in changes})


@builtin("கட்டளை_ஓட்டு", "kattaLY_Ottu", "_run", context=True, blocking=True, returns="result")
def run_program(ctx: Any, program: Any, arguments: Any, seconds: Any) -> Ok | Err:
    """Run an allowed program with ``arguments`` (never through a shell), at most ``seconds``."""
    if type(arguments) is not list:
        raise EtamilError(
            f"கட்டளை_ஓட்டு அளபுருக்கள் ஒரு அணி தேவை  (arguments must be an array, got {type_name(arguments)})"
        )
    from . import programs

    name = display(program)
    if not programs.is_allowed(name, os.environ.get(programs.ALLOW_VARIABLE)):
        return Err(programs.not_allowed(name))
    limit = programs.whole_seconds(to_number(seconds))
    return programs.run(ctx, name, [display(item) for item in arguments], limit)


# ------------------------------------------------------------------------------- MongoDB (§7.2)
# The reference's release build has no MongoDB: connecting is a runtime error and the other
# MongoDB builtins (மொங்கோ_கட்டளை, மொங்கோ_செருகு, ...) are unknown functions.

MONGO_NOT_BUILT = "மொங்கோ ஆதரவு இல்லாமல் கட்டப்பட்டது  (this build has no MongoDB support): rebuild with --features mongodb"


@builtin("மொங்கோ_இணை", "mowkO_iNY", "_mongoConnect")
def mongo_connect(uri: Any, database: Any) -> None:
    raise EtamilError(MONGO_NOT_BUILT)


# ------------------------------------------------------------------------------- databases

# The database builtins (HOST.md §5.10) live beside their sessions and register on import.
from .db import builtins as _db_builtins  # noqa: E402, F401
