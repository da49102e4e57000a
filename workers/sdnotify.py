"""systemd's readiness protocol (sd_notify(3)): one datagram of ``NAME=value`` lines to the unix
socket named by ``$NOTIFY_SOCKET``. A few lines of ``socket``; no library needed.

Only the master speaks to systemd (the unit says ``NotifyAccess=main``). :func:`take_address`
removes the variable from the environment as the master starts: gunicorn itself would otherwise
send ``READY=1`` as soon as its listening sockets exist, before any worker serves, and neither the
workers nor the programs they start should inherit it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import MutableMapping

ADDRESS_VARIABLE = "NOTIFY_SOCKET"
SEND_TIMEOUT = 2.0  # seconds: systemd reads at once; a stuck reader must not hang the master


def take_address(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """The notify socket's address, removed from ``environ``; None outside systemd."""
    return environ.pop(ADDRESS_VARIABLE, None) or None


def notify(address: str | None, *lines: str) -> bool:
    """Send ``lines`` as one message; whether it was sent (False outside systemd, or when the
    socket is gone: the server goes on either way)."""
    if not address or not lines:
        return False
    if address.startswith("@"):
        target = "\0" + address[1:]  # an abstract socket
    elif address.startswith("/"):
        target = address
    else:
        return False  # a kind of address this server does not speak (vsock:...)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(SEND_TIMEOUT)
            sock.sendto("\n".join(lines).encode("utf-8"), target)
        return True
    except OSError:
        return False
