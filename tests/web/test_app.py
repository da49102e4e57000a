"""Programs served as applications: routes, prelude, timers, dispatch and handler runs
(HOST.md §4.2-4.13), with small eTamil programs."""

import io
import json

import pytest

from etamil_server.base.errors import EtamilExit
from etamil_server.base.terminal import shown_path
from etamil_server.host.services import HOST_SERVICES
from etamil_server.lang.loader import load_path, load_text
from etamil_server.runtime.context import RunContext
from etamil_server.web.app import App, StartupError
from etamil_server.web.endpoints import ServerEndpoints
from etamil_server.web.request import Request
from etamil_server.web.response import serialize


def app_of(source, mode="reference", **options):
    return App.from_program(load_text(source), mode=mode, **options)


def call(app, method, target, body=b"", headers=(), ready=None, out=None):
    """Dispatch and run one request; returns (response, dispatch)."""
    request = Request.from_target(method, target, list(headers), body)
    dispatch = app.dispatch(request, ServerEndpoints(ready))
    if dispatch.route is None:
        return dispatch.response, dispatch
    ctx = RunContext(services=HOST_SERVICES, stdout=out if out is not None else io.StringIO())
    return app.run_route(dispatch, request, ctx), dispatch


def text(response):
    return response.body.decode()


# ------------------------------------------------------------------------------ prelude and state

PRELUDE_PROGRAM = """
அச்சு "prelude";
எண்ணிக்கை = 0;
வழி பெறு, "/count" {
    எண்ணிக்கை = எண்ணிக்கை + 1;
    பதில் 200, எண்ணிக்கை;
}
செயல் இரட்டை(x) { திரும்பு x * 2; }
வழி பெறு, "/double/:n" {
    பதில் 200, இரட்டை(param_n);
}
"""


def test_prelude_runs_per_request_and_no_state_survives():
    app = app_of(PRELUDE_PROGRAM)
    out = io.StringIO()
    first, _ = call(app, "GET", "/count", out=out)
    second, _ = call(app, "GET", "/count", out=out)
    assert text(first) == text(second) == "1"
    assert out.getvalue() == "prelude\nprelude\n"


def test_prelude_function_defined_after_route_is_callable():
    response, _ = call(app_of(PRELUDE_PROGRAM), "GET", "/double/21")
    assert text(response) == "42"


def test_nothing_runs_at_startup(capsys):
    app_of(PRELUDE_PROGRAM)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------------------------ routing

ROUTES = """
வழி பெறு, "/a/:x" { பதில் 200, "first " & param_x; }
வழி பெறு, "/:y/b" { பதில் 200, "second " & param_y; }
வழி பெறு, "/a/new" { பதில் 200, "exact"; }
வழி பதி, "/a/:x" { பதில் 201, path_params; }
"""


def test_first_matching_param_route_wins_and_exact_wins():
    app = app_of(ROUTES)
    assert text(call(app, "GET", "/a/b")[0]) == "first b"
    assert text(call(app, "GET", "/z/b")[0]) == "second z"
    assert text(call(app, "GET", "/a/new")[0]) == "exact"
    assert text(call(app, "post", "/a/%41")[0]) == "{x: %41}"


def test_request_variables_visible_to_handler():
    app = app_of(
        """
        வழி பதி, "/echo" {
            பதில் 200, request_method & " " & request_path & " " & query_params["q"] & " "
                & headers["x-name"] & " " & request_body;
        }
        """
    )
    response, _ = call(app, "post", "/echo?q=a+b", b"body", [("X-Name", " ravi ")])
    assert text(response) == "post /echo a b ravi body"


def test_duplicate_route_replaces_but_banner_lists_both():
    app = app_of('வழி பெறு, "/d" { பதில் 200, "one"; }\nவழி பெறு, "/d" { பதில் 200, "two"; }')
    assert text(call(app, "GET", "/d")[0]) == "two"
    assert [route.label for route in app.routes] == ["GET /d", "GET /d", "GET /health"]


def test_custom_method_identifier():
    app = app_of('வழி purge, "/cache" { பதில் 200, request_method; }')
    assert text(call(app, "PURGE", "/cache")[0]) == "PURGE"


# ------------------------------------------------------------------------------ the old model

OLD = """
(request_method == "POST") எனில் {
    response_status = 201;
    response_body = "பதிவானது";
}
இன்றேல் {
    response_body = "வாருங்கள்";
}
இடைவெளி 1 { அச்சு "never"; }
"""


def test_old_model_serves_root_for_four_methods():
    app = app_of(OLD)
    assert not app.has_routes
    assert app.timers == []
    assert [route.label for route in app.routes] == ["GET /", "POST /", "PUT /", "DELETE /", "GET /health"]
    created, _ = call(app, "POST", "/")
    assert (created.status, text(created)) == (201, "பதிவானது")
    assert serialize(created, mode="reference", keep_alive=False).startswith(
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
    )
    assert text(call(app, "GET", "//")[0]) == "வாருங்கள்"
    assert call(app, "GET", "/x")[0].status == 404
    assert call(app, "PATCH", "/")[0].status == 404


def test_program_that_sets_nothing():
    response, _ = call(app_of('x = 1;'), "GET", "/")
    assert (response.status, text(response)) == (200, "Handler executed successfully")


# ------------------------------------------------------------------------------ start-up errors


def test_timer_interval_must_be_literal_and_is_checked_before_routes():
    registered = []
    source = 'n = 5;\nவழி பெறு, p { }\nஇடைவெளி n { }'
    with pytest.raises(StartupError) as error:
        app_of(source, on_register=lambda m, p: registered.append((m, p)))
    assert str(error.value).startswith("இடைவெளி needs a literal number of seconds, got ")
    assert "Variable(\"n\")" in str(error.value)
    assert registered == []


def test_route_path_must_be_literal_and_earlier_routes_are_registered():
    registered = []
    source = 'வழி பெறு, "/ok" { }\nவழி பெறு, "/" & "x" { }'
    with pytest.raises(StartupError) as error:
        app_of(source, on_register=lambda m, p: registered.append(f"{m} {p}"))
    assert str(error.value).startswith("வழி needs a literal path, got ")
    assert registered == ["GET /ok"]


def test_timer_seconds():
    app = app_of('வழி பெறு, "/" { }\nஇடைவெளி 2.9 { }\nஇடைவெளி 50% { }\nஇடைவெளி 0 { }')
    assert [(t.index, t.seconds) for t in app.timers] == [(1, 2), (2, 1), (3, 1)]


# ------------------------------------------------------------------------------ response variables


def test_top_level_assignment_sets_status():
    app = app_of('response_status = 404;\nவழி பெறு, "/" { response_body = "gone"; }')
    response, _ = call(app, "GET", "/")
    assert (response.status, text(response)) == (404, "gone")
    assert serialize(response, mode="reference", keep_alive=False).startswith(b"HTTP/1.1 404 OK\r\n")


def test_assignment_inside_function_is_local_but_respond_writes_global():
    app = app_of(
        """
        செயல் local_only() { response_status = 500; response_body = "local"; திரும்பு 0; }
        செயல் answer() { பதில் 202, "from function"; திரும்பு 0; }
        வழி பெறு, "/local" { local_only(); }
        வழி பெறு, "/respond" { answer(); }
        """
    )
    local, _ = call(app, "GET", "/local")
    assert (local.status, text(local)) == (200, "Handler executed successfully")
    responded, _ = call(app, "GET", "/respond")
    assert (responded.status, text(responded)) == (202, "from function")


def test_last_respond_wins_and_text_status_ignored():
    app = app_of('வழி பெறு, "/" { பதில் 201, "a"; பதில் "404", "b", {"X-A": 1}; }')
    response, _ = call(app, "GET", "/")
    assert (response.status, text(response)) == (200, "b")
    assert ("X-A", "1") in response.headers


def test_respond_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.csv").write_bytes(b"a,b\n")
    app = app_of(
        """
        வழி பெறு, "/f" { r = பதில்_கோப்பு("201", "report.csv", {"X": "y"}); }
        வழி பெறு, "/missing" { பதில் 200, பதில்_கோப்பு(200, "nope.csv", {}); }
        """
    )
    response, _ = call(app, "GET", "/f")
    assert (response.status, response.body) == (201, b"a,b\n")
    assert response.headers == [("Content-Type", "application/octet-stream"), ("X", "y")]
    missing, _ = call(app, "GET", "/missing")
    assert text(missing) == "தவறு(கோப்பு 'nope.csv' இல்லை  (no such file 'nope.csv'))"


# ------------------------------------------------------------------------------ failures


def test_runtime_error_gives_500_with_valid_json(capsys, server_log):
    app = app_of('வழி பெறு, "/" { x = query_params["a\\"b"]; }')
    response, _ = call(app, "GET", "/")
    assert response.status == 500
    body = json.loads(response.body)
    assert body["error"].startswith("Handler error: ")
    assert 'a"b' in body["error"]
    assert serialize(response, mode="reference", keep_alive=False).startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    err = capsys.readouterr().err
    assert err.startswith("❌ Handler execution error: ")
    assert err.endswith("\n")


def test_the_error_line_names_the_route_file_and_line(tmp_path, capsys, server_log):
    path = tmp_path / "shop.qmz"
    path.write_text('x = 0;\nவழி பெறு, "/pay" {\n    y = 1 / x;\n}\n', encoding="utf-8")
    app = App.from_program(load_path(str(path)), mode="ours")
    request = Request.from_target("GET", "/pay", [], b"")
    request.request_id = "r-7"
    ctx = RunContext(services=HOST_SERVICES, stdout=io.StringIO())
    response = app.run_route(app.dispatch(request, ServerEndpoints(None)), request, ctx)
    assert response.status == 500
    err = capsys.readouterr().err
    assert f'[route="GET /pay" file={json.dumps(shown_path(str(path)))} line="3" request_id="r-7"]' in err


def test_deadline_gives_503():
    app = app_of('வழி பெறு, "/" { (மெய்) சுற்று { x = 1; } }')
    request = Request.from_target("GET", "/")
    ctx = RunContext(services=HOST_SERVICES, stdout=io.StringIO())
    ctx.stop.append("deadline")
    response = app.run_route(app.dispatch(request), request, ctx)
    assert response.status == 503
    assert "error" in json.loads(response.body)


def test_exit_propagates():
    app = app_of('வழி பெறு, "/" { வெளியேறு(3); }')
    with pytest.raises(EtamilExit) as stop:
        call(app, "GET", "/")
    assert stop.value.status == 3


def test_context_released_after_run():
    class Ctx(RunContext):
        released = 0

        def release(self):
            Ctx.released += 1

    app = app_of('வழி பெறு, "/" { x = nope; }')
    request = Request.from_target("GET", "/")
    app.run_route(app.dispatch(request), request, Ctx(stdout=io.StringIO()))
    assert Ctx.released == 1


# ------------------------------------------------------------------------------ timers


def test_timer_runs_prelude_and_body_and_reports_failure(capsys, server_log):
    app = app_of('அச்சு "p";\nவழி பெறு, "/" { }\nஇடைவெளி 5 { அச்சு "tick"; }\nஇடைவெளி 7 { x = request_method; }')
    out = io.StringIO()
    assert app.timers[0].run(RunContext(services=HOST_SERVICES, stdout=out)) is True
    assert out.getvalue() == "p\ntick\n"
    assert app.timers[1].run(RunContext(services=HOST_SERVICES, stdout=out)) is False
    assert capsys.readouterr().err == (
        "❌ இடைவெளி #2 every 7s failed: அறிவிக்கப்படாத மாறி 'request_method'  (undefined variable 'request_method')\n"
    )


# ------------------------------------------------------------------------------ uploads


def test_multipart_upload_saved(tmp_path):
    body = (
        b"--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        b"--B\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"d.bin\"\r\n\r\n\x00\xff\r\n--B--\r\n"
    )
    target = tmp_path / "saved.bin"
    app = app_of(
        'வழி பதி, "/up" { பதில் 200, request_fields["note"] & " " & request_files[0]["அளவு"] & " "'
        f' & பதிவேற்றம்_சேமி(0, "{target}") & " " & பதிவேற்றம்_சேமி(1, "x"); }}'
    )
    response, _ = call(app, "POST", "/up", body, [("Content-Type", "multipart/form-data; boundary=B")])
    assert text(response) == "hello 2 சரி(2) தவறு(பதிவேற்றம் 1 இல்லை  (no upload at 1))"
    assert target.read_bytes() == b"\x00\xff"


# ------------------------------------------------------------------------------ properties


def test_uses_database_and_blocking():
    app = app_of('செயல் f() { தளம்_இணை SQLite, ":memory:"; }\nவழி பெறு, "/" { }\nவழி பெறு, "/f" { f(); }')
    assert app.uses_database
    by_path = {route.path: route for route in app.routes}
    assert not by_path["/"].blocking
    assert by_path["/f"].blocking
    assert not app_of('வழி பெறு, "/" { }').uses_database


# ------------------------------------------------------------------------------ reference dispatch


def test_reference_health_prints_200_and_replaces_user_route():
    app = app_of('வழி பெறு, "/health" { பதில் 500, "mine"; }')
    out = io.StringIO()
    response, _ = call(app, "GET", "/health", out=out)
    assert (response.status, text(response)) == (200, "Handler executed successfully")
    assert out.getvalue() == "200\n"


def test_reference_no_405_head_or_options():
    app = app_of('வழி பெறு, "/x" { பதில் 200, "body"; }', health_route=False)
    for method in ("POST", "HEAD", "OPTIONS"):
        response, _ = call(app, method, "/x")
        assert (response.status, text(response)) == (404, '{"error": "Not Found"}')
    assert call(app, "GET", "/health")[0].status == 404


def test_reference_head_route_sends_body():
    app = app_of('வழி தலை, "/h" { பதில் 200, "body"; }')
    response, dispatch = call(app, "HEAD", "/h")
    assert text(response) == "body"
    assert serialize(response, mode="reference", keep_alive=False).endswith(b"\r\n\r\nbody")


# ------------------------------------------------------------------------------ ours dispatch

OURS = """
வழி பெறு, "/items/:id" { பதில் 200, "item " & param_id; }
வழி அழி, "/items/:id" { பதில் 204, ""; }
"""


def test_ours_head_served_by_get_without_body():
    app = app_of(OURS, mode="ours")
    response, dispatch = call(app, "HEAD", "/items/3")
    assert dispatch.route is not None and dispatch.route.label == "GET /items/:id"
    assert text(response) == "item 3"
    data = serialize(response, mode="ours", keep_alive=True, head=True)
    assert b"Content-Length: 6\r\n" in data and data.endswith(b"\r\n\r\n")


def test_ours_405_with_allow_and_404():
    app = app_of(OURS, mode="ours")
    response, _ = call(app, "POST", "/items/3")
    assert response.status == 405
    assert response.header("Allow") == "GET, DELETE, HEAD, OPTIONS"
    assert json.loads(response.body) == {"error": "Method Not Allowed"}
    assert call(app, "GET", "/nothing")[0].status == 404


def test_ours_options_preflight():
    app = app_of(OURS, mode="ours")
    response, _ = call(app, "OPTIONS", "/items/3", headers=[("Access-Control-Request-Method", "DELETE")])
    assert response.status == 204
    data = serialize(response, mode="ours", keep_alive=True)
    assert b"Access-Control-Allow-Origin: *\r\n" in data
    assert b"Allow: GET, DELETE, HEAD, OPTIONS\r\n" in data
    options_route = app_of('வழி தெரிவு, "/o" { பதில் 200, "mine"; }', mode="ours")
    assert text(call(options_route, "OPTIONS", "/o")[0]) == "mine"


def test_ours_health_and_ready():
    app = app_of(OURS, mode="ours")
    health, _ = call(app, "GET", "/health")
    assert (health.status, text(health)) == (200, '{"status": "healthy"}')
    ready, _ = call(app, "GET", "/ready", ready=lambda: None)
    assert (ready.status, text(ready)) == (200, '{"status": "ready"}')
    draining, _ = call(app, "GET", "/ready", ready=lambda: "draining")
    assert (draining.status, text(draining)) == (503, '{"status": "draining"}')
    assert call(app, "POST", "/health")[0].status == 405


def test_ours_program_health_wins():
    app = app_of('வழி பெறு, "/health" { பதில் 200, "mine"; }', mode="ours")
    assert text(call(app, "GET", "/health")[0]) == "mine"


def test_path_parameters_decoded_in_ours_raw_in_reference():
    source = 'வழி பெறு, "/a/:name" { பதில் 200, param_name & "|" & path_params["name"]; }'
    assert text(call(app_of(source, mode="ours"), "GET", "/a/x%20y%E0%AE%85")[0]) == "x yஅ|x yஅ"
    assert text(call(app_of(source, mode="ours"), "GET", "/a/100%25")[0]) == "100%|100%"
    assert text(call(app_of(source, mode="ours"), "GET", "/a/%ZZ")[0]) == "%ZZ|%ZZ"
    assert text(call(app_of(source, mode="reference"), "GET", "/a/x%20y")[0]) == "x%20y|x%20y"


# ------------------------------------------------------------------------------ database unavailable


def _unreachable_postgres_program() -> str:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the connect is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f'''
வழி பெறு, "/db" {{
    தளம்_இணை போச்குரசீகுல், "postgresql://postgres@127.0.0.1:{port}/x";
    பதில் 200, "connected";
}}
'''


def test_an_unreachable_database_is_503_and_tells_readiness(monkeypatch):
    from etamil_server.web import resources

    monkeypatch.setattr(resources, "_last_failure", None)
    response, _ = call(app_of(_unreachable_postgres_program(), mode="ours"), "GET", "/db")
    assert response.status == 503
    error = json.loads(response.body)["error"]
    assert error.startswith("Database unavailable: போச்குரசீகுல் இணைக்க முடியவில்லை  (cannot connect to PostgreSQL): ")
    assert resources.database_failure_since(0.0).startswith("database unavailable: ")


def test_the_reference_server_keeps_the_500_for_an_unreachable_database():
    response, _ = call(app_of(_unreachable_postgres_program(), mode="reference"), "GET", "/db")
    assert response.status == 500
    assert json.loads(response.body)["error"].startswith("Handler error: போச்குரசீகுல் இணைக்க முடியவில்லை")
