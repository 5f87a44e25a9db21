"""GET /analytics: slippage against the arrival price signed for buys and sells, latency phases,
counts by symbol, caller and order type; from Firestore only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.clock import ManualClock
from shared.gateway import Gateway
from tests.fills.conftest import advance, sync
from tests.gateway.conftest import call_entry
from tests.orders.conftest import TRADER_TOKEN, place, set_risk
from tests.support.env import TRADING_NOW
from tests.support.sandbox import Sandbox, upstream_requests

WINDOW = {"since": "2026-11-17T14:00:00Z", "until": "2026-11-17T16:00:00Z"}


def analytics(**query: Any) -> Any:
    reply = call_entry("get_analytics", "GET", "/analytics", query={**WINDOW, **query})
    assert reply.status == 200, reply.text
    return reply.body


def arrival_quote(sandbox: Sandbox) -> tuple[Decimal, Decimal]:
    """The prevailing quote of TRADING_NOW's second from the sandbox's history, as (bid, ask)."""
    with sandbox.client() as broker:
        params = {"start": "2026-11-17T14:59:00Z", "end": "2026-11-17T15:00:01Z", "limit": 1, "sort": "desc"}
        [quote] = broker.get("/v2/stocks/AAPL/quotes", params=params).json()["quotes"]
    return Decimal(str(quote["bp"])), Decimal(str(quote["ap"]))


def expected_bps(side: str, arrival: Decimal, fill: Decimal) -> Decimal:
    moved = (fill - arrival) / arrival * 10000
    return (moved if side == "buy" else -moved).quantize(Decimal("0.01"))


def test_a_market_buy_filled_at_the_ask_has_positive_slippage(gateway: Gateway, sandbox: Sandbox) -> None:
    """Arrival is the quote mid; a buy filled at the ask paid half the spread: positive bps."""
    bid, ask = arrival_quote(sandbox)
    assert place({"symbol": "AAPL", "side": "buy", "qty": "5"}).status == 200
    sync()
    slippage = analytics()["total"]["slippage_bps"]
    assert slippage["count"] == 1
    assert Decimal(slippage["mean"]) == expected_bps("buy", (bid + ask) / 2, ask) > 0


def test_a_market_sell_filled_at_the_bid_has_positive_slippage(gateway: Gateway, sandbox: Sandbox) -> None:
    """A sell filled at the bid got less than the mid: positive bps too (worse for us)."""
    bid, ask = arrival_quote(sandbox)
    with sandbox.client() as broker:  # a position to sell, bought outside the gateway
        body = {"symbol": "AAPL", "side": "buy", "qty": "5", "type": "market", "time_in_force": "day"}
        broker.post("/v2/orders", json=body).raise_for_status()
    assert place({"symbol": "AAPL", "side": "sell", "qty": "5"}).status == 200
    sync()
    slippage = analytics(caller="dev")["total"]["slippage_bps"]
    assert Decimal(slippage["median"]) == expected_bps("sell", (bid + ask) / 2, bid) > 0


def test_a_limit_buy_filled_below_its_limit_has_negative_slippage(gateway: Gateway, sandbox: Sandbox) -> None:
    """For limit orders the arrival price is the limit: filled under it is better, negative bps."""
    _, ask = arrival_quote(sandbox)
    limit = (ask * Decimal("1.01")).quantize(Decimal("0.01"))
    body = {"symbol": "AAPL", "side": "buy", "qty": "2", "type": "limit", "limit_price": str(limit)}
    assert place(body).status == 200
    sync()
    report = analytics()
    assert (
        Decimal(report["by_order_type"]["limit"]["slippage_bps"]["mean"])
        == expected_bps("buy", limit, ask)
        < 0
    )


def test_notional_weighted_mean_weighs_the_larger_order(gateway: Gateway, sandbox: Sandbox) -> None:
    """A 1-share buy and a 99-share limit buy: the weighted mean lies near the large order's."""
    _, ask = arrival_quote(sandbox)
    limit = (ask * Decimal("1.01")).quantize(Decimal("0.01"))
    place({"symbol": "AAPL", "side": "buy", "qty": "1"})
    place({"symbol": "AAPL", "side": "buy", "qty": "99", "type": "limit", "limit_price": str(limit)})
    sync()
    slippage = analytics()["total"]["slippage_bps"]
    weighted, mean = Decimal(slippage["notional_weighted_mean"]), Decimal(slippage["mean"])
    large = expected_bps("buy", limit, ask)
    assert abs(weighted - large) < abs(mean - large)


def test_partial_fills_count_each_part_and_the_latency_phases(
    gateway: Gateway, sandbox: Sandbox, clock: ManualClock
) -> None:
    """10 shares in parts of 4, 4, 2: one filled order, three fills, a two-minute first-to-last phase."""
    sandbox.set_liquidity("AAPL", "4")
    place({"symbol": "AAPL", "side": "buy", "qty": "10"})
    advance(sandbox, clock, 60)
    advance(sandbox, clock, 60)
    sync()
    total = analytics()["total"]
    assert (total["orders"], total["submitted"], total["filled"], total["fills"]) == (1, 1, 1, 3)
    assert total["fill_rate"] == "1.0000"
    phases = total["latency_ms"]
    assert phases["first_fill_to_last_fill"] == {"count": 1, "p50": 120000.0, "p95": 120000.0}
    assert phases["sent_to_acknowledged"]["count"] == 1


def test_denials_and_rejections_are_counted_by_caller_and_symbol(gateway: Gateway, db: Any) -> None:
    """A risk denial and a broker rejection: counted, grouped, and the report says paper."""
    set_risk(db, symbol_denylist=["TSLA"])
    assert place({"symbol": "TSLA", "side": "buy", "qty": "1"}, token=TRADER_TOKEN).status == 403
    assert place({"symbol": "AAPL", "side": "buy", "qty": "100000000"}).status in (403, 422)
    report = analytics()
    assert (report["total"]["denials"], report["total"]["rejections"]) == (1, 1)
    assert report["by_caller"]["tradingview"]["denials"] == 1
    assert report["by_symbol"]["AAPL"]["rejections"] == 1
    assert report["paper"] is True


def test_analytics_cost_no_broker_request(gateway: Gateway, sandbox: Sandbox) -> None:
    before = upstream_requests(sandbox)
    analytics()
    assert upstream_requests(sandbox) == before


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"since": "2026-11-17T16:00:00Z", "until": "2026-11-17T15:00:00Z"}, "invalid_window"),
        ({"since": "2026-01-01T00:00:00Z", "until": TRADING_NOW}, "invalid_window"),
        ({"until": "noon"}, "invalid_until"),
        ({"symbol": "aapl;drop"}, "invalid_symbol"),
        ({"caller": "x" * 65}, "invalid_caller"),
    ],
)
def test_malformed_windows_and_filters_are_refused(
    gateway: Gateway, query: dict[str, str], reason: str
) -> None:
    reply = call_entry("get_analytics", "GET", "/analytics", query=query)
    assert (reply.status, reply.body["error"]) == (400, reason)
