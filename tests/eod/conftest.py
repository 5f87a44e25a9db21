"""End-of-day fixtures: a gateway whose clock is a ManualClock kept on the sandbox's frozen time, so the
gateway's own times (leases, snapshots, reactivation) and the broker's session agree, and waits cost
nothing; helpers to trade at the broker directly and to deliver the scheduled jobs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

from functions._jobs import SCHEDULE_TIME
from shared.app import build, install
from shared.clock import EASTERN, ManualClock
from shared.config import Settings
from shared.gateway import Gateway
from tests.conftest import generous_sandbox
from tests.gateway.conftest import Reply, call_entry
from tests.orders.conftest import ORDER_ENV
from tests.support.env import gateway_settings
from tests.support.sandbox import Sandbox

EOD_ENV = {**ORDER_ENV, "FLATTEN_DEADLINE_SECONDS": "30"}

sandbox_service = pytest.fixture(scope="session", name="sandbox_service")(generous_sandbox)


def eastern(text: str) -> datetime:
    """A wall-clock time in New York, `2026-11-27 12:52`."""
    return datetime.fromisoformat(text).replace(tzinfo=EASTERN)


class Market:
    """The sandbox's clock and the gateway's ManualClock, moved together."""

    def __init__(self, sandbox: Sandbox, clock: ManualClock) -> None:
        self.sandbox = sandbox
        self.clock = clock

    def at(self, when: str) -> None:
        moment = eastern(when)
        self.sandbox.set_clock(moment.isoformat(), frozen=True)
        self.clock.advance(moment.timestamp() - self.clock.now())

    def trade(self, **order: Any) -> dict[str, Any]:
        """An order placed at the broker directly (not through the gateway)."""
        body = {"type": "market", "time_in_force": "day", **order}
        with self.sandbox.client() as broker:
            response = broker.post("/v2/orders", json=body)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def positions(self) -> dict[str, str]:
        with self.sandbox.client() as broker:
            return {p["symbol"]: p["qty"] for p in broker.get("/v2/positions").json()}

    def orders(self, status: str = "all") -> list[dict[str, Any]]:
        with self.sandbox.client() as broker:
            found: list[dict[str, Any]] = broker.get(
                "/v2/orders", params={"status": status, "limit": 500}
            ).json()
        return found

    def liquidations(self) -> list[dict[str, Any]]:
        """The flatten's orders: their client order ids start with its run's tag."""
        return [o for o in self.orders() if o["client_order_id"].startswith(("eod-", "flat-"))]


@pytest.fixture
def eod_settings(sandbox: Sandbox, firestore_project: str, firestore_emulator: str) -> Settings:
    return gateway_settings(sandbox.url, firestore_emulator, firestore_project, **EOD_ENV)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(eastern("2026-11-17 10:00").timestamp())


@pytest.fixture
def market(sandbox: Sandbox, clock: ManualClock) -> Market:
    found = Market(sandbox, clock)
    found.at("2026-11-17 10:00")
    return found


@pytest.fixture
def gateway(market: Market, db: Any, eod_settings: Settings, clock: ManualClock) -> Iterator[Gateway]:
    instance = build(eod_settings, db=db, clock=clock)
    install(instance)
    try:
        yield instance
    finally:
        install(None)


def deliver(job: str, schedule_time: str | None = None, **headers: str) -> Reply:
    """One Cloud Scheduler delivery of `job` (dev token), with its schedule time when given."""
    sent: dict[str, str] = dict(headers)
    if schedule_time is not None:
        sent[SCHEDULE_TIME] = schedule_time
    return call_entry(job, "POST", "/", headers=sent)


def run_doc(db: Any, run_id: str) -> Mapping[str, Any] | None:
    snap = db.collection("eod_runs").document(run_id).get()
    return snap.to_dict() if snap.exists else None
