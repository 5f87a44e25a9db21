"""Closes whose answer was lost: recorded open (202), then settled by looking for the liquidation order.

The gateway's clock is a ManualClock on the sandbox's frozen trading-hours time, so request times and the
broker's order times agree, and the in-flight window can be stepped over without waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from shared.app import build, install
from shared.clock import ManualClock
from shared.config import Settings
from shared.gateway import Gateway
from shared.orders.closes import IN_FLIGHT_SECONDS
from tests.gateway.conftest import call_entry
from tests.orders.conftest import events, upstream_orders
from tests.support.env import TRADING_NOW

CLOSE_AAPL = "/api/alpaca/positions/AAPL/close"
BOUGHT_AT = "2026-11-17T14:59:00Z"
HANG_CLOSE = {"method": "DELETE", "path": "/v2/positions/AAPL", "latency_ms": 3500}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromisoformat(TRADING_NOW).timestamp())


@pytest.fixture
def holding(sandbox: Any, db: Any, order_settings: Settings, clock: ManualClock) -> Iterator[Gateway]:
    """A gateway on the sandbox frozen in trading hours, holding 5 AAPL bought at the broker a minute
    earlier (outside the gateway, so only the time tells that buy from a liquidation)."""
    sandbox.set_clock(BOUGHT_AT, frozen=True)
    with sandbox.client() as broker:
        order = {"symbol": "AAPL", "qty": "5", "side": "buy", "type": "market", "time_in_force": "day"}
        broker.post("/v2/orders", json=order).raise_for_status()
    sandbox.set_clock(TRADING_NOW, frozen=True)
    instance = build(order_settings, db=db, clock=clock)
    install(instance)
    try:
        yield instance
    finally:
        install(None)


def closes(db: Any) -> list[dict[str, Any]]:
    return [snap.to_dict() for snap in db.collection("closes").stream()]


def test_close_whose_answer_is_lost_is_answered_202_and_recorded_open(
    holding: Gateway, sandbox: Any, db: Any
) -> None:
    """The broker liquidates but answers too late: 202 unresolved, and the close is kept open."""
    sandbox.fault(**HANG_CLOSE, status=200, mode="timeout_after_accept")
    reply = call_entry("close_position", "POST", CLOSE_AAPL)
    assert (reply.status, reply.body["status"]) == (202, "unresolved"), reply.text
    assert [(c["symbol"], c["state"]) for c in closes(db)] == [("AAPL", "unresolved")]
    assert len(events(db, "position.close_unresolved")) == 1
    assert events(db, "position.close_result") == []


def test_open_close_is_settled_by_the_liquidation_order_it_created(
    holding: Gateway, sandbox: Any, db: Any
) -> None:
    """The next close of the symbol first finds the earlier close's market order and records it."""
    sandbox.fault(**HANG_CLOSE, status=200, mode="timeout_after_accept")
    assert call_entry("close_position", "POST", CLOSE_AAPL).status == 202
    liquidation = next(o for o in upstream_orders(sandbox) if o["side"] == "sell")
    again = call_entry("close_position", "POST", CLOSE_AAPL)
    assert (again.status, again.body["error"]) == (404, "position_not_found"), again.text
    assert [c["state"] for c in closes(db)] == ["settled"]
    settled = next(e for e in events(db, "position.close_result") if e.get("close"))
    assert (settled["ok"], settled["result"]["order_id"]) == (True, liquidation["id"])


def test_open_close_the_broker_never_acted_on_is_settled_not_placed(
    holding: Gateway, sandbox: Any, db: Any, clock: ManualClock
) -> None:
    """No liquidation order after the in-flight window: not placed, and the new close goes through."""
    sandbox.fault(**HANG_CLOSE, status=503)
    assert call_entry("close_position", "POST", CLOSE_AAPL).status == 202
    clock.advance(IN_FLIGHT_SECONDS + 1)
    again = call_entry("close_position", "POST", CLOSE_AAPL)
    assert again.status == 200, again.text
    assert [c["state"] for c in closes(db)] == ["not_placed"]
    assert [o["side"] for o in upstream_orders(sandbox)] == ["sell", "buy"]
