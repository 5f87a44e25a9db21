"""A handle on a running sandbox broker: its admin routes, a client on its trading API, its counters."""

from __future__ import annotations

from typing import Any

import httpx

from infra.stack import Service
from tests.support.env import SANDBOX_KEY, SANDBOX_SECRET


class Sandbox:
    """The sandbox broker process with helpers for its admin routes."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.url = service.url
        self.admin = httpx.Client(base_url=service.url, timeout=10.0)
        self.key = SANDBOX_KEY
        self.secret = SANDBOX_SECRET

    @property
    def headers(self) -> dict[str, str]:
        return {"APCA-API-KEY-ID": self.key, "APCA-API-SECRET-KEY": self.secret}

    def client(self) -> httpx.Client:
        """A plain httpx client on the trading API, authenticated as the default account."""
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=10.0)

    def reset(self) -> None:
        self.admin.post("/_sandbox/reset").raise_for_status()

    def set_clock(self, now: str | None, frozen: bool = True) -> None:
        self.admin.put("/_sandbox/clock", json={"now": now, "frozen": frozen}).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.admin.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()

    def set_price(self, symbol: str, price: str) -> None:
        self.admin.put(f"/_sandbox/prices/{symbol}", json={"price": price}).raise_for_status()

    def set_liquidity(self, symbol: str, qty: str | None) -> None:
        """At most `qty` of an order in `symbol` (`*`: any) fills per minute; None lifts the limit."""
        self.admin.put(f"/_sandbox/liquidity/{symbol}", json={"qty": qty}).raise_for_status()

    def fault(self, **fault: Any) -> None:
        self.admin.post("/_sandbox/faults", json=fault).raise_for_status()

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = self.admin.get("/_sandbox/stats").json()
        return body


def upstream_requests(sandbox: Sandbox) -> int:
    """Requests the sandbox has served the default key so far (trading and market data, any method)."""
    return int(sandbox.stats()["keys"].get(sandbox.key, {}).get("requests", 0))
