"""The peers of bench/routes/routes.qmz: bare ASGI (no framework) doing the same work, served by
gunicorn + uvicorn's worker and by granian (bench/http_routes.py).

    gunicorn -k uvicorn.workers.UvicornWorker -w 2 bench.apps.asgi_routes:app
    granian --interface asgi --workers 2 bench.apps.asgi_routes:app

* ``GET /hello/{name}``: ``Hello, {name}!`` as text/plain;
* ``GET /gst?amount=&rate=``: two decimals from the query, the tax rounded to 2 places (half
  even, as the eTamil route's ``வட்டமிடு``), a six-field JSON record;
* ``POST /entry``: the JSON body parsed (decimals exact), a tax, a five-field JSON record, 201;
* ``GET /db``: ``SELECT pg_sleep(0.05)`` through an asyncpg pool of ``BENCH_DB_POOL_MAX``
  connections per worker (the same cap as ours), made once per worker (at lifespan start-up, or
  by the first request under a lock when the server runs no lifespan).
"""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from urllib.parse import parse_qsl

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
POOL_MAX = int(os.environ.get("BENCH_DB_POOL_MAX", "32"))
CENT = Decimal("0.01")

_TEXT = [(b"content-type", b"text/plain")]
_JSON = [(b"content-type", b"application/json")]
_pool = None
_pool_lock = None


async def _get_pool():
    global _pool, _pool_lock
    if _pool is None:
        import asyncio

        import asyncpg

        if _pool_lock is None:
            _pool_lock = asyncio.Lock()
        async with _pool_lock:
            if _pool is None:
                _pool = await asyncpg.create_pool(PG_URL, min_size=1, max_size=POOL_MAX)
    return _pool


def _number(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return Decimal(0)


def _plain(value: Decimal) -> str:
    """A decimal as the eTamil display form shows it in JSON (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return text


def _json(record: dict) -> bytes:
    return json.dumps(
        {key: (_plain(value) if isinstance(value, Decimal) else value) for key, value in record.items()},
        separators=(",", ":"), sort_keys=True, ensure_ascii=False,
    ).encode()


async def _send(send, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _body(receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _get_pool()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path.startswith("/hello/"):
        await _send(send, 200, _TEXT, f"Hello, {path[7:]}!".encode())
    elif path == "/gst":
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        amount = _number(query.get("amount", "0"))
        rate = _number(query.get("rate", "18"))
        tax = (amount * rate / 100).quantize(CENT, ROUND_HALF_EVEN)
        half = (tax / 2).quantize(CENT, ROUND_HALF_EVEN)
        record = {"amount": amount, "rate": rate, "gst": tax, "cgst": half, "sgst": tax - half, "total": amount + tax}
        await _send(send, 200, _JSON, _json(record))
    elif path == "/entry":
        try:
            entry = json.loads(await _body(receive), parse_float=Decimal)
        except ValueError as exc:
            await _send(send, 400, _JSON, _json({"error": str(exc)}))
            return
        amount = _number(str(entry.get("amount", "0")))
        tax = (amount * 18 / 100).quantize(CENT, ROUND_HALF_EVEN)
        record = {"account": entry.get("account", ""), "amount": amount, "tax": tax, "total": amount + tax,
                  "note": entry.get("note", "")}
        await _send(send, 201, _JSON, _json(record))
    elif path == "/db":
        pool = await _get_pool()
        async with pool.acquire() as connection:
            await connection.execute("SELECT pg_sleep(0.05)")
        await _send(send, 200, _TEXT, b"slept")
    else:
        await _send(send, 404, _JSON, b'{"error": "Not Found"}')
