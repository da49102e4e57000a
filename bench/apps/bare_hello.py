"""The floor: a bare uvloop + httptools hello-world server, no eTamil, no framework.

    python bench/apps/bare_hello.py --port 8082 --workers 2

Binds once, then forks ``--workers`` processes that share the listening socket (as gunicorn's
workers do). Keep-alive and pipelining are honoured; every request gets the same 13-byte body.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
from email.utils import formatdate

import httptools
import uvloop

BODY = b"Hello, World!"


class Hello(asyncio.Protocol):
    head = b""

    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    def on_message_complete(self):
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(
            Hello.head + (b"" if keep_alive else b"Connection: close\r\n") + b"\r\n" + BODY
        )
        if not keep_alive:
            self.transport.close()


def refresh_head(loop):
    Hello.head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
        b"Date: " + formatdate(usegmt=True).encode() + b"\r\nServer: bare\r\n"
    )
    loop.call_later(1, refresh_head, loop)


def worker(sock):
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    refresh_head(loop)
    loop.run_until_complete(loop.create_server(Hello, sock=sock, backlog=2048))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    loop.run_forever()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    sock.setblocking(False)
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            worker(sock)
            os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        os.waitpid(pid, 0)
    sys.exit(0)


if __name__ == "__main__":
    main()
