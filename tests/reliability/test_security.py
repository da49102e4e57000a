"""Scenario 13: the security of the defaults (issue 11).

* With ETAMIL_DATA_DIR set, a program's file builtins cannot be steered outside it: ``..``,
  absolute paths and symlinks leading out are refused like an unreadable file, in-process for
  every builtin and through the real server from a request's query string.
* Request bodies, headers, paths and query strings reach SQL only as bound parameters: SQL
  injection classics sent to the example API (examples/ledger_api.qmz, SQLite and PostgreSQL)
  are stored verbatim as data, and the table holds exactly the rows written.
* Error bodies never carry a Python traceback, a path of the server's files or a database
  password.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
import urllib.parse
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import Gunicorn, exchange, get

from etamil_server.base.errors import EtamilError
from etamil_server.host import datadir, files
from etamil_server.host.builtins import file_save
from etamil_server.host.packages import read_entry
from etamil_server.host.services import HOST_SERVICES
from etamil_server.lang.loader import load_text
from etamil_server.runtime.compiler import compile_program
from etamil_server.runtime.context import RunContext
from etamil_server.runtime.values import Err, Ok
from etamil_server.web.builtins import save_upload
from etamil_server.web.response import read_file_bytes

REPO = Path(__file__).resolve().parents[2]
SECRET = "the secret outside the data directory"
REFUSED = datadir.OUTSIDE + " (os error 13)"


@pytest.fixture
def fenced(tmp_path, monkeypatch):
    """A data directory with a file and two symlinks leading out, a secret beside it, and the
    working directory somewhere else entirely."""
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "inside.txt").write_text("inside\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (data / "link.txt").symlink_to(outside / "secret.txt")
    (data / "linkdir").symlink_to(outside)
    (data / "dangling.txt").symlink_to(outside / "created-through-a-link.txt")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("ETAMIL_DATA_DIR", str(data))
    return data, outside


#: Names that lead out of the data directory, each a different way.
ESCAPES = [
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "{outside}/secret.txt",
    "link.txt",
    "linkdir/secret.txt",
    "sub/../link.txt",
]


def ok_value(result):
    assert isinstance(result, Ok), getattr(result, "value", result)
    return result.value


def escape_names(outside: Path) -> list[str]:
    return [name.format(outside=outside) for name in ESCAPES]


def test_names_inside_are_taken_in_the_data_directory(fenced):
    data, _ = fenced
    assert files.file_read("inside.txt") == "inside"
    assert files.file_read(str(data / "inside.txt")) == "inside"  # an absolute path inside is fine
    assert files.file_read("sub/../inside.txt") == "inside"
    files.file_append_line("sub/new.csv", "id,amount")
    files.file_append_line("sub/new.csv", "1,2.50")
    assert (data / "sub" / "new.csv").read_text() == "id,amount\n1,2.50\n"
    assert files.csv_count("sub/new.csv") == Decimal(1)
    assert ok_value(file_save("saved.txt", "x")) == Decimal(1)
    assert (data / "saved.txt").read_text() == "x"
    assert not Path("saved.txt").exists()  # not in the working directory


@pytest.mark.parametrize("index", range(len(ESCAPES)), ids=ESCAPES)
def test_every_file_builtin_refuses_names_leading_out(fenced, index):
    data, outside = fenced
    name = escape_names(outside)[index]
    before = sorted(p.name for p in outside.iterdir())
    for operation in (files.file_read, files.csv_count):
        with pytest.raises(EtamilError) as refused:
            operation(name)
        assert refused.value.message.endswith(REFUSED)
        assert SECRET not in refused.value.message and str(data) not in refused.value.message
    with pytest.raises(EtamilError) as refused:
        files.file_append_line(name, "overwritten")
    assert refused.value.message.endswith(REFUSED)
    with pytest.raises(EtamilError):
        files.file_open(name, "write")
    saved = file_save(name, "overwritten")
    assert isinstance(saved, Err) and saved.value.endswith(REFUSED)
    assert isinstance(read_entry(name, "content.xml"), Err)
    with pytest.raises(OSError):
        read_file_bytes(name)
    assert (outside / "secret.txt").read_text() == SECRET  # nothing written through
    assert sorted(p.name for p in outside.iterdir()) == before


def test_a_dangling_symlink_cannot_create_a_file_outside(fenced):
    _, outside = fenced
    with pytest.raises(EtamilError):
        files.file_append_line("dangling.txt", "x")
    assert isinstance(file_save("dangling.txt", "x"), Err)
    assert not (outside / "created-through-a-link.txt").exists()


def test_uploads_and_packages_are_fenced_too(fenced):
    data, outside = fenced
    ctx = RunContext(services=HOST_SERVICES)
    ctx.uploads = [({}, b"payload")]  # what the multipart parser leaves for the run
    assert ok_value(save_upload(ctx, Decimal(0), "up.bin")) == Decimal(7)
    assert (data / "up.bin").read_bytes() == b"payload"
    refused = save_upload(ctx, Decimal(0), "../outside/up.bin")
    assert isinstance(refused, Err) and refused.value.endswith(REFUSED)
    assert not (outside / "up.bin").exists()
    with zipfile.ZipFile(outside / "p.odt", "w") as archive:
        archive.writestr("content.xml", "secret package")
    (data / "q.odt").write_bytes((outside / "p.odt").read_bytes())
    assert ok_value(read_entry("q.odt", "content.xml")) == "secret package"
    refused = read_entry("../outside/p.odt", "content.xml")
    assert isinstance(refused, Err) and refused.value.endswith(REFUSED)


def test_a_program_reading_a_request_path_is_fenced(fenced):
    program = load_text('கோப்பு_படி request_body, உள்ளது; அச்சு உள்ளது;')
    compiled = compile_program(program.statements, inputs={"request_body"})
    out = io.StringIO()
    compiled.run(RunContext(services=HOST_SERVICES, stdout=out), inject={"request_body": "inside.txt"})
    assert out.getvalue() == "inside\n"
    with pytest.raises(EtamilError) as refused:
        compiled.run(RunContext(services=HOST_SERVICES, stdout=io.StringIO()), inject={"request_body": "../outside/secret.txt"})
    assert "(cannot read '../outside/secret.txt'): " + REFUSED in refused.value.message


def test_without_a_data_directory_names_are_as_given(tmp_path, monkeypatch):
    monkeypatch.delenv("ETAMIL_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("a")
    assert files.file_read("a.txt") == "a"
    assert files.file_read(str(tmp_path / "a.txt")) == "a"


# ---------------------------------------------------------------------------- through the server


FILES_PROGRAM = """
வழி பெறு, "/read" {
    கோப்பு_படி query_params["path"], உள்ளது;
    பதில் 200, உள்ளது, {"Content-Type": "text/plain"};
}
வழி பெறு, "/send" {
    முடிவு = பதில்_கோப்பு(200, query_params["path"], {"Content-Type": "text/plain"});
    (தவறா(முடிவு)) எனில் { பதில் 404, தவறு_மதிப்பு(முடிவு), {"Content-Type": "text/plain"}; }
}
வழி பெறு, "/direct" {
    response_file = query_params["path"];
}
"""


def server_paths(tmp_path: Path) -> list[str]:
    """Texts no error body may contain: the server's own directories and files."""
    return [str(tmp_path), str(REPO), "/usr/lib/python", sys.prefix, "site-packages", ".py\"", "Traceback"]


def assert_clean(body: bytes, forbidden: list[str]) -> None:
    text = body.decode("utf-8", "replace")
    for fragment in forbidden:
        assert fragment not in text, (fragment, text)


def test_a_query_string_cannot_steer_the_server_out_of_the_data_directory(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "inside.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text(SECRET)
    (data / "link.txt").symlink_to(tmp_path / "secret.txt")
    server = Gunicorn(tmp_path, FILES_PROGRAM, processes=1, env={"ETAMIL_DATA_DIR": str(data)})
    try:
        server.wait_ready()
        for route in ("/read", "/send", "/direct"):
            status, _, body, _ = get(server.port, f"{route}?path=inside.txt")
            assert (status, body) == ("HTTP/1.1 200 OK", b"inside"), route
        names = ["../secret.txt", str(tmp_path / "secret.txt"), "link.txt", "%2e%2e/secret.txt", "..%2fsecret.txt",
                 "./../secret.txt", "/etc/passwd"]
        answered = {}
        for route in ("/read", "/send", "/direct"):
            for name in names:
                target = f"{route}?path={name if '%' in name else urllib.parse.quote(name)}"
                status, _, body, _ = get(server.port, target)
                answered[status] = answered.get(status, 0) + 1
                assert status in ("HTTP/1.1 500 Internal Server Error", "HTTP/1.1 404 Not Found"), (target, status)
                assert SECRET.encode() not in body and b"root:" not in body
                # the message names the file as the request gave it; nothing else of the server's
                assert_clean(body.replace(urllib.parse.unquote(name).encode(), b"<name>"), server_paths(tmp_path))
        print(f"\ndata directory: {sum(answered.values())} escape attempts, answers {answered}, none read")
    finally:
        server.stop()


# ---------------------------------------------------------------------------- SQL injection


CLASSICS = [
    "' OR '1'='1",
    "'; DROP TABLE entries; --",
    "x'); DELETE FROM entries; --",
    "1; UPDATE entries SET amount = 0",
    "' UNION SELECT id, amount, note FROM entries --",
    "\\'; DROP TABLE entries; --",
    "$1",
    "?",
    "%s",
    "'||(SELECT 'x')||'",
    "\u02bc OR 1=1 --",
    "Robert'); DROP TABLE students;--",
]


def ledger_server(tmp_path: Path, env: dict) -> Gunicorn:
    source = (REPO / "examples" / "ledger_api.qmz").read_text(encoding="utf-8")
    return Gunicorn(tmp_path, source, processes=2, env=env, name="ledger_api.qmz").wait_ready()


def post(port: int, target: str, body: bytes, extra: str = ""):
    head = f"POST {target} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
    return exchange(port, head + body)


def attack(port: int) -> list[tuple[str, str]]:
    """Send every classic as the account (path), the note (body), a header and a query string;
    the rows that must now exist, as (account, note)."""
    written: list[tuple[str, str]] = []
    for classic in CLASSICS:
        account = urllib.parse.quote(classic, safe="")
        body = json.dumps({"amount": "1.25", "note": classic}, ensure_ascii=False).encode()  # the reference reads no \\u escapes
        status, _, answer, _ = post(port, f"/accounts/{account}/entries", body, f"X-Note: {classic.encode('utf-8').decode('latin-1')}\r\n")
        assert status == "HTTP/1.1 201 Created", (classic, status, answer)
        written.append((classic, classic))
        status, _, answer, _ = post(port, "/accounts/plain/entries", json.dumps({"amount": classic, "note": "n"}).encode())
        assert status == "HTTP/1.1 400 Bad Request", (classic, status, answer)  # not a number: refused, nothing run
        status, _, answer, _ = get(port, f"/accounts/{account}/balance?name={account}")
        assert status == "HTTP/1.1 200 OK", (classic, status, answer)
        reply = json.loads(answer)
        assert reply["account"] == classic and reply["entries"] == 1, reply  # its own row, and only it
        status, _, answer, _ = get(port, f"/gst?amount={account}&rate={account}")
        assert status == "HTTP/1.1 400 Bad Request"
    return written


def test_sql_injection_classics_are_data_on_sqlite(tmp_path):
    database = tmp_path / "ledger.db"
    server = ledger_server(tmp_path, {"LEDGER_DB": str(database), "LEDGER_PG": ""})
    try:
        written = attack(server.port)
    finally:
        server.stop()
    with sqlite3.connect(database) as connection:
        tables = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        rows = connection.execute("SELECT account, note, amount FROM entries ORDER BY id").fetchall()
    assert tables == ["entries", "sqlite_sequence"]
    assert [(account, note) for account, note, _ in rows] == written
    assert {amount for _, _, amount in rows} == {"1.25"}
    print(f"\nSQLite: {len(CLASSICS)} classics x (path, body, header, query): {len(rows)} rows, all verbatim")


def _postgres_or_skip():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        return psycopg2, psycopg2.connect("host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3")
    except psycopg2.OperationalError as error:
        if os.environ.get("ETAMIL_TEST_REQUIRE_SERVICES") == "1":
            raise
        pytest.skip(f"PostgreSQL is not running on 127.0.0.1:5432 ({error})")


def test_sql_injection_classics_are_data_on_postgresql(tmp_path):
    psycopg2, admin = _postgres_or_skip()
    name = f"etamil_faults_{uuid.uuid4().hex[:10]}"
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        server = ledger_server(tmp_path, {"LEDGER_PG": url})
        try:
            written = attack(server.port)
        finally:
            server.stop()
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            tables = sorted(row[0] for row in cursor.fetchall())
            cursor.execute("SELECT account, note, amount FROM entries ORDER BY id")
            rows = cursor.fetchall()
        connection.close()
        assert tables == ["entries"]
        assert [(account, note) for account, note, _ in rows] == written
        assert {amount for _, _, amount in rows} == {Decimal("1.25")}
        print(f"\nPostgreSQL: {len(rows)} rows, all verbatim, one table")
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


# ---------------------------------------------------------------------------- error bodies


LEAKY_PROGRAM = """
வழி பெறு, "/db" {
    தளம்_இணை போச்குரசீகுல், "postgresql://etamil:hunter2-password@127.0.0.1:1/nowhere?connect_timeout=2";
    தளம்_வினா "SELECT 1", [], r;
    பதில் 200, "connected", {};
}
வழி பெறு, "/db-pairs" {
    தளம்_இணை போச்குரசீகுல், "host=127.0.0.1 port=1 user=etamil password=hunter2-password connect_timeout=2";
    பதில் 200, "connected", {};
}
வழி பெறு, "/sqlite" {
    தளம்_இணை சீகுலைட், "/nonexistent-dir/x.db";
    தளம்_செய் "SELECT 1", [];
}
வழி பெறு, "/undefined" { x = இல்லாத; }
வழி பெறு, "/divide" { x = 1 / 0; }
வழி பெறு, "/deep" { செயல் f(n) { திரும்பு f(n + 1); } x = f(1); }
வழி பெறு, "/file" { கோப்பு_படி "missing.txt", x; }
வழி பெறு, "/json" { பதில் 200, ஜேசான்_ஆக்கு(request_body), {}; }
"""


def test_error_bodies_leak_no_traceback_path_or_password(tmp_path):
    server = Gunicorn(tmp_path, LEAKY_PROGRAM, processes=1)
    try:
        server.wait_ready()
        forbidden = [*server_paths(tmp_path), "hunter2"]
        seen = {}
        for target in ("/db", "/db-pairs", "/sqlite", "/undefined", "/divide", "/deep", "/file", "/json",
                       "/nowhere", "/%ff%fe", "/" + "a" * 9000):
            status, _, body, _ = get(server.port, target)
            seen[target[:20]] = status.split(" ", 2)[1]
            assert not status.startswith("HTTP/1.1 2"), (target, status)
            assert_clean(body, forbidden)
        for raw in (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n",
                    b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40):
            try:
                status, _, body, _ = exchange(server.port, raw)
            except ConnectionError:
                continue  # a clean close is an answer too
            assert_clean(body, forbidden)
        assert "hunter2" not in server.stderr  # the logs do not carry it either
        assert "Traceback" not in server.stderr
        print(f"\nerror bodies: {seen}")
    finally:
        server.stop()
