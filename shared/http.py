"""The instance's outbound HTTP transport, built on its first request: an entry point that never calls
upstream never pays for httpcore's import and the TLS context. The TLS context trusts the system's
hashed CA directory when there is one: OpenSSL then reads only the issuers a handshake needs, where a
bundle is parsed whole when the context is built (under 2 ms against 19 to 34 ms on the benchmark host)."""

from __future__ import annotations

import os
import re
import ssl
import threading
from collections.abc import Callable

import certifi
import httpx

HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")  # how `openssl rehash` names a CA certificate


def tls_context(ca_file: str | None, ca_dir: str) -> ssl.SSLContext:
    """A client context that verifies certificates and host names, trusting `ca_file` when one is given
    (SSL_CERT_FILE, read whole), else `ca_dir` when OpenSSL has hashed it (SSL_CERT_DIR or the system's
    directory), else certifi's bundle, which is what httpx trusts by default."""
    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    if hashed(ca_dir):
        return ssl.create_default_context(capath=ca_dir)
    return ssl.create_default_context(cafile=certifi.where())


def hashed(ca_dir: str) -> bool:
    """Whether `ca_dir` holds at least one certificate under its subject hash, as OpenSSL looks it up."""
    try:
        with os.scandir(ca_dir) as entries:
            return any(HASHED_NAME.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


class LazyTransport(httpx.BaseTransport):
    """Builds the transport it wraps on the first request (once, however many threads ask at the same
    time) and sends every request through it; `close` closes it if it was built."""

    def __init__(self, build: Callable[[], httpx.BaseTransport]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._transport: httpx.BaseTransport | None = None

    @property
    def built(self) -> bool:
        """Whether the wrapped transport exists yet."""
        return self._transport is not None

    def open(self) -> httpx.BaseTransport:
        """The wrapped transport, built now if no request built it yet."""
        transport = self._transport
        if transport is None:
            with self._lock:
                if self._transport is None:
                    self._transport = self._build()
                transport = self._transport
        return transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.open().handle_request(request)

    def close(self) -> None:
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
