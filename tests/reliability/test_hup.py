"""Scenario 2: HUP with a changed program under load. The example API with a release route whose
answer carries its version three times — a prelude constant, a function of an imported module,
the route's own text — and once more in a header: a half-loaded program would mix them. Under
read and write load a HUP with v2 on disk loses nothing, answers switch to v2, every answer is
one version throughout, and every write answered 2xx is in the database. A broken edit (a syntax
error in the program or in its module) keeps v1 serving, with nothing lost."""

from __future__ import annotations

import json
import signal

import ledger
import pytest
from loadgen import LoadGen, get_request, report

# "VERSION" is replaced by the version (the ledger's source has braces of its own)
PROGRAM = 'இறக்கு "release.qmz";\n' + ledger.SOURCE + '''
பதிப்பு_முன் = "VERSION";
வழி பெறு, "/release" {
    பதில் 200, ஜேசான்_ஆக்கு({prelude: பதிப்பு_முன், module: வெளியீட்டு_பதிப்பு(), route: "VERSION"}), {"Content-Type": "application/json", "X-Release": "VERSION"};
}
'''
MODULE = 'செயல் வெளியீட்டு_பதிப்பு() { திரும்பு "VERSION"; }\n'
BROKEN = {"program": ("app", 'வழி பெறு, "/release" { பதில் 200, ; }\n'), "module": ("module", "செயல் வெளியீட்டு_பதிப்பு( {\n")}


def release(template: str, version: str) -> str:
    return template.replace("VERSION", version)


def start(gunicorn, version: str):
    server = gunicorn(release(PROGRAM, version), processes=2, name=ledger.NAME)
    write_module(server, release(MODULE, version))
    return server.wait_ready()


def write_module(server, text: str) -> None:
    (server.tmp_path / "release.qmz").write_text(text, encoding="utf-8")


def versions(load: LoadGen, phase: str | None = None) -> list[str]:
    """The version of every /release answer; fails on one that mixes versions."""
    seen = []
    for attempt in load.attempts(phase):
        if attempt.outcome != "answered":
            continue
        assert attempt.status == 200, (attempt.status, attempt.headers, attempt.body)
        answer = json.loads(attempt.body)
        parts = {answer["prelude"], answer["module"], answer["route"], attempt.headers["x-release"]}
        assert len(parts) == 1, f"an answer from a half-loaded program: {answer} X-Release {attempt.headers['x-release']}"
        seen.append(parts.pop())
    return seen


def assert_nothing_lost(*loads: LoadGen) -> None:
    for load in loads:
        summary = load.summary()
        assert (summary.losses, summary.refused, summary.unconnected) == (0, 0, 0), [str(a) for a in load.losses()[:5]]
        assert summary.answered == summary.ok > 0


def test_hup_switches_to_the_new_program_with_nothing_lost(gunicorn):
    server = start(gunicorn, "v1")
    old = set(server.workers())
    writes = ledger.Writes("hup")
    with LoadGen(server.port, get_request("/release"), connections=8, duration=45) as reads, \
            LoadGen(server.port, writes, connections=4, duration=45) as posts:
        reads.wait_for(400)
        server.program.write_text(release(PROGRAM, "v2"), encoding="utf-8")
        write_module(server, release(MODULE, "v2"))
        reads.mark("reloading")
        server.signal(signal.SIGHUP)
        server.wait_for_workers(2, exclude=old)
        reads.mark("reloaded")
        reads.wait_for(reads.summary().answered + 400)
    seen = versions(reads)
    after = versions(reads, "reloaded")
    counts = ledger.check_rows(ledger.sqlite_rows(server.tmp_path / "ledger.db", "hup"), writes, posts.writes_ok(), posts.writes_lost())
    report(
        "2. HUP with a changed program",
        f"reads: {reads.summary()}",
        f"writes: {posts.summary()}",
        f"answers by version: v1 {seen.count('v1'):,}, v2 {seen.count('v2'):,}; once the old workers were gone: v2 {after.count('v2'):,} of {len(after):,}",
        f"database: {counts['rows']:,} rows = {counts['answered_2xx']:,} writes answered 2xx",
    )
    assert_nothing_lost(reads, posts)
    assert seen.count("v1") > 0 and seen.count("v2") > 0
    assert after and set(after) == {"v2"}
    assert counts["rows"] == counts["answered_2xx"]


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_hup_with_a_broken_edit_keeps_the_running_version(gunicorn, broken):
    server = start(gunicorn, "v1")
    old = set(server.workers())
    where, text = BROKEN[broken]
    with LoadGen(server.port, get_request("/release"), connections=8, duration=45) as reads:
        reads.wait_for(300)
        if where == "app":
            server.program.write_text(text, encoding="utf-8")
        else:
            write_module(server, text)
        server.signal(signal.SIGHUP)
        server.wait_for_workers(2, exclude=old)  # gunicorn still cycles the workers, with v1
        reads.mark("after")
        reads.wait_for(reads.summary().answered + 300)
    seen = versions(reads)
    report(f"2. HUP with a broken {broken}", f"reads: {reads.summary()}", f"answers by version: {sorted(set(seen))}")
    assert_nothing_lost(reads)
    assert set(seen) == {"v1"} and versions(reads, "after")
    assert "reload of ledger_api.qmz failed" in server.stderr
    assert server.process.poll() is None
