"""Test support for TLS: a locally generated certificate authority, server certificates it signs, a CA
directory hashed as `openssl rehash` names its entries, and a real HTTPS server on loopback."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.serving import serving

LOOPBACK = "127.0.0.1"


class Authority:
    """A self-signed CA (its common name lower case, so its OpenSSL subject hash is simple to compute)."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name.lower())])
        self.cert = (
            _builder(self.name, self.name, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def subject_hash(self) -> str:
        """OpenSSL's subject hash: the first four bytes, little-endian, of the SHA-1 of the name's
        canonical encoding, which for one lower-case UTF8String attribute is the name's DER set."""
        der = self.name.public_bytes()
        canonical = der[2:]  # drop the outer SEQUENCE's tag and (short) length
        return f"{int.from_bytes(hashlib.sha1(canonical).digest()[:4], 'little'):08x}"

    def hashed_directory(self, folder: Path) -> Path:
        """`folder` with this CA under its hash name, as a system CA directory holds it."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.subject_hash()}.0").write_bytes(self.pem())
        return folder

    def server_files(self, folder: Path, *, host: str = LOOPBACK) -> tuple[Path, Path]:
        """A certificate for `host` (an IP address or a DNS name) signed by this CA, and its key."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        cert = (
            _builder(subject, self.name, key.public_key())
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        cert_file, key_file = folder / "server.pem", folder / "server.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_file, key_file


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
    )


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def https_server(cert_file: Path, key_file: Path) -> Iterator[str]:
    """An HTTPS server on a free loopback port answering 200 to any GET; yields its base URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = ThreadingHTTPServer((LOOPBACK, 0), _Hello)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server) as port:
        yield f"https://{LOOPBACK}:{port}"
