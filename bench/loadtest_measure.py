"""What every scenario shares: the run's settings, and one measured load level (a wrk run with
the server's memory sampled while it runs and its CPU read before and after), as a plain dict
that goes into results.json unchanged."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .loadtest_procs import MIB, RssSampler, cpu_delta
from .loadtest_servers import Route, Server
from .loadtest_wrk import DEFAULT_TIMEOUT, run_wrk

DEFAULT_LEVELS = (1, 10, 100, 1000)
DEFAULT_SECONDS = 10
DEFAULT_DURATION = 600
SAMPLE_EVERY = 10  # seconds: the sustained scenario's sampling period
BASELINE_MAX_CONNECTIONS = 1000  # the baseline serves one request at a time: no level above this
SETTLE_LIMIT = 10.0  # seconds to wait for a server to go quiet between levels


@dataclass
class Settings:
    seconds: int = DEFAULT_SECONDS  # per level
    levels: tuple[int, ...] = DEFAULT_LEVELS
    levels_given: bool = False
    scenario: str = "compare"
    duration: int = DEFAULT_DURATION
    url: str | None = None
    results_dir: Path = Path("loadtest-results")
    timeout: int = DEFAULT_TIMEOUT
    baseline_max: int = BASELINE_MAX_CONNECTIONS

    @property
    def warmup(self) -> int:
        """An unmeasured run before a route's levels: connections open, caches fill."""
        return min(2, self.seconds)

    def to_json(self) -> dict:
        return {
            "seconds": self.seconds, "levels": list(self.levels), "levels_given": self.levels_given,
            "scenario": self.scenario,
            "duration": self.duration, "url": self.url, "warmup_seconds": self.warmup,
            "wrk_timeout_seconds": self.timeout, "baseline_max_connections": self.baseline_max,
        }


def settle(server: Server, limit: float = SETTLE_LIMIT) -> float:
    """Wait until the server's processes are quiet (under 5 % of a core for 0.3 s): the baseline
    still answers connections a finished wrk left in its queue, a write may still be running.
    Returns the seconds waited."""
    if server.group is None:
        time.sleep(0.5)
        return 0.5
    began = time.monotonic()
    while time.monotonic() - began < limit:
        before = server.group.cpu()
        time.sleep(0.3)
        used = sum(cpu_delta(before, server.group.cpu()).values())
        if used < 0.05 * 0.3:
            break
    return time.monotonic() - began


def idle_memory(server: Server) -> list[dict]:
    if server.group is None:
        return []
    return [{"pid": pid, "label": server.group.label(pid), "rss_bytes": value}
            for pid, value in sorted(server.group.rss().items())]


def measure(server: Server, route: Route, connections: int, seconds: int, settings: Settings) -> dict:
    """One level: wrk for ``seconds`` at ``connections``, memory and CPU of every server process."""
    group = server.group
    cpu_before = group.cpu() if group else {}
    began = time.monotonic()
    if group is not None:
        with RssSampler(group) as sampler:
            result = run_wrk(server.url, route.request, connections, seconds, timeout=settings.timeout,
                             closes_after_response=server.closes_after_response)
        cpu = cpu_delta(cpu_before, group.cpu())
    else:
        sampler = None
        result = run_wrk(server.url, route.request, connections, seconds, timeout=settings.timeout,
                         closes_after_response=server.closes_after_response)
        cpu = {}
    wall = time.monotonic() - began
    record = {"route": route.name, "wall_seconds": wall, **result.to_json()}
    processes = []
    for pid in sorted(set(cpu) | set(sampler.peak if sampler else {})):
        processes.append({
            "pid": pid,
            "label": group.label(pid),
            "rss_peak_bytes": sampler.peak.get(pid),
            "rss_end_bytes": sampler.last.get(pid),
            "cpu_seconds": cpu.get(pid, 0.0),
        })
    record["processes"] = processes
    record["server_cpu_seconds"] = sum(cpu.values()) if group else None
    record["server_cpu_percent"] = 100 * sum(cpu.values()) / wall if group else None
    record["server_rss_peak_bytes"] = sum(p["rss_peak_bytes"] or 0 for p in processes) if group else None
    record["wrk_cpu_percent"] = 100 * result.wrk_cpu_seconds / wall
    return record


def summary_line(record: dict) -> str:
    """One line for the progress output."""
    p99 = record["p99_ms"]
    memory = record.get("server_rss_peak_bytes")
    return (f"    → {record['rps']:,.0f} req/s, p50 {_ms(record['p50_ms'])}, p99 {_ms(p99)}, "
            f"errors {record['error_total']}" + (f", RSS {memory / MIB:.0f} MiB" if memory else ""))


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"
