"""Order-story fixtures: a gateway whose clock stands with the sandbox's, and the sync as Scheduler runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from shared.app import build, install
from shared.clock import ManualClock
from shared.config import Settings
from shared.gateway import Gateway
from tests.gateway.conftest import Reply, call_entry
from tests.orders.conftest import order_settings as order_settings
from tests.orders.conftest import sandbox_service as sandbox_service
from tests.support.env import TRADING_NOW
from tests.support.sandbox import Sandbox


@pytest.fixture
def clock() -> ManualClock:
    """The gateway's clock at the sandbox's frozen time, so arrival quotes and fill times agree."""
    return ManualClock(datetime.fromisoformat(TRADING_NOW).timestamp())


@pytest.fixture
def gateway(sandbox: Sandbox, db: Any, order_settings: Settings, clock: ManualClock) -> Iterator[Gateway]:
    sandbox.set_clock(TRADING_NOW, frozen=True)
    instance = build(order_settings, db=db, clock=clock)
    install(instance)
    try:
        yield instance
    finally:
        install(None)


def advance(sandbox: Sandbox, clock: ManualClock, seconds: float) -> None:
    """Move the sandbox and the gateway's clock together."""
    sandbox.advance(seconds)
    clock.advance(seconds)


def sync() -> Reply:
    reply = call_entry("sync_orders", "POST", "/")
    assert reply.status == 200, reply.text
    return reply


def order_events(db: Any) -> list[tuple[str, str]]:
    """(type, alpaca order id) of every event the sync writes, sorted."""
    found = [snap.to_dict() for snap in db.collection("audit").stream()]
    kinds = ("order.filled", "order.partially_filled", "order.canceled", "order.expired", "order.rejected")
    return sorted((e["type"], e.get("alpaca_order_id", "")) for e in found if e["type"] in kinds)
