"""An in-process Secret Manager speaking the REST surface the official client's rest transport uses."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

ACCESS = re.compile(r"^/v1/projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/latest:access$")


class FakeSecretManager:
    """Serves `GET /v1/projects/P/secrets/S/versions/latest:access`; counts reads per secret."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)
        self.reads: Counter[str] = Counter()
        self.projects: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def set(self, name: str, value: str) -> None:
        with self._lock:
            self.values[name] = value

    def __enter__(self) -> FakeSecretManager:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                match = ACCESS.match(urlparse(self.path).path)
                with fake._lock:
                    value = fake.values.get(match["secret"]) if match else None
                    if match:
                        fake.reads[match["secret"]] += 1
                        fake.projects.add(match["project"])
                if match is None or value is None:
                    self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                    return
                name = f"projects/{match['project']}/secrets/{match['secret']}/versions/1"
                data = base64.b64encode(value.encode()).decode()
                self._send(200, {"name": name, "payload": {"data": data}})

            def _send(self, status: int, body: object) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_: object) -> None:
                return None

        return Handler
