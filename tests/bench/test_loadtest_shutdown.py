"""The shutdown scenario for real, bounded (about 10 s): SIGTERM to our gunicorn master under
keep-alive load, judged from the clients' side."""

from __future__ import annotations

import json

from bench.loadtest import main


def test_shutdown_under_load_drops_nothing_and_exits_0(tmp_path, wrk_installed, plotting, capsys):
    assert main(["--scenario", "shutdown", "--seconds", "2", "--levels", "20", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "shutdown · 20 keep-alive clients · SIGTERM after 2 s" in out
    folder = next(tmp_path.iterdir())
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["kind"] == "shutdown" and results["connections"] == 20
    totals = results["outcomes"]["all"]
    assert totals["ok"] > 0 and totals["dropped"] == 0 and totals["timeout"] == 0 and totals["status"] == 0
    assert results["outcomes"]["before_term"]["refused"] == 0
    assert results["exit_status"] == 0 and results["drain_seconds"] is not None
    assert all(verdict["met"] for verdict in results["verdicts"])
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "| no accepted request dropped |" in report and "NOT met" not in report
    assert (folder / "report.png").stat().st_size > 10_000
