"""Security fixtures: one gateway, Firestore project and sandbox book per module, rebuilt only when dirtied.

A refused request changes nothing, so the book it was refused against is still pristine and the next test
reuses it; anything else (a positive control, a failure, other risk settings) rebuilds it first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import httpx
import pytest

from infra.stack import Service
from shared.app import build, install
from tests.conftest import generous_sandbox
from tests.orders.conftest import ORDER_ENV, set_risk
from tests.support.env import TRADING_NOW, gateway_settings
from tests.support.sandbox import Sandbox, upstream_requests

sandbox_service = pytest.fixture(scope="session", name="sandbox_service")(generous_sandbox)

VALUED = {"max_order_notional": "1000000", "max_position_notional": "1000000"}


@dataclass(frozen=True)
class State:
    """What a refused request must leave as it was."""

    upstream: int  # sandbox requests for our key made by the gateway (our own reads subtracted)
    positions: Mapping[str, str]  # symbol -> qty
    orders: Mapping[str, str]  # id -> status, every status
    audit: tuple[str, ...]  # document ids of `audit`
    records: tuple[str, ...]  # document ids of `orders`


@dataclass(frozen=True)
class Book:
    resting: str  # a gtc NVDA limit buy far below the market, open
    other: str  # a gtc AMZN limit buy far below the market, open
    aapl_asset_id: str
    before: State


class Desk:
    """The module's sandbox, Firestore project and installed gateway, and the book on them."""

    def __init__(self, service: Service, emulator: str) -> None:
        from google.cloud import firestore

        self.sandbox = Sandbox(service)
        self.emulator = emulator
        self.project = f"test-{uuid.uuid4().hex[:12]}"
        self.db = firestore.Client(project=self.project)
        self.own = 0  # requests our `trading` client made since the last reset
        self.trading = httpx.Client(
            base_url=service.url,
            headers=self.sandbox.headers,
            timeout=10.0,
            event_hooks={"request": [self._count]},
        )
        self.upstream_http = httpx.Client(timeout=httpx.Timeout(5.0, connect=3.0, pool=2.0))
        self.clean = False
        self.risk: Mapping[str, str] | None = None
        self.book: Book | None = None

    def _count(self, request: httpx.Request) -> None:
        self.own += 1

    def snapshot(self) -> State:
        positions = {p["symbol"]: p["qty"] for p in self.trading.get("/v2/positions").json()}
        listed = self.trading.get("/v2/orders", params={"status": "all", "limit": 500}).json()
        return State(
            upstream=upstream_requests(self.sandbox) - self.own,
            positions=positions,
            orders={o["id"]: o["status"] for o in listed},
            audit=tuple(sorted(s.id for s in self.db.collection("audit").stream())),
            records=tuple(sorted(s.id for s in self.db.collection("orders").stream())),
        )

    def ready(self, risk: Mapping[str, str] | None) -> Book:
        """The pristine book, rebuilt unless the last test proved it untouched under the same settings."""
        if not (self.clean and self.book is not None and self.risk == risk):
            self._rebuild(risk)
        self.clean = False  # until this test's refusal proves the book untouched again
        assert self.book is not None
        return self.book

    def _rebuild(self, risk: Mapping[str, str] | None) -> None:
        httpx.delete(
            f"http://{self.emulator}/emulator/v1/projects/{self.project}/databases/(default)/documents",
            timeout=10.0,
        ).raise_for_status()
        if risk:
            set_risk(self.db, **risk)
        self.sandbox.reset()
        self.own = 0
        self.sandbox.set_clock(TRADING_NOW, frozen=True)
        market = {"side": "buy", "type": "market", "time_in_force": "day"}
        limit = {"qty": "1", "side": "buy", "type": "limit", "limit_price": "10.00", "time_in_force": "gtc"}
        self._order({**market, "symbol": "AAPL", "qty": "10"})
        self._order({**market, "symbol": "MSFT", "qty": "5"})
        self._order({**market, "symbol": "BTC/USD", "qty": "0.01", "time_in_force": "gtc"})
        resting = self._order({**limit, "symbol": "NVDA"})
        other = self._order({**limit, "symbol": "AMZN"})
        asset_id = str(self.trading.get("/v2/assets/AAPL").json()["id"])
        # A fresh gateway: no risk settings cached from another test.
        settings = gateway_settings(self.sandbox.url, self.emulator, self.project, **ORDER_ENV)
        install(build(settings, http=self.upstream_http, db=self.db))
        self.risk = risk
        self.book = Book(resting, other, asset_id, self.snapshot())

    def _order(self, order: dict[str, str]) -> str:
        response = self.trading.post("/v2/orders", json=order)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def untouched(self, after: State) -> None:
        """Record that the book is as it was built, so the next test may reuse it."""
        assert self.book is not None
        self.book = replace(self.book, before=after)
        self.clean = True

    def close(self) -> None:
        install(None)
        httpx.delete(
            f"http://{self.emulator}/emulator/v1/projects/{self.project}/databases/(default)/documents",
            timeout=10.0,
        )
        self.trading.close()
        self.upstream_http.close()
        self.sandbox.admin.close()


@pytest.fixture(scope="module")
def desk(sandbox_service: Service, firestore_emulator: str) -> Iterator[Desk]:
    instance = Desk(sandbox_service, firestore_emulator)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def book(desk: Desk) -> Book:
    """In trading hours: long AAPL, MSFT and BTC/USD, resting gtc limit buys of NVDA and AMZN; no limits."""
    return desk.ready(None)


@pytest.fixture
def valued_book(desk: Desk) -> Book:
    """The same book with order and position notional limits, so an order's risk check reads the broker."""
    return desk.ready(VALUED)
