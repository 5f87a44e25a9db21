"""The instance's outbound HTTP transport, built on its first request: an entry point that never calls
upstream never pays for httpcore's import and the TLS context (about 60 ms of a cold start)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx


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
