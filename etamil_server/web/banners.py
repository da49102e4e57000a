"""The servers' console texts (HOST.md §4.15), byte for byte.

* :func:`sync_banner` -- what ``--server`` prints after a successful bind (the rule lines, the
  listening address, every registration in order with duplicates and ``/health`` last).
* :func:`async_banner_before_bind` / :func:`async_banner_after_bind` / :func:`async_banner` --
  ``--async``: the first two lines go out before binding, the rest after it (routes sorted as text,
  duplicates collapsed, then the timer announcements).
* :data:`OLD_MODEL_NOTICE`, :func:`timer_line`.

``{host}:{port}`` is always the configured text (``--port 0`` shows ``:0``).
"""

from __future__ import annotations

from typing import Any

RULE = "\u2501" * 74
OLD_MODEL_NOTICE = "ℹ️  No வழி routes found; serving the whole program on /"
SYNC_TITLE = "=== eTamil HTTP Server (Minimum Viable Backend) ==="


def timer_line(index: int, seconds: int) -> str:
    return f"⏱️  Scheduled job #{index} every {seconds}s"


def sync_banner(app: Any, host: str, port: int | str) -> str:
    """From the first rule line through the empty line after the last one."""
    lines = [
        RULE,
        "🚀 eTamil HTTP Server Started (Backend milestone 3 - Production Logging & Error Handling)",
        RULE,
        f"📍 Listening on: http://{host}:{port}",
        "📋 Registered Routes:",
        *(f"   {route.method} {route.path}" for route in app.routes),
        "📊 Metrics & Logging: Enabled",
        RULE,
        "",
    ]
    return "\n".join(lines) + "\n"


def async_banner_before_bind(host: str, port: int | str) -> str:
    return f"=== eTamil HTTP Server (--async) ===\n🚀 Starting server on {host}:{port}\n\n"


def async_banner_after_bind(app: Any, host: str, port: int | str) -> str:
    """The old-model notice if any, the framed block, the empty line and the timer lines."""
    lines = [OLD_MODEL_NOTICE] if not app.has_routes else []
    lines += [
        RULE,
        "🚀 eTamil HTTP Server (--async)",
        RULE,
        f"📍 Listening on: http://{host}:{port}",
        "📋 Registered Routes:",
        *(f"   {key}" for key in sorted(app.router.keys())),
        "🧵 Handlers run on tokio's blocking pool; the VM stays synchronous",
        "   Press Ctrl-C to stop.",
        RULE,
        "",
        *(timer_line(timer.index, timer.seconds) for timer in app.timers),
    ]
    return "\n".join(lines) + "\n"


def async_banner(app: Any, host: str, port: int | str) -> str:
    """Everything ``--async`` prints after ``✓ Parsing complete`` and its empty line."""
    return async_banner_before_bind(host, port) + async_banner_after_bind(app, host, port)
