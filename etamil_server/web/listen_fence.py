"""Closing a listening socket without resetting the connections queued on it.

The kernel completes a client's handshake before any process accepts the connection, so the
client sends its request at once. When the last descriptor of a listening socket closes, Linux
resets every connection still queued on it: a request the client believes delivered is lost. The
drain therefore accepts what waits before it closes (``Server._take_waiting``), but that leaves a
window between the final ``accept`` (which found the queue empty) and the ``close``. In Python
the window is not microseconds: ``accept`` gives up the GIL, and a handler thread that takes it
can hold it for the switch interval (5 ms). That is how CI lost one request of 2,152 in the
SIGTERM test under write load: a connection made during the drain, reset 5 ms later.

The fence closes the window at its source: a one-instruction classic BPF socket filter that
drops every packet addressed to the listening socket. From then on a SYN is dropped (the client
retransmits it a second later and, the socket gone by then, is refused: it knows that nothing was
sent), and the queue can only shrink; connections queued before the fence, whose children exist
already, are accepted and served as before (a child made before the fence has no filter).

It must be set only by the process that holds the socket's last descriptors, and only when the
socket is closing for good: the filter belongs to the socket, not to the descriptor, so a worker
retiring alone (``max_requests``, a reload) must not set it while the master and the other
workers keep accepting, nor a master whose socket outlives it (systemd socket activation, the
USR2 re-exec's new master). Linux only: elsewhere :func:`refuse_new_connections` returns False
and the drain is as it was.
"""

from __future__ import annotations

import ctypes
import socket
import struct
import sys

#: <linux/socket.h>; not in Python's socket module
SO_ATTACH_FILTER = 26
#: BPF_RET | BPF_K with k = 0: accept 0 bytes of the packet, that is, drop it
_DROP_ALL = struct.pack("HBBI", 0x06, 0, 0, 0)
# the kernel copies the program at setsockopt; the buffer only has to live through the call
_PROGRAM = ctypes.create_string_buffer(_DROP_ALL, len(_DROP_ALL))
#: struct sock_fprog {unsigned short len; struct sock_filter *filter;}, native alignment
_FPROG = struct.pack("HP", 1, ctypes.addressof(_PROGRAM))


def refuse_new_connections(sock: socket.socket) -> bool:
    """Stop new connections from joining ``sock``'s accept queue; those already queued stay
    to be accepted. True when the fence is up; False off Linux, or when the socket is closed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, _FPROG)
    except OSError:
        return False
    return True
