"""Loads every family of builtins into the runtime's registry, once per process.

The registry (``runtime/builtins``) holds only the runtime's own pure builtins; the host's
(files, outbound HTTP, passwords, signing, Redis, databases) and the server's (``பதில்_கோப்பு``,
``பதிவேற்றம்_சேமி``) register themselves when their modules are imported. Whoever starts a
process that compiles programs calls :func:`load_families` first: the command (``cli.py``), the
REPL and the server's program loader (``web/loading.py``, which the gunicorn master and
``etamil serve`` use). Keeping this here, above the layers, is what lets the runtime know nothing
of the host or the web.
"""

from __future__ import annotations

from .runtime.builtins import Builtin, registry

_loaded = False


def load_families() -> dict[str, Builtin]:
    """Import every module that registers builtins (the first call does the work) and return
    the registry."""
    global _loaded
    if not _loaded:
        from .host import builtins as _host_builtins  # noqa: F401  (registers on import)
        from .web import builtins as _web_builtins  # noqa: F401

        _loaded = True
    return registry()
