"""Baselines served by gunicorn + uvicorn's worker (bench/http_hello.sh, bench/http_io.sh).

    gunicorn -k uvicorn.workers.UvicornWorker -w 2 bench.apps.asgi_hello:app
    gunicorn -k uvicorn.workers.UvicornWorker -w 2 bench.apps.asgi_hello:sleepy

``app`` answers "Hello, World!" as text/plain; ``sleepy`` waits 50 ms (``asyncio.sleep``) first,
the ideal of a route whose database query takes 50 ms.
"""

import asyncio

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
_BODY = {"type": "http.response.body", "body": b"Hello, World!"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send(_START)
    await send(_BODY)


async def sleepy(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.05)
    await send(_START)
    await send(_BODY)
