"""Helpers for the sandbox engine tests: a trading client on a Tuesday-morning clock, order shortcuts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.stack import Service, start_sandbox
from tests.conftest import Sandbox

TUESDAY_10AM = "2025-06-24T14:00:00Z"  # 10:00 ET on a regular trading day
SATURDAY_NOON = "2025-06-21T16:00:00Z"


class Trader:
    """An httpx client on the sandbox with shortcuts for the calls these tests repeat."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.http = box.client()

    def order(self, **fields: Any) -> httpx.Response:
        body = {
            "symbol": "AAPL",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "qty": "1",
            **fields,
        }
        body = {k: v for k, v in body.items() if v is not None}  # None drops a default field
        return self.http.post("/v2/orders", json=body)

    def placed(self, **fields: Any) -> dict[str, Any]:
        response = self.order(**fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def get_order(self, order_id: str, nested: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get(f"/v2/orders/{order_id}", params={"nested": nested}).json()
        return body

    def positions(self) -> dict[str, dict[str, Any]]:
        return {p["symbol"]: p for p in self.http.get("/v2/positions").json()}

    def account(self) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get("/v2/account").json()
        return body


@pytest.fixture
def trader(sandbox: Sandbox) -> Iterator[Trader]:
    """A client whose sandbox clock stands frozen at 10:00 ET on a Tuesday."""
    sandbox.set_clock(TUESDAY_10AM, frozen=True)
    client = Trader(sandbox)
    try:
        yield client
    finally:
        client.http.close()


@pytest.fixture(scope="module")
def tight_sandbox() -> Iterator[Service]:
    """A separate sandbox allowing 5 requests per 2-second window, for rate-limit behaviour."""
    service = start_sandbox(rate_limit=5, rate_window=2.0)
    try:
        yield service
    finally:
        service.stop()
