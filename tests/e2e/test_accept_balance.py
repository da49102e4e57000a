"""Connections spread over two gunicorn workers (web/balance.py), counted per worker process with
``ss -tnp``: after a burst of 1,000 connections the next 64 keep-alive clients split within
40/24 (a few fresh servers; ``bench/balance_probe.py`` runs 20), and a worker stuck in a long
handler neither keeps new connections waiting nor keeps the imbalance it caused."""

from __future__ import annotations

import asyncio
import select
import shutil
import socket
import sys
import time

import pytest
from e2e_helpers import REPO, WAIT, read_response

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.balance_probe import Client, Plan, new_loop, probe_connections, split  # noqa: E402

PROGRAM = """
வழி பெறு, "/" { பதில் 200, "Hello, World!", {"Content-Type": "text/plain"}; }
வழி பெறு, "/spin" { x = 0; (1 == 1) சுற்று { x = x + 1; } }
"""
FRESH_SERVERS = 3
CLIENTS = 64
WORST = 40  # of 64: 40/24

pytestmark = pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")


@pytest.mark.parametrize("number", range(FRESH_SERVERS))
def test_after_a_burst_the_next_keep_alive_clients_split_evenly(gunicorn, number):
    server = gunicorn(PROGRAM).wait_ready()
    workers = server.workers()
    assert len(workers) == 2
    found = new_loop().run_until_complete(probe_connections(server.port, workers, Plan(burst=1000, clients=CLIENTS)))
    accept = found["accept"]
    assert sum(accept) == CLIENTS
    assert max(accept) <= WORST, f"split {accept[0]}/{accept[1]}"


def test_a_stuck_worker_neither_starves_new_connections_nor_keeps_the_imbalance(gunicorn):
    # the inline budget would hand the spin to the executor after 5 ms and free the loop: with no
    # budget the spinning worker is really stuck, as a worker in a C call or a long GC pause is
    server = gunicorn(PROGRAM, env={"ETAMIL_HANDLER_DEADLINE": "3", "ETAMIL_INLINE_BUDGET_MS": "0"}).wait_ready()
    workers = server.workers()
    spinner = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    spinner.sendall(b"GET /spin HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.3)  # for its worker to be in the handler (not asserted: the spin lasts 3 s)

    async def scenario() -> tuple[list[int], list[int], bool]:
        clients = [Client(server.port) for _ in range(CLIENTS)]
        await asyncio.gather(*(client.first() for client in clients))
        # every client has its answer while one worker is still spinning in its handler
        spinning = not select.select([spinner], [], [], 0)[0]
        during = split(server.port, workers)
        await asyncio.get_running_loop().run_in_executor(None, read_response, spinner, bytearray())
        until = asyncio.get_running_loop().time() + 4  # a few sweeps: shedding is once a second
        await asyncio.gather(*(client.keep_going(until) for client in clients))
        after = split(server.port, workers)
        for client in clients:
            client.close()
        assert sum(client.failures for client in clients) == 0
        return during, after, spinning

    try:
        during, after, spinning = new_loop().run_until_complete(scenario())
    finally:
        spinner.close()
    assert spinning, "the new connections waited for the stuck worker's handler to end"
    assert min(during) <= 3  # the stuck worker holds the spinning connection, and took (almost) none
    assert max(after) <= WORST, f"still {after[0]}/{after[1]} after the stuck worker recovered"
