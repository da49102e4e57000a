"""The servers' console texts (HOST.md §4.15)."""

from etamil_server.lang.loader import load_text
from etamil_server.web.app import App
from etamil_server.web.banners import async_banner, sync_banner

RULE = "\u2501" * 74


def test_sync_banner_lists_every_registration():
    app = App.from_program(load_text('வழி பதி, "/b" { }\nவழி பெறு, "/a" { }\nவழி பதி, "/b" { }'), mode="reference")
    assert sync_banner(app, "0.0.0.0", 0) == "\n".join(
        [
            RULE,
            "🚀 eTamil HTTP Server Started (Backend milestone 3 - Production Logging & Error Handling)",
            RULE,
            "📍 Listening on: http://0.0.0.0:0",
            "📋 Registered Routes:",
            "   POST /b",
            "   GET /a",
            "   POST /b",
            "   GET /health",
            "📊 Metrics & Logging: Enabled",
            RULE,
            "",
            "",
        ]
    )


def test_async_banner_sorted_without_health_with_timers():
    source = 'வழி பதி, "/b" { }\nவழி பெறு, "/z" { }\nவழி பதி, "/b" { }\nஇடைவெளி 3 { }\nஇடைவெளி 0.2 { }'
    app = App.from_program(load_text(source), mode="reference", health_route=False)
    assert async_banner(app, "127.0.0.1", 8080) == "\n".join(
        [
            "=== eTamil HTTP Server (--async) ===",
            "🚀 Starting server on 127.0.0.1:8080",
            "",
            RULE,
            "🚀 eTamil HTTP Server (--async)",
            RULE,
            "📍 Listening on: http://127.0.0.1:8080",
            "📋 Registered Routes:",
            "   GET /z",
            "   POST /b",
            "🧵 Handlers run on tokio's blocking pool; the VM stays synchronous",
            "   Press Ctrl-C to stop.",
            RULE,
            "",
            "⏱️  Scheduled job #1 every 3s",
            "⏱️  Scheduled job #2 every 1s",
            "",
        ]
    )


def test_async_banner_old_model():
    app = App.from_program(load_text("x = 1;"), mode="ours")
    text = async_banner(app, "h", 1)
    assert "\n\nℹ️  No வழி routes found; serving the whole program on /\n" + RULE in text
    assert "   DELETE /\n   GET /\n   POST /\n   PUT /\n" in text
