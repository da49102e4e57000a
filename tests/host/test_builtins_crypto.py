"""Passwords (HOST.md §6.4) and signing (§6.5), through the builtins as programs call them."""

from decimal import Decimal

import pytest

from etamil_server.base.errors import EtamilError
from etamil_server.host import builtins as host
from etamil_server.host.signing import parse_hex
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.values import Err, Ok

SPEC_HMAC = "88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b"
BAD_PRIVATE = "தனிச்சாவி சரியில்லை  (not a valid P-256 private key: it must be 32 bytes, and not zero)"
BAD_PUBLIC = "பொதுச்சாவி சரியில்லை  (not a valid P-256 public key: expected an uncompressed SEC1 point)"
P256_ORDER_HEX = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"

# RFC 6979 appendix A.2.5: P-256, SHA-256, message "sample".
RFC_PRIVATE = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
RFC_PUBLIC = (
    "04"
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
)
RFC_R = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
RFC_S = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"


def der(r_hex: str, s_hex: str) -> str:
    def integer(h: str) -> bytes:
        body = bytes.fromhex(h).lstrip(b"\x00")
        if body[0] & 0x80:
            body = b"\x00" + body
        return b"\x02" + bytes([len(body)]) + body

    content = integer(r_hex) + integer(s_hex)
    return (b"\x30" + bytes([len(content)]) + content).hex()


def test_all_spellings_are_registered_with_their_arity():
    expected = {
        ("கையொப்பம்", "kYyoppam", "_sign"): 2,
        ("கையொப்பம்_சரியா", "kYyoppam_cariyA", "_verifySignature"): 3,
        ("வளைவு_சாவிகள்", "vaLYvu_cAvikaL", "_keyPair"): 0,
        ("வளைவு_பொதுச்சாவி", "vaLYvu_poquccAvi", "_publicKey"): 1,
        ("வளைவு_கையொப்பம்", "vaLYvu_kYyoppam", "_ecSign"): 2,
        ("வளைவு_சரிபார்", "vaLYvu_caripAr", "_ecVerify"): 3,
        ("கடவுச்சொல்_மறை", "kataveuccol_maRY", "_hashPassword"): 1,
        ("கடவுச்சொல்_சரியா", "kataveuccol_cariyA", "_verifyPassword"): 2,
    }
    for spellings, arity in expected.items():
        entries = {BUILTINS[s] for s in spellings}
        assert len(entries) == 1
        (entry,) = entries
        assert entry.name == spellings[0] and entry.arity == arity
    assert BUILTINS["_hashPassword"].blocking and BUILTINS["_verifyPassword"].blocking


# ------------------------------------------------------------------------------------ HMAC


def test_hmac_spec_example():
    assert host.sign("secret", "hello") == SPEC_HMAC


def test_hmac_signs_renderings():
    assert host.sign(Decimal("1.50"), ["a", True]) == host.sign("1.5", "[a, true]")
    assert host.sign("", "") != host.sign("k", "")


def test_hmac_verify_trims_and_ignores_case():
    assert host.verify_signature("secret", "hello", SPEC_HMAC) is True
    assert host.verify_signature("secret", "hello", "  " + SPEC_HMAC.upper() + "\n") is True


def test_hmac_verify_rejects_wrong_and_odd_signatures():
    assert host.verify_signature("secret", "hello!", SPEC_HMAC) is False
    assert host.verify_signature("Secret", "hello", SPEC_HMAC) is False
    assert host.verify_signature("secret", "hello", SPEC_HMAC[:-1]) is False
    assert host.verify_signature("secret", "hello", SPEC_HMAC + "0") is False
    assert host.verify_signature("secret", "hello", "அ" * 64) is False
    assert host.verify_signature("secret", "hello", None) is False


# ----------------------------------------------------------------------------------- ECDSA


def test_key_pair_shape_and_public_half():
    pair = host.key_pair()
    assert set(pair) == {"தனி", "பொது"}
    private, public = pair["தனி"], pair["பொது"]
    assert len(private) == 64 and int(private, 16) > 0 and private == private.lower()
    assert len(public) == 130 and public.startswith("04") and public == public.lower()
    assert host.public_key(private).value == public
    assert host.key_pair()["தனி"] != private


def test_public_key_from_known_private():
    result = host.public_key(RFC_PRIVATE)
    assert isinstance(result, Ok) and result.value == RFC_PUBLIC


def test_sign_verify_round_trip_and_tampering():
    pair = host.key_pair()
    signed = host.ec_sign("பணம் 100", pair["தனி"])
    assert isinstance(signed, Ok)
    signature = signed.value
    assert signature.startswith("30") and signature == signature.lower()
    verdict = host.ec_verify("பணம் 100", signature, pair["பொது"])
    assert isinstance(verdict, Ok) and verdict.value is True
    assert host.ec_verify("பணம் 101", signature, pair["பொது"]).value is False
    other = host.key_pair()["பொது"]
    assert host.ec_verify("பணம் 100", signature, other).value is False


def test_signature_matches_rfc6979_when_deterministic():
    signature = host.ec_sign("sample", RFC_PRIVATE).value
    assert host.ec_verify("sample", signature, RFC_PUBLIC).value is True
    assert host.ec_verify("sample", der(RFC_R, RFC_S), RFC_PUBLIC).value is True
    if signature == host.ec_sign("sample", RFC_PRIVATE).value:  # deterministic signing available
        assert signature == der(RFC_R, RFC_S)


def test_verify_accepts_high_s_signatures():
    high_s = format(int(P256_ORDER_HEX, 16) - int(RFC_S, 16), "064x")
    assert host.ec_verify("sample", der(RFC_R, high_s), RFC_PUBLIC).value is True


def test_white_space_in_hex_is_removed_and_upper_case_accepted():
    spaced = " ".join(RFC_PRIVATE[i : i + 8].upper() for i in range(0, 64, 8)) + "\n"
    assert host.public_key(spaced).value == RFC_PUBLIC
    signature = host.ec_sign("x", RFC_PRIVATE).value
    assert host.ec_verify("x", "\t" + signature.upper(), RFC_PUBLIC).value is True


def test_compressed_public_key_is_accepted():
    x = RFC_PUBLIC[2:66]
    y_is_odd = int(RFC_PUBLIC[66:], 16) & 1
    compressed = ("03" if y_is_odd else "02") + x
    signature = host.ec_sign("m", RFC_PRIVATE).value
    assert host.ec_verify("m", signature, compressed).value is True


def test_signature_that_is_not_der_is_false_not_failure():
    for bad in ("", "00", "3000", "deadbeef", der(RFC_R, RFC_S) + "00"):
        assert host.ec_verify("sample", bad, RFC_PUBLIC).value is False, bad


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "பதினாறு எண்ணிக்கை இரட்டையாக இருக்க வேண்டும்  (hex needs an even number of digits, got 3)"),
        ("a b c", "பதினாறு எண்ணிக்கை இரட்டையாக இருக்க வேண்டும்  (hex needs an even number of digits, got 3)"),
        ("éa", "பதினாறு எண்ணிக்கை இரட்டையாக இருக்க வேண்டும்  (hex needs an even number of digits, got 3)"),
        ("00zz", "'zz' பதினாறு அல்ல  ('zz' is not hex)"),
        ("+a" + "00" * 31, "'+a' பதினாறு அல்ல  ('+a' is not hex)"),
        ("-1", "'-1' பதினாறு அல்ல  ('-1' is not hex)"),
        ("é", "'é' பதினாறு அல்ல  ('é' is not hex)"),
        ("0அ", "'0அ' பதினாறு அல்ல  ('0அ' is not hex)"),
    ],
)
def test_bad_hex_messages(text, message):
    for result in (
        host.public_key(text),
        host.ec_sign("m", text),
        host.ec_verify("m", "3000", text),
        host.ec_verify("m", text, RFC_PUBLIC),
    ):
        assert isinstance(result, Err) and result.value == message


def test_parse_hex_plain():
    assert parse_hex("00 ff\n7A") == b"\x00\xff\x7a"
    assert parse_hex("") == b""


@pytest.mark.parametrize(
    "private",
    ["", "00" * 32, "01" * 31, "01" * 33, P256_ORDER_HEX, "ff" * 32],
)
def test_bad_private_keys(private):
    for result in (host.public_key(private), host.ec_sign("m", private)):
        assert isinstance(result, Err) and result.value == BAD_PRIVATE


@pytest.mark.parametrize("public", ["", "04", "00", RFC_PUBLIC[:-2], "04" + "00" * 64, RFC_PUBLIC[:-2] + "00"])
def test_bad_public_keys(public):
    result = host.ec_verify("m", "3000", public)
    assert isinstance(result, Err) and result.value == BAD_PUBLIC


# -------------------------------------------------------------------------------- passwords


def test_password_hash_shape_and_verification():
    hashed = host.hash_password("கடவுச்சொல் 1")
    assert hashed.startswith("$2b$12$") and len(hashed) == 60
    assert host.verify_password("கடவுச்சொல் 1", hashed) is True
    assert host.verify_password("கடவுச்சொல் 2", hashed) is False
    assert host.hash_password("கடவுச்சொல் 1") != hashed  # fresh salt each time


def test_password_renders_non_text():
    hashed = host.hash_password(Decimal("1234.50"))
    assert host.verify_password("1234.5", hashed) is True


def test_long_password_is_truncated_at_72_bytes_like_bcrypt():
    long = "x" * 72
    hashed = host.hash_password(long + "tail")
    assert host.verify_password(long, hashed) is True
    assert host.verify_password(long + "other", hashed) is True
    assert host.verify_password("x" * 71, hashed) is False


def test_2a_and_2y_prefixes_verify_like_2b():
    hashed = host.hash_password("secret")
    for prefix in ("$2a$", "$2y$"):
        assert host.verify_password("secret", prefix + hashed[4:]) is True
        assert host.verify_password("Secret", prefix + hashed[4:]) is False


@pytest.mark.parametrize("bad", ["", "not a hash", "$2b$12$short", "$2b$12$" + "அ" * 53, None])
def test_invalid_stored_hash_is_a_runtime_error(bad):
    with pytest.raises(EtamilError) as caught:
        host.verify_password("x", bad)
    assert caught.value.message == "சேமித்த மறையீடு செல்லாதது  (the stored password hash is not valid)"
