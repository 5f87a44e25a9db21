"""Test support for OIDC: locally generated RSA signing keys with self-signed certificates, ID tokens
signed with them, and a real HTTP endpoint on loopback serving the certs in Google's v1 format."""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from tests.support.serving import serving

AUDIENCE = "https://us-east4-project.cloudfunctions.net/eod-flatten"
ACCOUNT = "scheduler@project.iam.gserviceaccount.com"


class SigningKey:
    """An RSA key pair named `kid`, with the PEM x509 certificate a certs endpoint would publish."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kid)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(self._private, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.private_pem = self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self._signer = crypt.RSASigner.from_string(self.private_pem)  # type: ignore[no-untyped-call]

    def sign(self, claims: Mapping[str, Any], kid: str | None = "") -> str:
        """An RS256 JWT of `claims`; its header names `kid` (this key's by default, none when None)."""
        key_id = self.kid if kid == "" else kid
        token: bytes = jwt.encode(self._signer, dict(claims), key_id=key_id)  # type: ignore[no-untyped-call]
        return token.decode()


def id_claims(**overrides: Any) -> dict[str, Any]:
    """The claims of a Cloud Scheduler ID token, valid for an hour from the system clock's now (google-auth
    judges `iat`/`exp` by the system clock); keyword arguments replace or add claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "sub": "104000000000000000000",
        "azp": "104000000000000000000",
        "email": ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return claims


class CertsEndpoint:
    """What an endpoint on loopback serves: the certs by kid, its Cache-Control, and the hits so far."""

    def __init__(self, url: str, keys: list[SigningKey]) -> None:
        self.url = url
        self._lock = threading.Lock()
        self.reset(*keys)

    def reset(self, *keys: SigningKey) -> None:
        """Serve `keys` with a 600 s max-age and forget the hits: a fresh endpoint for the next test."""
        with self._lock:
            self.certs: dict[str, str] = {key.kid: key.cert_pem for key in keys}
            self.cache_control: str | None = "public, max-age=600, must-revalidate, no-transform"
            self.hits = 0

    def publish(self, *keys: SigningKey) -> None:
        """Serve exactly these keys from now on (a rotation)."""
        with self._lock:
            self.certs = {key.kid: key.cert_pem for key in keys}

    def respond(self) -> tuple[bytes, str | None]:
        with self._lock:
            self.hits += 1
            return json.dumps(self.certs).encode(), self.cache_control


@contextmanager
def certs_endpoint(*keys: SigningKey) -> Iterator[CertsEndpoint]:
    """A ThreadingHTTPServer on 127.0.0.1 and a free port, serving `keys` until the block ends."""
    state: list[CertsEndpoint] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, cache_control = state[0].respond()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            if cache_control is not None:
                self.send_header("Cache-Control", cache_control)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is not the place for access logs."""

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler), poll_interval=0.05) as port:
        state.append(CertsEndpoint(f"http://127.0.0.1:{port}/oauth2/v1/certs", list(keys)))
        yield state[0]
