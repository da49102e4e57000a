"""Mutual TLS for outbound HTTPS (HOST.md §7.3) against a local HTTPS server that requires a client
certificate, with a test CA made here; and every stderr message for half or unusable settings."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from etamil_server.host import builtins as host
from etamil_server.host import tls_settings
from etamil_server.runtime.values import Err, Ok

REQUEST_FAILED = "வலைக் கோரிக்கை தோல்வி  (the request never completed): "
REPO = Path(__file__).resolve().parents[2]
WAIT = 20


# ------------------------------------------------------------------------------ a test PKI


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key, issuer_name: x509.Name, issuer_key, *, ca=False, usage=None, names=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key, fmt=serialization.PrivateFormat.PKCS8) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def _pem_cert(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, written to ``directory``."""

    def __init__(self, directory: Path):
        import ipaddress

        self.dir = directory
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("eTamil test CA")
        ca = _certificate("eTamil test CA", ca_key, ca_name, ca_key, ca=True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _certificate("127.0.0.1", server_key, ca_name, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH,
                              names=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.client_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        client = _certificate("ledger-client", self.client_key, ca_name, ca_key,
                              usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        self.ca = self.write("ca.pem", _pem_cert(ca))
        self.server_cert = self.write("server.pem", _pem_cert(server))
        self.server_key = self.write("server.key", _pem_key(server_key))
        self.client_cert = self.write("client.pem", _pem_cert(client))
        self.client_key_pkcs8 = self.write("client.key", _pem_key(self.client_key))
        self.client_key_pkcs1 = self.write(
            "client-rsa.key", _pem_key(self.client_key, serialization.PrivateFormat.TraditionalOpenSSL)
        )
        other = ec.generate_private_key(ec.SECP256R1())
        self.other_key_sec1 = self.write("other-ec.key", _pem_key(other, serialization.PrivateFormat.TraditionalOpenSSL))

    def write(self, name: str, data: bytes) -> str:
        path = self.dir / name
        path.write_bytes(data)
        return str(path)


class MutualTlsServer:
    """HTTPS on 127.0.0.1 that insists on a client certificate from the test CA and answers with
    the certificate's common name."""

    def __init__(self, pki: Pki):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        context.load_verify_locations(pki.ca)
        context.verify_mode = ssl.CERT_REQUIRED
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}/who"
        self.handshake_errors: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(raw,), daemon=True).start()

    def _answer(self, raw: socket.socket) -> None:
        raw.settimeout(WAIT)
        try:
            with self.context.wrap_socket(raw, server_side=True) as conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                subject = conn.getpeercert()["subject"]
                name = dict(item[0] for item in subject)["commonName"]
                body = f"hello {name}".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        except (ssl.SSLError, OSError) as error:
            self.handshake_errors.append(str(error))
            raw.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def server(pki):
    running = MutualTlsServer(pki)
    yield running
    running.close()


@pytest.fixture
def fresh_process(monkeypatch):
    """A process that has not made an outbound request yet, with none of the variables set."""
    monkeypatch.setattr(tls_settings._Process, "loaded", False)
    monkeypatch.setattr(tls_settings._Process, "custom", None)
    monkeypatch.setattr(tls_settings._Process, "default", None)
    for name in (tls_settings.CERT_VARIABLE, tls_settings.KEY_VARIABLE, tls_settings.CA_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ------------------------------------------------------------------------------ requests


def test_with_the_pair_the_request_succeeds(pki, server, fresh_process, capsys):
    fresh_process.setenv(tls_settings.CERT_VARIABLE, pki.client_cert)
    fresh_process.setenv(tls_settings.KEY_VARIABLE, pki.client_key_pkcs8)
    fresh_process.setenv(tls_settings.CA_VARIABLE, pki.ca)
    result = host.http_get(server.url, {})
    assert isinstance(result, Ok), result
    assert result.value["நிலைக்_குறி"] == Decimal(200)
    assert result.value["உடலுரை"] == "hello ledger-client"
    assert capsys.readouterr().err == ""


def test_a_pkcs1_key_works_too(pki, server, fresh_process):
    fresh_process.setenv(tls_settings.CERT_VARIABLE, pki.client_cert)
    fresh_process.setenv(tls_settings.KEY_VARIABLE, pki.client_key_pkcs1)
    fresh_process.setenv(tls_settings.CA_VARIABLE, pki.ca)
    assert host.http_get(server.url, {}).value["உடலுரை"] == "hello ledger-client"


def test_without_the_pair_the_handshake_fails(pki, server, fresh_process):
    fresh_process.setenv(tls_settings.CA_VARIABLE, pki.ca)  # the server is trusted, we present nothing
    result = host.http_get(server.url, {})
    assert isinstance(result, Err) and result.value.startswith(REQUEST_FAILED + server.url + ": ")
    deadline = time.monotonic() + WAIT  # the server thread records why it refused us
    while not server.handshake_errors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("CERTIFICATE" in error.upper() for error in server.handshake_errors), server.handshake_errors


def test_without_the_extra_ca_the_server_is_not_trusted(pki, server, fresh_process):
    fresh_process.setenv(tls_settings.CERT_VARIABLE, pki.client_cert)
    fresh_process.setenv(tls_settings.KEY_VARIABLE, pki.client_key_pkcs8)
    result = host.http_get(server.url, {})
    assert isinstance(result, Err) and "CERTIFICATE_VERIFY_FAILED" in result.value


def test_half_a_pair_is_reported_and_the_request_goes_without_identity_or_ca(pki, server, fresh_process, capsys):
    fresh_process.setenv(tls_settings.CERT_VARIABLE, pki.client_cert)
    fresh_process.setenv(tls_settings.CA_VARIABLE, pki.ca)
    first = host.http_get(server.url, {})
    second = host.http_get(server.url, {})
    # no extra CA either: the server's certificate is not trusted
    assert "CERTIFICATE_VERIFY_FAILED" in first.value and "CERTIFICATE_VERIFY_FAILED" in second.value
    assert capsys.readouterr().err == (
        "✗ ETAMIL_TLS_CERT is set but ETAMIL_TLS_KEY is not\n  a certificate cannot be presented without its key\n"
    )  # once per process, at the first request


def test_unusable_files_fall_back_to_the_public_roots(pki, server, fresh_process, capsys, tmp_path):
    fresh_process.setenv(tls_settings.CERT_VARIABLE, pki.client_cert)
    fresh_process.setenv(tls_settings.KEY_VARIABLE, str(tmp_path / "missing.key"))
    fresh_process.setenv(tls_settings.CA_VARIABLE, pki.ca)
    result = host.http_get(server.url, {})
    assert "CERTIFICATE_VERIFY_FAILED" in result.value
    assert capsys.readouterr().err == (
        f"✗ the TLS settings could not be used: '{tmp_path / 'missing.key'}' could not be read: "
        "No such file or directory (os error 2)\n"
        "  outbound HTTPS will fall back to the public roots and no identity\n"
    )


def test_settings_are_read_at_the_first_request_of_any_kind(fresh_process, capsys):
    fresh_process.setenv(tls_settings.KEY_VARIABLE, "k.pem")
    host.http_get("http://127.0.0.1:1/", {})  # refused: plain HTTP, still the first request
    assert capsys.readouterr().err == (
        "✗ ETAMIL_TLS_KEY is set but ETAMIL_TLS_CERT is not\n  a key proves nothing without the certificate it belongs to\n"
    )


def _run_program(tmp_path: Path, source: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    program = tmp_path / "client.qmz"
    program.write_text(source, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ETAMIL_TLS_")}
    environment.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8", **env)
    return subprocess.run([sys.executable, "-m", "etamil_server", "run", str(program)], capture_output=True,
                          text=True, env=environment, timeout=60)


def test_through_the_command_line(pki, server, tmp_path):
    """The whole path: the variables of the process, read at the first request."""
    source = 'r = வலை_பெறு(சூழல்("URL", ""), {}); அச்சு மதிப்பு(r).உடலுரை;'
    completed = _run_program(tmp_path, source, {
        "URL": server.url, tls_settings.CERT_VARIABLE: pki.client_cert,
        tls_settings.KEY_VARIABLE: pki.client_key_pkcs1, tls_settings.CA_VARIABLE: pki.ca,
    })
    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "hello ledger-client\n", "")
    source = 'அச்சு "start"; r = வலை_பெறு(சூழல்("URL", ""), {}); அச்சு தவறா(r);'
    completed = _run_program(tmp_path, source, {"URL": server.url, tls_settings.KEY_VARIABLE: pki.client_key_pkcs8})
    assert (completed.returncode, completed.stdout) == (0, "start\ntrue\n")
    assert completed.stderr == "\n".join(tls_settings.KEY_WITHOUT_CERT) + "\n"


# ------------------------------------------------------------------------------ every message


def messages(**env: str) -> list[str]:
    names = {"cert": tls_settings.CERT_VARIABLE, "key": tls_settings.KEY_VARIABLE, "ca": tls_settings.CA_VARIABLE}
    context, lines = tls_settings.configured_context({names[k]: v for k, v in env.items()})
    assert (context is None) == bool(lines)
    return lines


def unusable(why: str) -> list[str]:
    return [tls_settings.UNUSABLE + why, tls_settings.FALLBACK]


def test_nothing_set_or_empty_is_the_ordinary_context():
    assert tls_settings.configured_context({}) == (None, [])
    assert tls_settings.configured_context({tls_settings.CERT_VARIABLE: "", tls_settings.CA_VARIABLE: ""}) == (None, [])


def test_usable_settings(pki):
    assert messages(cert=pki.client_cert, key=pki.client_key_pkcs8) == []
    assert messages(ca=pki.ca) == []
    assert messages(cert=pki.client_cert, key=pki.client_key_pkcs1, ca=pki.ca) == []


def test_half_pairs(pki):
    assert messages(cert=pki.client_cert) == tls_settings.CERT_WITHOUT_KEY
    assert messages(cert=pki.client_cert, ca=pki.ca) == tls_settings.CERT_WITHOUT_KEY
    assert messages(key=pki.client_key_pkcs8) == tls_settings.KEY_WITHOUT_CERT


def test_every_unusable_file(pki, tmp_path):
    def file(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    missing = str(tmp_path / "missing.pem")
    key_only = pki.client_key_pkcs8
    not_pem = file("broken.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n")
    bad_base64 = file("bad64.pem", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
    garbage_der = file("garbage.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    encrypted = file("encrypted.key", pki.client_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")))
    read_error = "No such file or directory (os error 2)"

    assert messages(ca=missing) == unusable(f"'{missing}' could not be read: {read_error}")
    assert messages(ca=not_pem) == unusable(
        f"'{not_pem}' is not a PEM certificate: section end \"-----END CERTIFICATE-----\" missing")
    assert messages(ca=bad_base64)[0].startswith(
        f"{tls_settings.UNUSABLE}'{bad_base64}' is not a PEM certificate: base64 decode error: ")
    assert messages(ca=key_only) == unusable(f"ETAMIL_TLS_CA '{key_only}' holds no certificate")
    assert messages(ca=garbage_der)[0].startswith(f"{tls_settings.UNUSABLE}ETAMIL_TLS_CA '{garbage_der}' was not usable: ")
    assert messages(cert=missing, key=key_only) == unusable(f"'{missing}' could not be read: {read_error}")
    assert messages(cert=key_only, key=key_only) == unusable(f"'{key_only}' holds no certificate")
    assert messages(cert=pki.client_cert, key=not_pem) == unusable(
        f"'{not_pem}' is not a PEM private key: section end \"-----END CERTIFICATE-----\" missing")
    assert messages(cert=pki.client_cert, key=pki.client_cert) == unusable(
        f"'{pki.client_cert}' holds no private key  (expected PKCS#8, SEC1 or PKCS#1 PEM)")
    assert messages(cert=pki.client_cert, key=encrypted) == unusable(
        f"'{encrypted}' holds no private key  (expected PKCS#8, SEC1 or PKCS#1 PEM)")
    mismatch = messages(cert=pki.client_cert, key=pki.other_key_sec1)  # a SEC1 key, but not this certificate's
    assert mismatch[0].startswith(f"{tls_settings.UNUSABLE}the certificate and key were not accepted together: ")
    assert mismatch[1] == tls_settings.FALLBACK
    assert messages(cert=garbage_der, key=key_only)[0].startswith(
        f"{tls_settings.UNUSABLE}the certificate and key were not accepted together: ")
    # the CA is looked at first
    assert messages(cert=missing, key=missing, ca=key_only) == unusable(f"ETAMIL_TLS_CA '{key_only}' holds no certificate")


def test_pem_sections_ignore_text_around_them(pki):
    data = b"Bag Attributes\n    friendlyName: x\n" + Path(pki.client_cert).read_bytes() + b"trailing words\n"
    sections = tls_settings.pem_sections(data)
    assert [label for label, _ in sections] == ["CERTIFICATE"]
    assert x509.load_der_x509_certificate(sections[0][1]).subject.rfc4514_string() == "CN=ledger-client"
