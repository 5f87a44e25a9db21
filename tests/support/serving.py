"""A test's own server on loopback, answering in a daemon thread for the length of a `with` block."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(server: socketserver.TCPServer, poll_interval: float = 0.5) -> Iterator[int]:
    """`server` serving until the block ends, then shut down, closed and its thread joined; yields its
    port."""
    thread = threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
