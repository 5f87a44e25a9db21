"""Every answer of the local server carries X-Request-Id: the document, unknown routes, wrong methods."""

from __future__ import annotations

import httpx
import pytest

from tests.gateway.test_local_server import local_server, server_process  # noqa: F401

BASE = "/api/alpaca"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{BASE}/openapi.json", 200),
        ("GET", f"{BASE}/no-such-route", 404),
        ("GET", "/elsewhere", 404),
        ("PATCH", f"{BASE}/orders", 405),
        ("TRACE", f"{BASE}/account", 405),
    ],
)
def test_answer_carries_the_callers_request_id(
    local_server: str, method: str, path: str, status: int
) -> None:  # noqa: F811
    """The id the caller sent comes back, whatever the answer."""
    response = httpx.request(method, local_server + path, headers={"X-Request-Id": "rid-42"}, timeout=20.0)
    assert (response.status_code, response.headers.get("X-Request-Id")) == (status, "rid-42")
