"""The seed guide's breakout bot, run through alpaca-py against the sandbox: clock, assets, the range of
the last ten minute bars, a bracket order on the breakout, then positions until an exit fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetStatus, OrderClass, OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetAssetsRequest,
    GetOrderByIdRequest,
    MarketOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)

from tests.sandbox.fidelity_support import TRADING_NOW, open_market, trading_client

SYMBOL = "AAPL"


@dataclass
class Session:
    trading: TradingClient
    data: StockHistoricalDataClient
    high: Decimal
    range_size: Decimal


def breakout_range(data: StockHistoricalDataClient) -> tuple[Decimal, Decimal]:
    """The bot's range: high and low of the last ten one-minute bars, at least 0.3% of the price wide."""
    start = datetime.fromisoformat(TRADING_NOW) - timedelta(minutes=10)
    request = StockBarsRequest(symbol_or_symbols=SYMBOL, timeframe=TimeFrame.Minute, start=start, limit=10)
    bars = data.get_stock_bars(request)[SYMBOL]
    assert len(bars) == 10
    high = Decimal(str(max(b.high for b in bars)))
    low = Decimal(str(min(b.low for b in bars)))
    return high, max(high - low, (Decimal(str(bars[0].close)) * Decimal("0.003")).quantize(Decimal("0.01")))


@pytest.fixture
def session(sandbox: Any) -> Session:
    """The bot's start: market open, more than 20 minutes to the close, no positions, AAPL tradable."""
    open_market(sandbox, TRADING_NOW)
    trading = trading_client(sandbox)
    data = StockHistoricalDataClient(sandbox.key, sandbox.secret, url_override=sandbox.url)
    clock = trading.get_clock()
    assert clock.is_open and (clock.next_close - clock.timestamp).total_seconds() > 20 * 60
    assert trading.get_all_positions() == []
    assets = trading.get_all_assets(GetAssetsRequest(status=AssetStatus.ACTIVE))
    assert any(a.symbol == SYMBOL and a.tradable for a in assets)
    high, range_size = breakout_range(data)
    return Session(trading, data, high, range_size)


def enter_long(sandbox: Any, session: Session) -> Order:
    """The price breaks above the range; the bot buys 100 with its stop and target a range away."""
    breakout = session.high + session.range_size / 2
    sandbox.set_price(SYMBOL, str(breakout.quantize(Decimal("0.01"))))
    last = session.data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=SYMBOL))[SYMBOL]
    assert Decimal(str(last.price)) > session.high
    order: Order = session.trading.submit_order(
        MarketOrderRequest(
            symbol=SYMBOL,
            qty=100,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            order_class=OrderClass.BRACKET,
            stop_loss=StopLossRequest(stop_price=float(session.high - session.range_size)),
            take_profit=TakeProfitRequest(limit_price=float(session.high + session.range_size)),
        )
    )
    return order


def test_breakout_bracket_fills_and_opens_the_position(sandbox: Any, session: Session) -> None:
    """The bracket built from the bars' range is accepted, fills, and the bot sees a 100-share position."""
    order = enter_long(sandbox, session)
    assert order.order_class == OrderClass.BRACKET and order.status == OrderStatus.FILLED
    positions = session.trading.get_all_positions()
    assert [(p.symbol, p.qty) for p in positions] == [(SYMBOL, "100")]


def test_take_profit_ends_the_trade_and_cancels_the_stop(sandbox: Any, session: Session) -> None:
    """Once the target trades, the take-profit leg fills, the stop leg is canceled, no position is left."""
    order = enter_long(sandbox, session)
    target = str((session.high + session.range_size + 1).quantize(Decimal("0.01")))
    sandbox.set_price(SYMBOL, target)
    legs = session.trading.get_order_by_id(order.id, GetOrderByIdRequest(nested=True)).legs or []
    assert sorted(leg.status.value for leg in legs) == ["canceled", "filled"]
    assert session.trading.get_all_positions() == []
