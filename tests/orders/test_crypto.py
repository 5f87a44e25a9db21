"""Crypto symbol forms: `BTCUSD` and `BTC/USD` name one asset, whose class (from Alpaca's asset, not the
symbol's shape) decides the rules, the close path and the quote an order is valued at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.conftest import call_entry
from tests.orders.conftest import place, set_risk, upstream_orders

BUY_BTC = {"qty": "0.01", "side": "buy", "type": "market", "time_in_force": "gtc"}


@pytest.mark.parametrize("symbol", ["BTCUSD", "BTC/USD"])
def test_gtc_crypto_order_is_placed_under_either_symbol_form(gateway: Any, sandbox: Any, symbol: str) -> None:
    """A fractional GTC order on the pair is a crypto order, not a refused fractional equity order."""
    reply = place({**BUY_BTC, "symbol": symbol})
    assert reply.status == 200, reply.text
    assert [o["symbol"] for o in upstream_orders(sandbox)] == [reply.body["symbol"]]


def test_day_order_on_btcusd_breaks_the_crypto_rule(gateway: Any, sandbox: Any) -> None:
    """The asset says crypto, so DAY is refused as Alpaca refuses it, with no order sent."""
    reply = place({**BUY_BTC, "symbol": "BTCUSD", "time_in_force": "day"})
    assert (reply.status, reply.body["error"]) == (422, "crypto_time_in_force"), reply.text
    assert upstream_orders(sandbox) == []


def test_fractional_gtc_equity_order_is_still_refused(gateway: Any, sandbox: Any) -> None:
    """AAPL is an equity by its asset: a fractional order must be DAY."""
    reply = place({"symbol": "AAPL", "qty": "0.5", "side": "buy", "time_in_force": "gtc"})
    assert (reply.status, reply.body["error"]) == (422, "fractional_day_only"), reply.text


def test_encoded_pair_in_the_close_path_closes_the_crypto_position(gateway: Any, sandbox: Any) -> None:
    """`/positions/BTC%2FUSD/close` is one path segment: the pair's position is closed."""
    assert place({**BUY_BTC, "symbol": "BTC/USD"}).status == 200
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/BTC%2FUSD/close")
    assert (reply.status, reply.body["side"]) == (200, "sell"), reply.text


def test_crypto_order_is_valued_at_the_crypto_quote(gateway: Any, sandbox: Any, db: Any) -> None:
    """With a notional limit set, a BTCUSD market order is priced from the crypto quote, not refused."""
    sandbox.set_price("BTC/USD", "50000")
    set_risk(db, max_order_notional="100")
    denied = place({**BUY_BTC, "symbol": "BTCUSD"})
    assert (denied.status, denied.body["error"]) == (403, "max_order_notional"), denied.text
    set_risk(db, max_order_notional="1000")
    gateway.risk.fresh()
    assert place({**BUY_BTC, "symbol": "BTCUSD", "client_order_id": "btc-ok"}).status == 200
