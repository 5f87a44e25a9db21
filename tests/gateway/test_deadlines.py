"""Every answer on time: one deadline per request, shared by retries and lookups, against a broker that
accepts connections and never answers. Time is an injected ManualClock that the hanging broker moves by
each attempt's timeout, so these tests are exact and take no real time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.alpaca.client import AlpacaClient
from shared.clock import ManualClock
from shared.deadline import READ_SECONDS, TRADE_SECONDS, Deadline
from shared.errors import UpstreamTimeout
from shared.limits.protocol import Unlimited
from tests.gateway.conftest import call_entry
from tests.gateway.test_alpaca_client import START, client_for

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


class HangingBroker:
    """Takes every request and never answers: each attempt costs exactly the read timeout it was given."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self.timeouts: list[float] = []
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        read = float(request.extensions["timeout"]["read"])
        self.timeouts.append(read)
        self.requests.append(f"{request.method} {request.url.path}")
        self._clock.advance(read)
        raise httpx.ReadTimeout("no answer", request=request)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def broker(clock: ManualClock) -> HangingBroker:
    return HangingBroker(clock)


@pytest.fixture
def client(broker: HangingBroker, clock: ManualClock) -> AlpacaClient:
    return client_for(broker, clock)


def test_read_from_a_hanging_broker_gives_up_within_the_read_deadline(
    client: AlpacaClient, clock: ManualClock
) -> None:
    """Retries included, a GET spends at most READ_SECONDS before it answers with a timeout."""
    with pytest.raises(UpstreamTimeout):
        client.account()
    assert clock.now() - START <= READ_SECONDS


def test_read_retries_each_get_only_what_is_left_of_the_deadline(
    broker: HangingBroker, clock: ManualClock
) -> None:
    """With 2 s per attempt, the third attempt is cut to what is left of the 5 s, not a fresh 2 s."""
    with pytest.raises(UpstreamTimeout):
        client_for(broker, clock, timeout=2.0).account()
    assert broker.timeouts[:2] == [2.0, 2.0]
    assert len(broker.timeouts) == 3 and broker.timeouts[2] < 2.0
    assert clock.now() - START <= READ_SECONDS


def test_order_send_keeps_back_time_for_its_lookup(
    client: AlpacaClient, broker: HangingBroker, clock: ManualClock
) -> None:
    """The POST may use the order deadline less the lookup's reserve, and is never retried."""
    with pytest.raises(UpstreamTimeout):
        client.place_order(ORDER, deadline=Deadline(clock, TRADE_SECONDS), reserve=0.5)
    assert broker.timeouts == [TRADE_SECONDS - 0.5]


@pytest.fixture
def hanging_gateway(
    make_gateway: Callable[..., Any], broker: HangingBroker, clock: ManualClock, sandbox: Any
) -> Any:
    """The gateway on the emulator with every broker call hanging; its clock is the manual one."""
    http = httpx.Client(transport=httpx.MockTransport(broker), timeout=8.0)
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
