"""Route matching (HOST.md §4.4)."""

from etamil_server.web.router import Router


def make(*routes):
    return Router([(method, path, f"{method} {path}#{i}") for i, (method, path) in enumerate(routes)])


def test_exact_match_has_no_params():
    router = make(("GET", "/a/:id"), ("GET", "/a/new"))
    found = router.match("GET", "/a/new")
    assert found.handler == "GET /a/new#1"
    assert found.path_params == {}
    # the literal text of a pattern is an exact key too
    assert router.match("GET", "/a/:id").path_params == {}


def test_pattern_match_params_raw():
    router = make(("GET", "/order/:id/item/:name.pdf"))
    found = router.match("GET", "/order/%41/item/x")
    assert found.path_params == {"id": "%41", "name.pdf": "x"}


def test_method_is_case_insensitive_path_is_not():
    router = make(("GET", "/Users"))
    assert router.match("get", "/Users") is not None
    assert router.match("GET", "/users") is None


def test_slashes_insignificant_for_patterns():
    router = make(("GET", "/users"), ("GET", "items"))
    assert router.match("GET", "/users/").handler == "GET /users#0"
    assert router.match("GET", "//users").handler == "GET /users#0"
    assert router.match("GET", "/items").handler == "GET items#1"


def test_first_matching_pattern_in_source_order_wins():
    router = make(("GET", "/a/:x"), ("GET", "/:y/b"), ("GET", "/a/b/"))
    found = router.match("GET", "/a/b")
    assert found.handler == "GET /a/:x#0"
    assert found.path_params == {"x": "b"}


def test_colon_inside_segment_is_literal_and_counts_must_match():
    router = make(("GET", "/a:b/:c"))
    assert router.match("GET", "/a:b/1").path_params == {"c": "1"}
    assert router.match("GET", "/x:b/1") is None
    assert router.match("GET", "/a:b/1/2") is None


def test_duplicate_replaces_but_keeps_place():
    router = Router([("GET", "/x/:a", "first"), ("GET", "/:b/y", "other"), ("GET", "/x/:a", "second")])
    assert router.match("GET", "/x/y").handler == "second"
    assert router.keys() == ["GET /x/:a", "GET /:b/y"]


def test_wrong_method_and_query_never_matches():
    router = make(("POST", "/p"))
    assert router.match("GET", "/p") is None
    assert router.match("POST", "/p?x=1") is None


def test_root_and_double_slash():
    router = make(("GET", "/"))
    assert router.match("GET", "//").handler == "GET /#0"


def test_allowed_methods():
    router = make(("GET", "/a/:id"), ("DELETE", "/a/7"), ("POST", "/b"), ("PROPFIND", "/a/:x"))
    assert router.allowed_methods("/a/7") == ["GET", "DELETE", "PROPFIND"]
    assert router.allowed_methods("/a/8") == ["GET", "PROPFIND"]
    assert router.allowed_methods("/c") == []
