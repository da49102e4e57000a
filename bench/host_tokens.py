"""What authenticating a request costs: N runs of a small eTamil program that issues an HS256 token
and reads it back (சீட்டு_ஆக்கு + சீட்டு_சரிபார்), and, side by side, the same two operations
done directly with PyJWT (``jwt.encode`` + ``jwt.decode``): the ratio is our overhead (the
reference's JSON text, its claim rules, the VM). Then RS256 verification alone, both ways.

    python bench/host_tokens.py [--runs 20000]
"""

from __future__ import annotations

import argparse
import base64
import os
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from etamil_server.families import load_families
from etamil_server.host.services import HOST_SERVICES
from etamil_server.lang.loader import load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext

HS256_PROGRAM = """\
t = சீட்டு_ஆக்கு("{\\"sub\\": \\"ravi\\", \\"role\\": \\"clerk\\"}", 300);
r = சீட்டு_சரிபார்(t);
"""
RS256_PROGRAM = """\
r = சீட்டு_பொதுச்_சரிபார்(token, n, e, "https://id.example", "ledger-api");
"""


def per_second(work, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        work()
    return runs / (time.perf_counter() - start)


def b64(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args(argv)
    os.environ["ETAMIL_JWT_SECRET"] = "a benchmark secret that is long enough"
    secret = os.environ["ETAMIL_JWT_SECRET"]
    load_families()
    ctx = RunContext(services=HOST_SERVICES)

    hs256 = compile_program(load_text(HS256_PROGRAM).statements)

    def etamil_hs256() -> None:
        hs256.run(ctx)

    def pyjwt_hs256() -> None:
        token = jwt.encode({"sub": "ravi", "role": "clerk", "iat": int(time.time()), "exp": int(time.time()) + 300},
                           secret, algorithm="HS256")
        jwt.decode(token, secret, algorithms=["HS256"], leeway=5)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    claims = {"iss": "https://id.example", "aud": "ledger-api", "sub": "ravi", "exp": int(time.time()) + 3600}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    rs256 = compile_program(load_text(RS256_PROGRAM).statements, inputs=["token", "n", "e"])
    inject = {"token": token, "n": b64(numbers.n), "e": b64(numbers.e)}
    public = key.public_key()

    def etamil_rs256() -> None:
        rs256.run(ctx, inject=inject)

    def pyjwt_rs256() -> None:
        jwt.decode(token, public, algorithms=["RS256"], audience="ledger-api", issuer="https://id.example", leeway=5)

    for work in (etamil_hs256, pyjwt_hs256, etamil_rs256, pyjwt_rs256):  # warm up (imports, caches)
        per_second(work, 50)
    ours, theirs = per_second(etamil_hs256, args.runs), per_second(pyjwt_hs256, args.runs)
    print(f"HS256 issue + read, {args.runs} runs")
    print(f"  eTamil program     {ours:10.0f} /s  {1e6 / ours:7.1f} µs each")
    print(f"  PyJWT directly     {theirs:10.0f} /s  {1e6 / theirs:7.1f} µs each")
    print(f"  ratio (PyJWT / eTamil) {theirs / ours:.2f}")
    runs = max(1, args.runs // 4)
    ours, theirs = per_second(etamil_rs256, runs), per_second(pyjwt_rs256, runs)
    print(f"RS256 verify (2048-bit key), {runs} runs")
    print(f"  eTamil program     {ours:10.0f} /s  {1e6 / ours:7.1f} µs each")
    print(f"  PyJWT directly     {theirs:10.0f} /s  {1e6 / theirs:7.1f} µs each")
    print(f"  ratio (PyJWT / eTamil) {theirs / ours:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
