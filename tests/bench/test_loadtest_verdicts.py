"""The judgements the reports make, from made-up figures: the plan's metrics, the ramp's knee,
the memory-growth verdict, the spike's recovery."""

from __future__ import annotations

from bench.loadtest_compare import metrics, ratios
from bench.loadtest_measure import Settings
from bench.loadtest_scenarios import failure_reason, find_knee, memory_growth
from bench.loadtest_spike import analyse, percentile, recovery_seconds, recovery_threshold, schedule


def run(route: str, connections: int, rps: float, p50: float = 5.0, p99: float = 50.0, errors: int = 0) -> dict:
    return {"route": route, "connections": connections, "rps": rps, "p50_ms": p50, "p95_ms": p99 * 0.8,
            "p99_ms": p99, "requests": int(rps * 10), "error_total": errors,
            "errors": {"status": 0, "connect": 0, "read": 0, "write": 0, "timeout": errors}}


def comparison(ours_runs: list[dict], base_runs: list[dict]) -> dict:
    results = {"servers": {"ours": {"runs": ours_runs}, "baseline": {"runs": base_runs}}}
    results["ratios"] = ratios(results)
    return results


def by_metric(judged: list[dict], name: str, route: str = "read") -> dict:
    return next(m for m in judged if m["metric"].startswith(name) and m["route"] == route)


def test_metrics_met_not_met_and_not_measured():
    results = comparison(
        [run("read", 100, 20000, p50=4, p99=30), run("read", 1000, 15000, errors=0),
         run("write", 100, 500, p50=25, p99=400), run("write", 1000, 400, errors=12)],
        [run("read", 100, 100), run("write", 100, 100)],
    )
    judged = metrics(results, Settings())
    assert by_metric(judged, "1,000+")["verdict"] == "met"
    assert by_metric(judged, "1,000+", "write")["verdict"] == "not met"
    assert by_metric(judged, "p50")["verdict"] == "met"
    assert by_metric(judged, "p50", "write")["verdict"] == "not met"
    assert by_metric(judged, "p99", "write")["figure"] == "400.00 ms"
    ratio = by_metric(judged, "100×")
    assert ratio["verdict"] == "met" and ratio["value"] == 200.0
    assert by_metric(judged, "100×", "write")["verdict"] == "not met"
    assert by_metric(judged, "no memory growth")["verdict"] == "not measured"


def test_metrics_without_the_levels_they_need_are_not_measured():
    judged = metrics(comparison([run("read", 10, 5000)], [run("read", 10, 1000)]), Settings(levels=(10,)))
    assert {m["verdict"] for m in judged} == {"not measured"}
    assert by_metric(judged, "1,000+")["figure"] == "no level ≥ 1,000 in LEVELS"


def test_ratios_pair_the_same_route_and_level_only():
    found = ratios(comparison([run("read", 10, 3000), run("read", 100, 5000)], [run("read", 10, 1000)]))
    assert found == [{"route": "read", "connections": 10, "ours_rps": 3000, "baseline_rps": 1000, "ratio": 3.0}]


def test_the_knee_is_the_last_step_before_errors_or_a_slow_p99():
    steps = [run("read", 10, 1000, p99=5), run("read", 100, 2000, p99=60), run("read", 200, 2100, p99=140)]
    assert failure_reason(steps[1]) is None
    assert failure_reason(steps[2]) == "p99 140.0 ms > 100 ms"
    assert find_knee(steps) == (100, {"connections": 200, "reason": "p99 140.0 ms > 100 ms"})
    erring = [run("read", 10, 1000, p99=5, errors=3)]
    assert find_knee(erring) == (None, {"connections": 10, "reason": "3 errors (timeout 3)"})
    assert find_knee(steps[:2]) == (100, None)


def samples(values_mib: list[float]) -> list[dict]:
    return [{"t": 10.0 * (i + 1), "rss_total_bytes": int(v * 1024 * 1024)} for i, v in enumerate(values_mib)]


def test_memory_that_settles_is_no_growth():
    verdict = memory_growth(samples([80, 95, 100, 100.5, 100.2, 100.4, 100.3, 100.6, 100.4, 100.5, 100.4]))
    assert verdict["judged"] and verdict["met"]
    assert abs(verdict["growth"]) < 0.05


def test_memory_still_climbing_at_the_end_is_growth_even_when_small_so_far():
    verdict = memory_growth(samples([100 + 0.2 * i for i in range(12)]))
    assert verdict["growth"] < 0.05  # under 5 % so far...
    assert not verdict["met"]  # ...but +7 MiB per 10 minutes is no steady state
    assert verdict["late_slope_mib_per_hour"] > 50


def test_a_run_too_short_is_not_judged():
    assert memory_growth(samples([100, 100, 100]))["judged"] is False


def test_schedule_has_the_base_the_spike_within_its_second_and_the_after():
    plan = schedule(3, 5, spike_requests=1000)
    phases = [phase for _, phase in plan]
    assert (phases.count("base"), phases.count("spike"), phases.count("after")) == (3, 1000, 5)
    spike_times = [t for t, phase in plan if phase == "spike"]
    assert spike_times[0] == 3 and spike_times[-1] < 4
    assert [t for t, phase in plan if phase == "after"][0] == 4


def test_percentile_is_nearest_rank():
    assert percentile([], 99) is None
    assert percentile([5.0], 50) == 5.0
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([3, 1, 2], 50) == 2


def record(phase: str, sent: float, latency: float | None, outcome: str = "ok") -> dict:
    return {"phase": phase, "sent": sent, "finished": sent + (latency or 0) / 1000, "latency_ms": latency,
            "outcome": outcome, "status": 200 if outcome == "ok" else None}


def test_recovery_is_measured_from_the_spike_s_last_slow_request():
    records = [record("base", 0, 2.0), record("base", 1, 2.0),
               record("spike", 2.0, 50.0), record("spike", 2.5, 80.0), record("spike", 2.9, 2.1),
               record("after", 3.0, 2.2), record("after", 4.0, 30.0)]  # a late noisy probe is not the spike's
    threshold = recovery_threshold(2.0)
    assert threshold == 3.0
    assert abs(recovery_seconds(records, 2.0, threshold) - 0.9) < 1e-9


def test_no_slow_spike_request_means_no_recovery_needed_and_failures_count_as_slow():
    fast = [record("base", 0, 2.0), record("spike", 1.0, 2.0), record("after", 2.0, 2.0)]
    assert recovery_seconds(fast, 1.0, 3.0) == 0.0
    failed = [record("base", 0, 2.0), record("spike", 1.0, None, "refused")]
    assert recovery_seconds(failed, 1.0, 3.0) is None


def test_analyse_tells_answered_from_refused_and_unanswered():
    records = [record("base", 0, 2.0), record("base", 1, 2.0)]
    records += [record("spike", 2 + i / 10, 5.0) for i in range(7)]
    records += [record("spike", 2.7, None, "refused"), record("spike", 2.8, None, "unaccepted"),
                record("spike", 2.9, None, "timeout")]
    records += [record("after", 3.0, 2.0)]
    summary = analyse(records, spike_requests=10)
    spike = summary["spike"]
    assert spike["answered"] == 7 and not spike["all_answered"]
    assert (spike["outcomes"]["refused"], spike["outcomes"]["unaccepted"], spike["outcomes"]["timeout"]) == (1, 1, 1)
    assert summary["base"]["p99_ms"] == 2.0
    assert summary["recovery_seconds"] is not None and abs(summary["recovery_seconds"] - 1.0) < 1e-9
