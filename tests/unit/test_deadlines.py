"""Every answer on time, at the client: one deadline per call, shared by its retries, against a broker that
accepts connections and never answers. The hanging broker moves the injected ManualClock by each attempt's
timeout, so these tests are exact and take no real time."""

from __future__ import annotations

import pytest

from shared.alpaca.client import AlpacaClient
from shared.clock import ManualClock
from shared.deadline import READ_SECONDS, TRADE_SECONDS, Deadline
from shared.errors import UpstreamTimeout
from tests.support.alpaca import START, HangingBroker, client_for

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


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
