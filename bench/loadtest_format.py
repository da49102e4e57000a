"""Formatting shared by the load test's reports (report.md of a comparison and of each
scenario): figures as table cells, markdown tables, verdicts, the run's notes."""

from __future__ import annotations

from .loadtest_procs import MIB


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def rps(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def mib(value: int | None) -> str:
    return "—" if value is None else f"{value / MIB:.1f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def verdict_mark(verdict: str) -> str:
    return {"met": "**met**", "not met": "**NOT met**"}.get(verdict, verdict)


def notes(results: dict) -> list[str]:
    if not results.get("notes"):
        return []
    return ["## Notes", ""] + [f"- {note}" for note in results["notes"]] + [""]
