"""Mutual TLS for outbound HTTPS (HOST.md §7.3): ``ETAMIL_TLS_CERT`` + ``ETAMIL_TLS_KEY`` (a client
certificate chain and its key, PEM) and ``ETAMIL_TLS_CA`` (extra trusted certificates, PEM).

Read once per process, at the first outbound request. Half a pair, or files that cannot be used,
print the spec's two lines on stderr and the process goes on with the fallback the spec gives
(no identity, and for half a pair no extra CA either): the reference sends such requests
anonymously rather than refusing them (HOST.md §7.3 "docs ≠ code").

The PEM files are read here, section by section, the way the reference's PEM reader does, so that
the spec's messages ("holds no certificate", "holds no private key  (expected PKCS#8, SEC1 or
PKCS#1 PEM)") come out for the same files; the ``{lib}`` texts are ours (PEM syntax) or
OpenSSL's (through Python's ``ssl``), not rustls'. The identity that was read is handed to
``ssl`` through an in-memory file (``memfd``), so what is loaded is exactly what was checked.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import sys
import tempfile
import threading
from collections.abc import Mapping

from ..base.errors import io_error_text

CERT_VARIABLE, KEY_VARIABLE, CA_VARIABLE = "ETAMIL_TLS_CERT", "ETAMIL_TLS_KEY", "ETAMIL_TLS_CA"
CERT_WITHOUT_KEY = [
    "✗ ETAMIL_TLS_CERT is set but ETAMIL_TLS_KEY is not",
    "  a certificate cannot be presented without its key",
]
KEY_WITHOUT_CERT = [
    "✗ ETAMIL_TLS_KEY is set but ETAMIL_TLS_CERT is not",
    "  a key proves nothing without the certificate it belongs to",
]
UNUSABLE = "✗ the TLS settings could not be used: "
FALLBACK = "  outbound HTTPS will fall back to the public roots and no identity"

#: PEM labels of the private keys the reference reads: PKCS#1, PKCS#8, SEC1.
KEY_LABELS = ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY")


class Unusable(Exception):
    """A TLS file cannot be used; ``why`` is the spec's ``{why}`` text."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


# ------------------------------------------------------------------------------ PEM


def pem_sections(data: bytes) -> list[tuple[str, bytes]]:
    """Every ``-----BEGIN X----- … -----END X-----`` section as (label, DER); text outside the
    sections is ignored. ``ValueError`` (the message is the ``{lib}`` text) for a section without
    its end, a section opened inside another, or a body that is not base64."""
    sections: list[tuple[str, bytes]] = []
    label: str | None = None
    body: list[bytes] = []
    for raw_line in data.splitlines():
        line = raw_line.strip()
        if line.startswith(b"-----BEGIN ") and line.endswith(b"-----"):
            if label is not None:
                raise ValueError(f"illegal section start: {line.decode('latin-1')}")
            label = line[11:-5].decode("latin-1")
            body = []
        elif label is not None and line.startswith(b"-----END "):
            if line != f"-----END {label}-----".encode("latin-1"):
                raise ValueError(f'section end "-----END {label}-----" missing')
            try:
                sections.append((label, base64.b64decode(b"".join(body), validate=True)))
            except binascii.Error as error:
                raise ValueError(f"base64 decode error: {error}") from None
            label = None
        elif label is not None:
            body.append(line)
    if label is not None:
        raise ValueError(f'section end "-----END {label}-----" missing')
    return sections


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise Unusable(f"'{path}' could not be read: {io_error_text(error)}") from None
    except ValueError:
        raise Unusable(f"'{path}' could not be read: file name contained an unexpected NUL byte") from None


def read_certificates(path: str) -> list[bytes]:
    try:
        sections = pem_sections(_read(path))
    except ValueError as error:
        raise Unusable(f"'{path}' is not a PEM certificate: {error}") from None
    return [der for label, der in sections if label == "CERTIFICATE"]


def read_private_key(path: str) -> tuple[str, bytes]:
    """The first private key of the file, as (label, DER)."""
    try:
        sections = pem_sections(_read(path))
    except ValueError as error:
        raise Unusable(f"'{path}' is not a PEM private key: {error}") from None
    for label, der in sections:
        if label in KEY_LABELS:
            return label, der
    raise Unusable(f"'{path}' holds no private key  (expected PKCS#8, SEC1 or PKCS#1 PEM)")


def _pem(label: str, der: bytes) -> bytes:
    lines = [base64.b64encode(der[i : i + 48]) for i in range(0, len(der), 48)]
    return b"\n".join([f"-----BEGIN {label}-----".encode(), *lines, f"-----END {label}-----".encode()]) + b"\n"


def _ssl_text(error: ssl.SSLError) -> str:
    return str(error.args[1]) if len(error.args) > 1 else str(error)


def _load_identity(context: ssl.SSLContext, chain: list[bytes], key: tuple[str, bytes]) -> None:
    """Hand the chain and key to ``ssl`` (which reads only files): through an in-memory file where
    the system has them, else a private temporary file removed at once."""
    pem = b"".join(_pem("CERTIFICATE", der) for der in chain) + _pem(*key)

    def never_prompt() -> bytes:  # the key is never encrypted; OpenSSL must not ask a terminal
        return b""

    if hasattr(os, "memfd_create"):
        descriptor = os.memfd_create("etamil-tls-identity", os.MFD_CLOEXEC)
        try:
            os.write(descriptor, pem)
            context.load_cert_chain(f"/proc/self/fd/{descriptor}", password=never_prompt)
        finally:
            os.close(descriptor)
        return
    descriptor, path = tempfile.mkstemp(prefix="etamil-tls-")
    try:
        os.write(descriptor, pem)
        os.close(descriptor)
        context.load_cert_chain(path, password=never_prompt)
    finally:
        os.unlink(path)


# ------------------------------------------------------------------------------ settings


def _setting(environ: Mapping[str, str], name: str) -> str | None:
    return environ.get(name) or None


def configured_context(environ: Mapping[str, str]) -> tuple[ssl.SSLContext | None, list[str]]:
    """The client context the variables ask for (``None``: the ordinary one) and the lines to
    print on stderr."""
    cert, key, ca = (_setting(environ, name) for name in (CERT_VARIABLE, KEY_VARIABLE, CA_VARIABLE))
    if cert and not key:
        return None, CERT_WITHOUT_KEY
    if key and not cert:
        return None, KEY_WITHOUT_CERT
    if not cert and not ca:
        return None, []
    try:
        context = ssl.create_default_context()
        if ca:
            authorities = read_certificates(ca)
            if not authorities:
                raise Unusable(f"ETAMIL_TLS_CA '{ca}' holds no certificate")
            for der in authorities:
                try:
                    context.load_verify_locations(cadata=der)
                except ssl.SSLError as error:
                    raise Unusable(f"ETAMIL_TLS_CA '{ca}' was not usable: {_ssl_text(error)}") from None
        if cert and key:
            chain = read_certificates(cert)
            if not chain:
                raise Unusable(f"'{cert}' holds no certificate")
            private_key = read_private_key(key)
            try:
                _load_identity(context, chain, private_key)
            except ssl.SSLError as error:
                raise Unusable(f"the certificate and key were not accepted together: {_ssl_text(error)}") from None
            except OSError as error:
                raise Unusable(f"the certificate and key were not accepted together: {io_error_text(error)}") from None
    except Unusable as failure:
        return None, [UNUSABLE + failure.why, FALLBACK]
    return context, []


class _Process:
    lock = threading.Lock()
    loaded = False
    custom: ssl.SSLContext | None = None
    default: ssl.SSLContext | None = None


def load_once() -> None:
    """Read the variables the first time a request goes out (the messages are printed then)."""
    state = _Process
    if state.loaded:
        return
    with state.lock:
        if state.loaded:
            return
        context, lines = configured_context(os.environ)
        if lines:
            sys.stdout.flush()
            sys.stderr.write("".join(line + "\n" for line in lines))
            sys.stderr.flush()
        state.custom = context
        state.loaded = True


def client_context() -> ssl.SSLContext:
    """The context for outbound HTTPS: the configured one, or the system's trusted roots (loaded
    once per process, when first needed: loading them costs milliseconds)."""
    load_once()
    state = _Process
    if state.custom is not None:
        return state.custom
    if state.default is None:
        with state.lock:
            if state.default is None:
                state.default = ssl.create_default_context()
    return state.default
