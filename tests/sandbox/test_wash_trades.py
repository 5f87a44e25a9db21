"""The wash-trade rejection in Alpaca's words: 403 `potential wash trade detected. use complex orders`,
with the resting order's id and a `reject_reason` that names what kind of order it is."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.conftest import Trader

MESSAGE = "potential wash trade detected. use complex orders"


def assert_wash_trade(response: httpx.Response, resting: dict[str, Any], reason: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {
        "code": 40310000,
        "message": MESSAGE,
        "existing_order_id": resting["id"],
        "reject_reason": reason,
    }


def test_market_order_against_a_resting_limit_is_told_to_use_a_limit(trader: Trader) -> None:
    """A market buy meeting the account's own sell limit: the limit exists, use complex/limit/stop_limit."""
    trader.placed(symbol="AAPL", qty="10")
    resting = trader.placed(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="999.00")
    response = trader.order(symbol="AAPL")
    assert_wash_trade(
        response, resting, "opposite side limit order exists. use complex/limit/stop_limit orders"
    )


def test_limit_order_against_a_resting_market_order_names_market_stop(trader: Trader) -> None:
    """A sell limit while the account's market buy waits for the open: a market/stop order exists."""
    trader.placed(symbol="AAPL", qty="10")
    trader.box.set_clock("2025-06-24T21:00:00Z", frozen=True)  # 17:00 ET, after the close
    resting = trader.placed(symbol="AAPL", qty="1")
    assert resting["status"] == "accepted"
    response = trader.order(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="999.00")
    assert_wash_trade(response, resting, "opposite side market/stop order exists")


def test_limit_order_against_a_resting_stop_names_market_stop(trader: Trader) -> None:
    """A buy limit while the account's protective sell stop rests: a market/stop order exists."""
    trader.placed(symbol="AAPL", qty="10")
    resting = trader.placed(
        symbol="AAPL", qty="10", side="sell", type="stop", stop_price="100.00", time_in_force="gtc"
    )
    response = trader.order(symbol="AAPL", type="limit", limit_price="50.00")
    assert_wash_trade(response, resting, "opposite side market/stop order exists")


def test_crossing_limits_name_the_resting_limit(trader: Trader) -> None:
    """A sell limit at or under the account's resting buy limit: an opposite side limit order exists."""
    trader.placed(symbol="AAPL", qty="10")
    resting = trader.placed(symbol="AAPL", type="limit", limit_price="150.00", time_in_force="gtc")
    response = trader.order(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="140.00")
    assert_wash_trade(response, resting, "opposite side limit order exists")
