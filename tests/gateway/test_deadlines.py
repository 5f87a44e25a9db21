"""Every answer on time, through the entry points: one deadline per request, shared by retries and lookups,
against a broker that accepts connections and never answers. Time is an injected ManualClock that the
hanging broker moves by each attempt's timeout, so these tests are exact and take no real time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.clock import ManualClock
from shared.deadline import READ_SECONDS, TRADE_SECONDS
from shared.limits.protocol import Unlimited
from tests.gateway.conftest import call_entry
from tests.support.alpaca import START, HangingBroker

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def broker(clock: ManualClock) -> HangingBroker:
    return HangingBroker(clock)


@pytest.fixture
def hanging_gateway(
    make_gateway: Callable[..., Any], broker: HangingBroker, clock: ManualClock, sandbox: Any
) -> Any:
    """The gateway on the emulator with every broker call hanging but the asset lookup (so an order gets
    as far as its send); its clock is the manual one."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v2/assets/"):
            return httpx.Response(200, json={"symbol": "AAPL", "class": "us_equity"})
        return broker(request)

    http = httpx.Client(transport=httpx.MockTransport(handle), timeout=8.0)
    return make_gateway(http=http, clock=clock, limiter=Unlimited())


def test_order_to_a_hanging_broker_answers_202_within_the_order_deadline(
    hanging_gateway: Any, broker: HangingBroker, clock: ManualClock
) -> None:
    """Sent and never answered: the send and its lookup share 2.5 s, then 202 says the answer was lost."""
    reply = call_entry("place_order", "POST", json_body={**ORDER, "client_order_id": "hung"})
    assert (reply.status, reply.body.get("reason")) == (202, "answer_lost"), reply.text
    assert broker.requests == ["POST /v2/orders", "GET /v2/orders:by_client_order_id"]
    assert clock.now() - START <= TRADE_SECONDS


def test_close_to_a_hanging_broker_answers_202_within_the_order_deadline(
    hanging_gateway: Any, clock: ManualClock, db: Any
) -> None:
    """A close the broker may have acted on answers 202 in time and is recorded open for settling."""
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/AAPL/close")
    assert (reply.status, reply.body["status"]) == (202, "unresolved"), reply.text
    assert clock.now() - START <= TRADE_SECONDS
    assert [snap.to_dict()["state"] for snap in db.collection("closes").stream()] == ["unresolved"]


def test_read_entry_point_on_a_hanging_broker_answers_504_within_the_read_deadline(
    hanging_gateway: Any, clock: ManualClock
) -> None:
    """GET /account answers 504 upstream_timeout once its 5 s are spent, however many retries fit."""
    reply = call_entry("get_account")
    assert (reply.status, reply.body["error"]) == (504, "upstream_timeout"), reply.text
    assert clock.now() - START <= READ_SECONDS
