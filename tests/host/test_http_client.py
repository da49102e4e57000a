"""Outbound HTTP (HOST.md §6.3) against a local server on 127.0.0.1."""

import gzip
import json
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from etamil_server.host import http_client
from etamil_server.host.builtins import http_get, http_post, http_request
from etamil_server.runtime.builtins import BUILTINS
from etamil_server.runtime.values import Err, Ok

REQUEST_FAILED = "வலைக் கோரிக்கை தோல்வி  (the request never completed): "
BODY_FAILED = "பதிலைப் படிக்க முடியவில்லை  (cannot read the response body): "


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def reply(self, status: int, body: bytes = b"", headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        route = parts[0]
        if route == "echo":
            seen = {
                "method": self.command,
                "path": self.path,
                # raw header bytes as UTF-8: http.server decodes them as Latin-1
                "headers": [[k, v.encode("latin-1").decode("utf-8")] for k, v in self.headers.items()],
                "body": body.decode("utf-8"),
                "has_length": "Content-Length" in self.headers,
            }
            self.reply(200, json.dumps(seen).encode(), [("Content-Type", "application/json")])
        elif route == "status":
            self.reply(int(parts[1]), f"status {parts[1]}".encode())
        elif route == "headers":
            self.reply(200, b"h", [("X-Multi", "one"), ("X-Multi", "two"), ("X-MiXeD-Case", "V")])
        elif route == "redirect":  # /redirect/<code>?to=<location>
            self.reply(int(parts[1]), b"moved", [("Location", query["to"])])
        elif route == "chain":  # /chain/<n>: n redirects, then 200
            n = int(parts[1])
            if n:
                self.reply(302, b"", [("Location", f"/chain/{n - 1}")])
            else:
                self.reply(200, b"end of chain")
        elif route == "noloc":
            self.reply(int(parts[1]), b"no location here")
        elif route == "gzip":
            self.reply(200, gzip.compress("சுருக்கிய உரை".encode()), [("Content-Encoding", "gzip")])
        elif route == "badutf8":
            self.reply(200, b"a\xffb")
        elif route == "size":
            self.reply(200, b"x" * int(parts[1]))
        elif route == "close":  # no length: the body ends when the connection closes
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close")
            self.close_connection = True
        elif route == "slow-headers":
            time.sleep(2)
            self.reply(200, b"late")
        elif route == "slow-body":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"12345")
            self.wfile.flush()
            time.sleep(2)
            self.wfile.write(b"67890")
        else:
            self.reply(404, b"no route")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = handle_any


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that hang up early (the body-limit and TLS tests) are expected here


@pytest.fixture(scope="module")
def base():
    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def ok(result) -> dict:
    assert isinstance(result, Ok), result
    return result.value


def echoed(result) -> dict:
    record = ok(result)
    assert record["நிலைக்_குறி"] == Decimal(200)
    seen = json.loads(record["உடலுரை"])
    seen["headers"] = {k.lower(): v for k, v in seen["headers"]}
    return seen


def failure(result) -> str:
    assert isinstance(result, Err), result
    return result.value


def test_spellings_and_arity():
    assert BUILTINS["valY_peRu"] is BUILTINS["_httpGet"] is BUILTINS["வலை_பெறு"]
    assert BUILTINS["valY_paqi"] is BUILTINS["_httpPost"] is BUILTINS["வலை_பதி"]
    assert BUILTINS["valY_aZuppu"] is BUILTINS["_httpRequest"] is BUILTINS["வலை_அனுப்பு"]
    assert [BUILTINS[n].arity for n in ("_httpGet", "_httpPost", "_httpRequest")] == [2, 3, 4]
    assert all(BUILTINS[n].blocking for n in ("_httpGet", "_httpPost", "_httpRequest"))


def test_result_record_shape(base):
    record = ok(http_get(base + "/status/200", None))
    assert set(record) == {"நிலைக்_குறி", "உடலுரை", "தலைப்புகள்"}
    assert record["நிலைக்_குறி"] == Decimal(200) and type(record["நிலைக்_குறி"]) is Decimal
    assert record["உடலுரை"] == "status 200"
    assert record["தலைப்புகள்"]["content-length"] == "10"


@pytest.mark.parametrize("status", [201, 404, 418, 500, 503])
def test_any_status_is_a_success_result(base, status):
    record = ok(http_get(f"{base}/status/{status}", {}))
    assert record["நிலைக்_குறி"] == Decimal(status)
    assert record["உடலுரை"] == f"status {status}"


def test_response_headers_lower_cased_first_value_kept(base):
    headers = ok(http_get(base + "/headers", None))["தலைப்புகள்"]
    assert headers["x-multi"] == "one"
    assert headers["x-mixed-case"] == "V"
    assert all(name == name.lower() for name in headers)


def test_default_request_headers(base):
    headers = echoed(http_get(base + "/echo", None))["headers"]
    assert headers["user-agent"] == "etamil-server/0.1"
    assert headers["accept"] == "*/*"
    assert headers["accept-encoding"] == "gzip"
    assert headers["host"] == base.removeprefix("http://")


def test_given_headers_replace_defaults_and_render_values(base):
    seen = echoed(http_get(base + "/echo", {"user-agent": "mine/1", "X-Amount": Decimal("2.50"), "X-Flag": True}))
    headers = seen["headers"]
    assert headers["user-agent"] == "mine/1"
    assert headers["x-amount"] == "2.5" and headers["x-flag"] == "true"
    assert [k for k in seen["headers"] if k == "user-agent"] == ["user-agent"]


def test_non_ascii_header_value_goes_out_as_utf8(base):
    assert echoed(http_get(base + "/echo", {"X-Name": "வணக்கம்"}))["headers"]["x-name"] == "வணக்கம்"


@pytest.mark.parametrize("headers", [None, "x: y", [Decimal(1)], Decimal(5)])
def test_headers_that_are_not_a_record_mean_none(base, headers):
    seen = echoed(http_get(base + "/echo", headers))
    assert set(seen["headers"]) == {"host", "user-agent", "accept", "accept-encoding"}


def test_header_injection_is_refused(base):
    message = failure(http_get(base + "/echo", {"X-A": "1\r\nX-Evil: 2"}))
    assert message.startswith(REQUEST_FAILED)
    assert failure(http_get(base + "/echo", {"Bad Name": "1"})).startswith(REQUEST_FAILED)


def test_post_sends_rendered_body(base):
    seen = echoed(http_post(base + "/echo", {"b": Decimal("1.50"), "a": "x"}, {"Content-Type": "text/plain"}))
    assert seen["method"] == "POST"
    assert seen["body"] == "{a: x, b: 1.5}"
    assert seen["headers"]["content-length"] == str(len("{a: x, b: 1.5}"))
    assert seen["headers"]["content-type"] == "text/plain"


def test_post_with_nil_body_sends_the_text_nil(base):
    assert echoed(http_post(base + "/echo", None, None))["body"] == "nil"


def test_post_body_is_utf8(base):
    seen = echoed(http_post(base + "/echo", "தமிழ்", None))
    assert seen["body"] == "தமிழ்"
    assert seen["headers"]["content-length"] == str(len("தமிழ்".encode()))


def test_request_upper_cases_method_and_omits_nil_body(base):
    seen = echoed(http_request("put", base + "/echo", None, None))
    assert seen["method"] == "PUT" and seen["body"] == "" and not seen["has_length"]
    seen = echoed(http_request("delete", base + "/echo", "", None))
    assert seen["method"] == "DELETE" and seen["has_length"]
    seen = echoed(http_request("patch", base + "/echo", Decimal(7), {}))
    assert seen["method"] == "PATCH" and seen["body"] == "7"


def test_head_has_no_body(base):
    record = ok(http_request("HEAD", base + "/status/200", None, None))
    assert record["நிலைக்_குறி"] == Decimal(200) and record["உடலுரை"] == ""


def test_gzip_is_decompressed(base):
    assert ok(http_get(base + "/gzip", None))["உடலுரை"] == "சுருக்கிய உரை"


def test_invalid_utf8_is_replaced(base):
    assert ok(http_get(base + "/badutf8", None))["உடலுரை"] == "a\ufffdb"


def test_body_limit(base):
    assert len(ok(http_get(f"{base}/size/{http_client.MAX_BODY}", None))["உடலுரை"]) == http_client.MAX_BODY
    assert failure(http_get(f"{base}/size/{http_client.MAX_BODY + 1}", None)).startswith(BODY_FAILED)


def test_body_read_until_the_server_closes(base):
    record = ok(http_get(base + "/close", None))
    assert record["உடலுரை"] == "until close"
    assert record["தலைப்புகள்"]["connection"] == "close"


def test_non_ascii_url_is_percent_encoded(base):
    assert echoed(http_get(base + "/echo/அ?q=ஆ b", None))["path"] == "/echo/%E0%AE%85?q=%E0%AE%86%20b"


# -------------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("code", [301, 302, 303])
def test_post_redirect_becomes_get_without_body(base, code):
    seen = echoed(http_post(f"{base}/redirect/{code}?to=/echo", "payload", None))
    assert seen["method"] == "GET" and seen["body"] == "" and not seen["has_length"]


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_get_redirect_keeps_get(base, code):
    seen = echoed(http_get(f"{base}/redirect/{code}?to=/echo", None))
    assert seen["method"] == "GET" and seen["path"] == "/echo"


def test_head_and_options_follow_307(base):
    assert ok(http_request("HEAD", f"{base}/redirect/307?to=/status/202", None, None))["நிலைக்_குறி"] == 202
    seen = echoed(http_request("OPTIONS", f"{base}/redirect/308?to=/echo", None, None))
    assert seen["method"] == "OPTIONS"


@pytest.mark.parametrize(("method", "code"), [("POST", 307), ("PUT", 308), ("DELETE", 307)])
def test_307_308_not_followed_for_other_methods(base, method, code):
    record = ok(http_request(method, f"{base}/redirect/{code}?to=/echo", "x", None))
    assert record["நிலைக்_குறி"] == Decimal(code)
    assert record["உடலுரை"] == "moved"
    assert record["தலைப்புகள்"]["location"] == "/echo"


def test_authorization_and_cookie_dropped_when_following(base):
    headers = {"Authorization": "Bearer t", "Cookie": "s=1", "X-Keep": "yes"}
    seen = echoed(http_get(f"{base}/redirect/302?to=/echo", headers))["headers"]
    assert "authorization" not in seen and "cookie" not in seen
    assert seen["x-keep"] == "yes"
    direct = echoed(http_get(f"{base}/echo", headers))["headers"]
    assert direct["authorization"] == "Bearer t" and direct["cookie"] == "s=1"


def test_absolute_location(base):
    seen = echoed(http_get(f"{base}/redirect/302?to={base}/echo?from=abs", None))
    assert seen["path"] == "/echo?from=abs"


def test_three_hundred_without_location_is_returned(base):
    record = ok(http_get(f"{base}/noloc/302", None))
    assert record["நிலைக்_குறி"] == Decimal(302) and record["உடலுரை"] == "no location here"
    assert ok(http_get(f"{base}/noloc/304", None))["நிலைக்_குறி"] == Decimal(304)


def test_fifth_redirect_response_fails(base):
    assert ok(http_get(f"{base}/chain/4", None))["உடலுரை"] == "end of chain"
    assert failure(http_get(f"{base}/chain/5", None)).startswith(REQUEST_FAILED)


# --------------------------------------------------------------------------------- failures


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused(base):
    message = failure(http_get(f"http://127.0.0.1:{unused_port()}/", None))
    assert message.startswith(REQUEST_FAILED)
    assert "(os error 111)" in message  # the OS error rendered as the reference does


@pytest.mark.parametrize("url", ["", "no-scheme", "ftp://127.0.0.1/", "http://", "http://127.0.0.1:99999/", None])
def test_bad_urls_fail(url):
    assert failure(http_get(url, None)).startswith(REQUEST_FAILED)


def test_bad_method_fails(base):
    assert failure(http_request("GE T", base + "/echo", None, None)).startswith(REQUEST_FAILED)


def test_proxy_variables_are_ignored(base, monkeypatch):
    dead = f"http://127.0.0.1:{unused_port()}"
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    assert ok(http_get(base + "/status/200", None))["நிலைக்_குறி"] == Decimal(200)


def test_deadline_while_waiting_for_the_response(base, monkeypatch):
    monkeypatch.setattr(http_client, "TOTAL_TIMEOUT", 0.3)
    assert failure(http_get(base + "/slow-headers", None)).startswith(REQUEST_FAILED)


def test_deadline_while_reading_the_body(base, monkeypatch):
    monkeypatch.setattr(http_client, "TOTAL_TIMEOUT", 0.3)
    assert failure(http_get(base + "/slow-body", None)).startswith(BODY_FAILED)


@pytest.fixture(scope="module")
def self_signed_https(tmp_path_factory):
    """An HTTPS server whose certificate no public root vouches for."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server = QuietServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_untrusted_certificate_fails_the_request(self_signed_https):
    message = failure(http_get(self_signed_https + "/status/200", None))
    assert message.startswith(REQUEST_FAILED)
    assert "certificate" in message
