"""A local webhook receiver (a real HTTP server on a thread) that checks Standard Webhooks signatures
with the `standardwebhooks` library and can be told to fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.support.serving import serving


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    signed: bool  # the signature matches the body, id and timestamp under the target's secret


@dataclass
class Receiver:
    secret: str
    url: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to answer next, then 200 for good
    always: int | None = None  # answer this for every request
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            if self.always is not None:
                return self.always
            return self.answers.pop(0) if self.answers else 200

    def check(self, headers: dict[str, str], body: bytes) -> bool:
        """The library's own signing over the header's id and timestamp (the clock may be moved)."""
        stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        expected = Webhook(self.secret).sign(headers["webhook-id"], stamp, body.decode())
        return expected in headers["webhook-signature"].split(" ")

    @property
    def delivered(self) -> list[Delivery]:
        return [d for d in self.deliveries if 200 <= d.status < 300]


@contextmanager
def running(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.answer()
            signed = receiver.check(headers, body)
            with receiver.lock:
                receiver.deliveries.append(Delivery(self.path, headers, body, status, signed))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        receiver.url = f"http://127.0.0.1:{port}/hook"
        yield receiver
