"""report.md for the stress scenarios (ramp, spike, sustained, shutdown); rendering only."""

from __future__ import annotations

from .loadtest_client import OUTCOMES
from .loadtest_format import mib, ms, notes, percent, rps, table, verdict_mark
from .loadtest_procs import MIB
from .loadtest_servers import ROUTES

OUTCOME_TITLES = {"ok": "2xx", "status": "other status", "refused": "refused", "connect": "connect error",
                  "unaccepted": "unaccepted (no answer, new connection)",
                  "dropped": "dropped (no answer, accepted connection)", "timeout": "timeout"}


def _met(flag: bool) -> str:
    return verdict_mark("met" if flag else "not met")


def _header(results: dict, title: str) -> list[str]:
    server, settings, machine = results["server"], results["settings"], results["machine"]
    return [
        f"# {title}", "",
        f"{results['started']} · figures in results.json, plots in report.png", "",
        f"- Server: **{server['title']}**: {server['command']}",
        f"- Route: `{ROUTES['read'].label}` (the read route of examples/ledger_api.qmz).",
        f"- Machine: {machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}, {machine['wrk']}; "
        f"load average {machine['load_average']:.2f} when the run began; the load generator runs on the same "
        "machine.",
        f"- Settings: SECONDS={settings['seconds']}"
        + (f", LEVELS=\"{' '.join(map(str, settings['levels']))}\"" if settings.get("levels_given") else "")
        + (f", DURATION={settings['duration']}" if results["kind"] == "sustained" else "") + ".",
        "",
    ]


def _idle(results: dict) -> list[str]:
    server = results["server"]
    before = sum(p["rss_bytes"] for p in server.get("idle_before", []))
    after = sum(p["rss_bytes"] for p in server.get("idle_after", []))
    if not before:
        return []
    text = f"Idle memory of all the server's processes: {before / MIB:.1f} MiB before the load"
    if server.get("idle_after"):
        text += f", {after / MIB:.1f} MiB after it"
    return [text + ".", ""]


def render_ramp(results: dict) -> list[str]:
    lines = _header(results, "Load test: ramp")
    knee, stopped = results["knee"], results["stopped_by"]
    if stopped:
        head = f"**Knee: {knee:,} connections**" if knee else "**Knee: below the first step**"
        lines += [head + f" (the next step, {stopped['connections']:,} connections, failed: {stopped['reason']}).",
                  ""]
    else:
        lines += [f"**Knee: above {knee:,} connections** (no step failed).", ""]
    lines += [f"A step fails on any error or a p99 above {results['p99_limit_ms']:g} ms; the ramp stops at the "
              "first failing step.", ""]
    rows = [[f"{s['connections']:,}", rps(s["rps"]), ms(s["p50_ms"]), ms(s["p95_ms"]), ms(s["p99_ms"]),
             str(s["error_total"]), mib(s["server_rss_peak_bytes"]), percent(s["server_cpu_percent"]),
             percent(s["wrk_cpu_percent"])] for s in results["steps"]]
    lines += table(["connections", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "RSS peak MiB (all)",
                    "server CPU", "wrk CPU"], rows)
    return lines + _idle(results) + notes(results)


def render_spike(results: dict) -> list[str]:
    lines = _header(results, "Load test: spike")
    base, spike, after = results["base"], results["spike"], results["after"]
    recovery = results["recovery_seconds"]
    lines += [
        f"From {1:g} request/s to {results['spike_requests']:,} requests within {spike['window_seconds']:g} s "
        f"(sent within {spike['sent_within_seconds']:.2f} s), then 1 request/s again; every request on its own "
        "connection.", "",
        f"- **All {results['spike_requests']:,} spike requests answered: "
        f"{'yes' if spike['all_answered'] else 'NO'}** ({spike['outcomes']['ok']:,} with 2xx; the outcomes below).",
        "- **Time back to the base p99: "
        + (f"{recovery:.2f} s" if recovery is not None else "not within the run") + "** after the spike began "
        f"(back = the first request after the spike's last slow or failed one answered 2xx within "
        f"{ms(results['threshold_ms'])} ms, {results['recovery_tolerance']}).",
        f"- The spike's last answer came {spike['drained_seconds']:.2f} s after its first request was sent.", "",
    ]
    rows = []
    for name, phase in (("base", base), ("spike", spike), ("after", after)):
        outcomes = phase["outcomes"]
        rows.append([name, f"{phase['requests']:,}", f"{outcomes['ok']:,}", str(outcomes["status"]),
                     str(outcomes["refused"]), str(outcomes["connect"]), str(outcomes["unaccepted"]),
                     str(outcomes["timeout"]), ms(phase["p50_ms"]), ms(phase["p99_ms"]), ms(phase["max_ms"])])
    lines += table(["phase", "sent", "2xx", "other status", "refused", "connect error", "no complete answer",
                    f"timeout ({results['timeout_seconds']:g} s)", "p50 ms", "p99 ms", "max ms"], rows)
    return lines + _idle(results) + notes(results)


def render_sustained(results: dict) -> list[str]:
    lines = _header(results, "Load test: sustained")
    samples, memory = results["samples"], results["memory"]
    lines += [f"{results['duration_seconds']:,} s at {results['connections']:,} connections, sampled every "
              f"{results['sample_seconds']} s ({len(samples)} samples); {results['errors_total']:,} errors in all.", ""]
    if memory.get("judged"):
        limit = results["growth_limit"] * 100
        lines += [
            f"- No memory growth: {_met(memory['met'])}. All processes: {memory['start_bytes'] / MIB:.1f} MiB "
            f"after the warm-up ({memory['warmup_samples']} samples skipped), {memory['end_bytes'] / MIB:.1f} MiB at "
            f"the end ({memory['growth'] * 100:+.1f} %); the second half's trend is "
            f"{memory['late_slope_mib_per_hour']:+.1f} MiB per hour ({memory['late_growth_per_hour'] * 100:+.1f} % "
            f"per hour; the whole run's {memory['slope_mib_per_hour']:+.1f}). Met when both stay within +{limit:g} %.",
        ]
    else:
        lines += [f"- No memory growth: not measured ({memory['reason']})."]
    timed = [s for s in samples if s["p99_ms"] is not None]
    if timed:
        worst = max(timed, key=lambda s: s["p99_ms"])
        lines += [f"- p99: {timed[0]['p99_ms']:.2f} ms in the first sample, {timed[-1]['p99_ms']:.2f} ms in the last, "
                  f"{worst['p99_ms']:.2f} ms at worst (at {worst['t']:.0f} s)."]
    lines.append("")
    step = max(1, len(samples) // 30)  # the table stays readable; results.json has every sample
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    rows = [[f"{s['t']:.0f}", rps(s["rps"]), ms(s["p50_ms"]), ms(s["p99_ms"]), str(s["error_total"]),
             mib(s["rss_total_bytes"]), percent(s["server_cpu_percent"])] for s in shown]
    lines += table(["t (s)", "req/s", "p50 ms", "p99 ms", "errors", "RSS all MiB", "server CPU"], rows)
    if step > 1:
        lines += [f"(every {step}th sample shown; results.json has all of them)", ""]
    return lines + _idle(results) + notes(results)


def render_shutdown(results: dict) -> list[str]:
    lines = _header(results, "Load test: shutdown under load")
    lines += [f"{results['connections']:,} keep-alive clients on the read route; SIGTERM to the master after "
              f"{results['term_at']:.1f} s" + (f", the master exited {results['drain_seconds']:.2f} s later."
                                               if results["drain_seconds"] is not None else ", it did not exit."),
              ""]
    lines += table(["check", "figure", "verdict"],
                   [[v["check"], v["figure"], _met(v["met"])] for v in results["verdicts"]])
    rows = []
    for phase, label in (("before_term", "sent before the TERM"), ("after_term", "sent after the TERM"),
                         ("all", "all")):
        counts = results["outcomes"][phase]
        rows.append([label] + [f"{counts[outcome]:,}" for outcome in OUTCOMES])
    lines += table(["requests"] + [OUTCOME_TITLES[outcome] for outcome in OUTCOMES], rows)
    lines += [f"Latency of the answered requests: p50 {ms(results['p50_ms'])} ms, p99 {ms(results['p99_ms'])} ms.",
              ""]
    return lines + _idle(results) + notes(results)


def _joined(render):
    return lambda results: "\n".join(render(results))


RENDERERS = {"ramp": _joined(render_ramp), "spike": _joined(render_spike), "sustained": _joined(render_sustained),
             "shutdown": _joined(render_shutdown)}
