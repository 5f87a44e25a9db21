"""Fidelity of the sandbox broker seen through alpaca-py: a full trading session, every answer parsed.

Each test drives the sandbox with alpaca-py's `TradingClient` (raw_data=False, so every answer goes
through alpaca-py's pydantic models) and checks the broker's behaviour against the Alpaca fact sheet
(`/work/shared/alpaca/api-facts.md`): fills at the far side of the quote, account arithmetic, bracket,
OCO and OTO lifecycles, replace/cancel semantics, position closing, clock and calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    AccountStatus,
    AssetClass,
    AssetExchange,
    AssetStatus,
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import (
    AccountConfiguration,
    Asset,
    Calendar,
    Clock,
    ClosePositionResponse,
    Order,
    Position,
    TradeAccount,
)
from alpaca.trading.requests import (
    CancelOrderResponse,
    ClosePositionRequest,
    GetAssetsRequest,
    GetCalendarRequest,
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)

from tests.sandbox.fidelity_support import (
    OPEN_STATUSES,
    dec,
    fill_market,
    new_client_order_id,
    open_market,
    set_price,
    trading_client,
    wait_for_status,
)

OPEN = {OrderStatus(s) for s in OPEN_STATUSES}


@pytest.fixture
def tc(sandbox: Any) -> TradingClient:
    """alpaca-py on the sandbox, with the market open (Tuesday 2026-11-17 10:00 ET, clock frozen)."""
    open_market(sandbox)
    return trading_client(sandbox)


@pytest.fixture
def http(sandbox: Any) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def settle(sandbox: Any, http: httpx.Client, order: Order, status: str, price: tuple[str, str]) -> None:
    """Wait until the order reaches `status`, re-evaluating the book at an unchanged price."""
    wait_for_status(sandbox, http, str(order.id), {status}, nudge=price)


def position_symbols(tc: TradingClient) -> set[str]:
    positions = tc.get_all_positions()
    assert all(isinstance(p, Position) for p in positions)
    return {p.symbol for p in positions}


def limit_bracket_buy(
    tc: TradingClient, *, qty: int, tif: TimeInForce, limit: int, take_profit: int, stop_loss: int
) -> Order:
    """A bracket buying AAPL at a limit, with its take-profit and stop-loss exits."""
    order: Order = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=qty,
            side=OrderSide.BUY,
            time_in_force=tif,
            limit_price=limit,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=take_profit),
            stop_loss=StopLossRequest(stop_price=stop_loss),
        )
    )
    return order


def assert_account_consistent(account: TradeAccount) -> None:
    cash, long_mv, short_mv = (
        dec(account.cash),
        dec(account.long_market_value),
        dec(account.short_market_value),
    )
    assert dec(account.equity) == cash + long_mv + short_mv, (
        f"equity {account.equity} != cash {cash} + long {long_mv} + short {short_mv}"
    )
    assert dec(account.portfolio_value) == dec(account.equity)


# ------------------------------------------------------------------ account, assets, clock, calendar


def test_account_and_configuration_parse_with_initial_margin_paper_balances(tc: TradingClient) -> None:
    """A fresh account is an ACTIVE $100,000 4x margin account with shorting, and both models parse."""
    account = tc.get_account()
    assert isinstance(account, TradeAccount)
    assert account.status == AccountStatus.ACTIVE
    assert account.account_number
    assert account.currency == "USD"
    assert dec(account.cash) == Decimal(100000)
    assert dec(account.equity) == Decimal(100000)
    assert dec(account.long_market_value) == 0
    assert dec(account.short_market_value) == 0
    assert account.multiplier == "4"
    assert dec(account.buying_power) == Decimal(400000)
    assert account.shorting_enabled is True
    assert account.trading_blocked is False
    assert account.account_blocked is False
    assert_account_consistent(account)

    config = tc.get_account_configurations()
    assert isinstance(config, AccountConfiguration)
    assert config.max_margin_multiplier == "4"
    assert config.no_shorting is False
    assert config.suspend_trade is False
    assert config.fractional_trading is True


def test_assets_list_filters_and_single_lookups_parse(tc: TradingClient) -> None:
    """Assets default to us_equity, honour class/status/exchange filters and resolve by symbol and id."""
    equities = tc.get_all_assets()
    assert equities and all(isinstance(a, Asset) for a in equities)
    assert {a.asset_class for a in equities} == {AssetClass.US_EQUITY}
    assert {"AAPL", "MSFT"} <= {a.symbol for a in equities}

    crypto = tc.get_all_assets(GetAssetsRequest(asset_class=AssetClass.CRYPTO))
    assert crypto and {a.asset_class for a in crypto} == {AssetClass.CRYPTO}
    assert "BTC/USD" in {a.symbol for a in crypto}

    active = tc.get_all_assets(GetAssetsRequest(status=AssetStatus.ACTIVE))
    assert active and {a.status for a in active} == {AssetStatus.ACTIVE}

    nasdaq = tc.get_all_assets(GetAssetsRequest(exchange=AssetExchange.NASDAQ))
    assert "AAPL" in {a.symbol for a in nasdaq}
    assert {a.exchange for a in nasdaq} == {AssetExchange.NASDAQ}

    aapl = tc.get_asset("AAPL")
    assert isinstance(aapl, Asset)
    assert (aapl.symbol, aapl.asset_class, aapl.exchange) == (
        "AAPL",
        AssetClass.US_EQUITY,
        AssetExchange.NASDAQ,
    )
    assert aapl.tradable and aapl.fractionable and aapl.shortable and aapl.easy_to_borrow and aapl.marginable
    assert tc.get_asset(aapl.id).symbol == "AAPL"

    btc = tc.get_asset("BTC/USD")
    assert isinstance(btc, Asset)
    assert (btc.symbol, btc.asset_class, btc.exchange) == ("BTC/USD", AssetClass.CRYPTO, AssetExchange.CRYPTO)
    assert btc.tradable and btc.fractionable


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "is_open", "next_open", "next_close"),
    [
        pytest.param(
            "2026-11-17T15:00:00Z",
            True,
            _utc(2026, 11, 18, 14, 30),
            _utc(2026, 11, 17, 21),
            id="regular-hours",
        ),
        pytest.param(
            "2026-11-17T13:00:00Z", False, _utc(2026, 11, 17, 14, 30), _utc(2026, 11, 17, 21), id="pre-market"
        ),
        pytest.param(
            "2026-11-21T15:00:00Z", False, _utc(2026, 11, 23, 14, 30), _utc(2026, 11, 23, 21), id="saturday"
        ),
        pytest.param(
            "2026-11-26T15:00:00Z",
            False,
            _utc(2026, 11, 27, 14, 30),
            _utc(2026, 11, 27, 18),
            id="thanksgiving",
        ),
        pytest.param(
            "2026-11-27T17:00:00Z",
            True,
            _utc(2026, 11, 30, 14, 30),
            _utc(2026, 11, 27, 18),
            id="early-close-day",
        ),
        pytest.param(
            "2026-11-27T18:30:00Z",
            False,
            _utc(2026, 11, 30, 14, 30),
            _utc(2026, 11, 30, 21),
            id="after-early-close",
        ),
    ],
)
def test_clock_reports_session_state_and_next_open_close(
    sandbox: Any, tc: TradingClient, now: str, is_open: bool, next_open: datetime, next_close: datetime
) -> None:
    """get_clock parses and follows the NYSE calendar: weekends, Thanksgiving and the 13:00 early close."""
    sandbox.set_clock(now, frozen=True)
    clock = tc.get_clock()
    assert isinstance(clock, Clock)
    assert clock.timestamp == datetime.fromisoformat(now)
    assert clock.is_open is is_open
    assert clock.next_open == next_open
    assert clock.next_close == next_close


def test_calendar_skips_thanksgiving_and_closes_early_the_day_after(tc: TradingClient) -> None:
    """2026-11-25..30 lists 25, 27 and 30 only; the 27th closes at 13:00, the others at 16:00."""
    days = tc.get_calendar(GetCalendarRequest(start=date(2026, 11, 25), end=date(2026, 11, 30)))
    assert all(isinstance(d, Calendar) for d in days)
    assert [d.date for d in days] == [date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)]
    hours = {d.date.isoformat(): (d.open.strftime("%H:%M"), d.close.strftime("%H:%M")) for d in days}
    assert hours == {
        "2026-11-25": ("09:30", "16:00"),
        "2026-11-27": ("09:30", "13:00"),
        "2026-11-30": ("09:30", "16:00"),
    }


# ------------------------------------------------------------------ fills and account arithmetic


def test_market_orders_fill_at_ask_and_bid_and_account_stays_consistent(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """A market buy fills at the ask, a market sell at the bid; cash, position and equity add up."""
    bid, ask = set_price(sandbox, http, "AAPL", "200.00")
    assert bid <= Decimal("200.00") <= ask and bid < ask

    buy = tc.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert isinstance(buy, Order)
    assert (buy.symbol, buy.type, buy.side, buy.order_class) == (
        "AAPL",
        OrderType.MARKET,
        OrderSide.BUY,
        OrderClass.SIMPLE,
    )
    assert dec(buy.qty) == 10
    settle(sandbox, http, buy, "filled", ("AAPL", "200.00"))
    buy = tc.get_order_by_id(buy.id)
    assert buy.status == OrderStatus.FILLED
    assert dec(buy.filled_qty) == 10
    assert dec(buy.filled_avg_price) == ask
    assert buy.filled_at is not None

    position = tc.get_open_position("AAPL")
    assert isinstance(position, Position)
    assert position.side == PositionSide.LONG
    assert dec(position.qty) == 10
    assert dec(position.avg_entry_price) == ask
    assert dec(position.cost_basis) == 10 * ask
    assert dec(position.market_value) == dec(position.qty) * dec(position.current_price)

    account = tc.get_account()
    assert dec(account.cash) == Decimal(100000) - 10 * ask
    assert dec(account.long_market_value) == dec(position.market_value)
    assert dec(account.short_market_value) == 0
    assert_account_consistent(account)

    sell = tc.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=4, side=OrderSide.SELL, time_in_force=TimeInForce.DAY)
    )
    settle(sandbox, http, sell, "filled", ("AAPL", "200.00"))
    sell = tc.get_order_by_id(sell.id)
    assert dec(sell.filled_avg_price) == bid
    assert dec(tc.get_open_position("AAPL").qty) == 6
    account = tc.get_account()
    assert dec(account.cash) == Decimal(100000) - 10 * ask + 4 * bid
    assert_account_consistent(account)


def test_short_sale_opens_negative_position_and_cover_removes_it(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """Selling flat opens a short (negative qty and market value) at the bid; buying it back closes it."""
    bid, ask = set_price(sandbox, http, "MSFT", "50.00")
    short = tc.submit_order(
        MarketOrderRequest(symbol="MSFT", qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.DAY)
    )
    settle(sandbox, http, short, "filled", ("MSFT", "50.00"))
    assert dec(tc.get_order_by_id(short.id).filled_avg_price) == bid

    position = tc.get_open_position("MSFT")
    assert position.side == PositionSide.SHORT
    assert dec(position.qty) == -5
    assert dec(position.market_value) < 0
    account = tc.get_account()
    assert dec(account.cash) == Decimal(100000) + 5 * bid
    assert dec(account.short_market_value) == dec(position.market_value)
    assert_account_consistent(account)

    cover = tc.submit_order(
        MarketOrderRequest(symbol="MSFT", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    settle(sandbox, http, cover, "filled", ("MSFT", "50.00"))
    assert "MSFT" not in position_symbols(tc)
    account = tc.get_account()
    assert dec(account.cash) == Decimal(100000) + 5 * bid - 5 * ask
    assert dec(account.short_market_value) == 0
    assert_account_consistent(account)


def test_market_order_outside_hours_is_accepted_then_fills_at_the_next_open(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """On a Saturday a market order is `accepted`, not filled; it fills once Monday's session opens."""
    sandbox.set_clock("2026-11-21T15:00:00Z", frozen=True)
    order = tc.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert order.status == OrderStatus.ACCEPTED
    assert tc.get_order_by_id(order.id).filled_at is None
    sandbox.set_clock("2026-11-23T14:30:05Z", frozen=True)
    settle(sandbox, http, order, "filled", ("AAPL", "200.00"))
    filled = tc.get_order_by_id(order.id)
    assert filled.filled_at is not None and filled.filled_at >= _utc(2026, 11, 23, 14, 30)


def test_day_order_expires_at_the_close_while_gtc_stays_open(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """An unfilled DAY limit becomes `expired` (expired_at set) after 16:00 ET; a GTC limit stays open."""
    set_price(sandbox, http, "AAPL", "200.00")
    day, gtc = (
        tc.submit_order(
            LimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=tif, limit_price=150)
        )
        for tif in (TimeInForce.DAY, TimeInForce.GTC)
    )
    sandbox.set_clock("2026-11-17T21:30:00Z", frozen=True)
    wait_for_status(sandbox, http, str(day.id), {"expired"})
    expired = tc.get_order_by_id(day.id)
    assert expired.status == OrderStatus.EXPIRED and expired.expired_at is not None
    assert tc.get_order_by_id(gtc.id).status in OPEN


# ------------------------------------------------------------------ order types


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param(
            LimitOrderRequest(
                symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=150
            ),
            {"type": OrderType.LIMIT, "limit_price": Decimal(150), "stop_price": None},
            id="limit",
        ),
        pytest.param(
            StopOrderRequest(
                symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, stop_price=250
            ),
            {"type": OrderType.STOP, "stop_price": Decimal(250)},
            id="stop",
        ),
        pytest.param(
            StopLimitOrderRequest(
                symbol="AAPL",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                stop_price=250,
                limit_price=255,
            ),
            {"type": OrderType.STOP_LIMIT, "stop_price": Decimal(250), "limit_price": Decimal(255)},
            id="stop_limit",
        ),
        pytest.param(
            TrailingStopOrderRequest(
                symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, trail_price=5
            ),
            {"type": OrderType.TRAILING_STOP, "trail_price": Decimal(5), "trail_percent": None},
            id="trailing_stop-price",
        ),
        pytest.param(
            TrailingStopOrderRequest(
                symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, trail_percent=2
            ),
            {"type": OrderType.TRAILING_STOP, "trail_percent": Decimal(2), "trail_price": None},
            id="trailing_stop-percent",
        ),
    ],
)
def test_resting_order_types_parse_and_echo_their_prices(
    sandbox: Any, tc: TradingClient, http: httpx.Client, request_: Any, expected: dict[str, Any]
) -> None:
    """Each non-marketable order type is accepted open and echoes its prices; trailing stops carry hwm."""
    set_price(sandbox, http, "AAPL", "200.00")
    order = tc.submit_order(request_)
    assert isinstance(order, Order)
    assert order.status in OPEN
    assert order.order_class == OrderClass.SIMPLE
    assert order.time_in_force == request_.time_in_force
    fetched = tc.get_order_by_id(order.id)
    for source in (order, fetched):
        for field, value in expected.items():
            actual = getattr(source, field)
            assert (actual if value is None or isinstance(value, OrderType) else dec(actual)) == value, field
    if order.type == OrderType.TRAILING_STOP:
        hwm, stop = dec(fetched.hwm), dec(fetched.stop_price)
        assert Decimal(190) < hwm < Decimal(210), "a buy trailing stop tracks the low from the current price"
        if request_.trail_price is not None:
            assert stop == hwm + 5
        else:
            assert abs(stop - hwm * Decimal("1.02")) <= Decimal("0.01")


def test_limit_buy_fills_at_ask_once_the_ask_reaches_the_limit(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """A resting buy limit stays open above the ask and fills at the ask when the ask drops under it."""
    set_price(sandbox, http, "AAPL", "200.00")
    order = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=190
        )
    )
    set_price(sandbox, http, "AAPL", "195.00")
    assert tc.get_order_by_id(order.id).status in OPEN
    _, ask = set_price(sandbox, http, "AAPL", "185.00")
    settle(sandbox, http, order, "filled", ("AAPL", "185.00"))
    filled = tc.get_order_by_id(order.id)
    assert dec(filled.filled_avg_price) == ask
    assert dec(filled.filled_avg_price) <= 190


def test_buy_stop_triggers_on_the_cross_and_fills_at_the_ask(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """A buy stop waits below its stop price and fills at the ask once the price crosses it."""
    set_price(sandbox, http, "AAPL", "200.00")
    order = tc.submit_order(
        StopOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, stop_price=210
        )
    )
    set_price(sandbox, http, "AAPL", "205.00")
    assert tc.get_order_by_id(order.id).status in OPEN
    _, ask = set_price(sandbox, http, "AAPL", "212.00")
    settle(sandbox, http, order, "filled", ("AAPL", "212.00"))
    assert dec(tc.get_order_by_id(order.id).filled_avg_price) == ask


def test_trailing_stop_sell_follows_the_high_and_triggers_on_the_pullback(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """A sell trailing stop raises hwm and stop with the price and sells at the bid after the drop."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "200.00")
    order = tc.submit_order(
        TrailingStopOrderRequest(
            symbol="AAPL", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, trail_price=5
        )
    )
    set_price(sandbox, http, "AAPL", "210.00")
    trailing = tc.get_order_by_id(order.id)
    assert trailing.status in OPEN
    assert Decimal(209) <= dec(trailing.hwm) <= Decimal(211)
    assert dec(trailing.stop_price) == dec(trailing.hwm) - 5
    set_price(sandbox, http, "AAPL", "208.00")
    assert tc.get_order_by_id(order.id).status in OPEN
    bid, _ = set_price(sandbox, http, "AAPL", "200.00")
    settle(sandbox, http, order, "filled", ("AAPL", "200.00"))
    assert dec(tc.get_order_by_id(order.id).filled_avg_price) == bid
    assert "AAPL" not in position_symbols(tc)


# ------------------------------------------------------------------ bracket, oco, oto


def _legs_by_type(order: Order) -> dict[OrderType, Order]:
    assert order.legs is not None
    return {leg.type: leg for leg in order.legs}


@pytest.mark.parametrize(
    ("exit_price", "filling_leg", "canceled_leg"),
    [
        pytest.param("111.00", OrderType.LIMIT, OrderType.STOP, id="take-profit-fills"),
        pytest.param("89.00", OrderType.STOP, OrderType.LIMIT, id="stop-loss-fills"),
    ],
)
def test_bracket_legs_are_held_then_live_and_one_exit_cancels_the_other(
    sandbox: Any,
    tc: TradingClient,
    http: httpx.Client,
    exit_price: str,
    filling_leg: OrderType,
    canceled_leg: OrderType,
) -> None:
    """Both bracket legs are held before the entry fills, go live after it, and one exit cancels the other."""
    set_price(sandbox, http, "AAPL", "100.00")
    parent = limit_bracket_buy(tc, qty=10, tif=TimeInForce.GTC, limit=99, take_profit=110, stop_loss=90)
    assert parent.order_class == OrderClass.BRACKET
    nested = tc.get_order_by_id(parent.id, GetOrderByIdRequest(nested=True))
    legs = _legs_by_type(nested)
    assert set(legs) == {OrderType.LIMIT, OrderType.STOP}
    assert {leg.status for leg in legs.values()} == {OrderStatus.HELD}
    assert {leg.side for leg in legs.values()} == {OrderSide.SELL}
    assert [dec(leg.qty) for leg in legs.values()] == [10, 10]
    assert dec(legs[OrderType.LIMIT].limit_price) == 110
    assert dec(legs[OrderType.STOP].stop_price) == 90

    set_price(sandbox, http, "AAPL", "98.00")
    settle(sandbox, http, parent, "filled", ("AAPL", "98.00"))
    legs = _legs_by_type(tc.get_order_by_id(parent.id, GetOrderByIdRequest(nested=True)))
    assert legs[OrderType.LIMIT].status == OrderStatus.NEW
    assert legs[OrderType.STOP].status in {OrderStatus.NEW, OrderStatus.HELD}
    assert dec(tc.get_open_position("AAPL").qty) == 10

    set_price(sandbox, http, "AAPL", exit_price)
    wait_for_status(sandbox, http, str(legs[filling_leg].id), {"filled"}, nudge=("AAPL", exit_price))
    wait_for_status(sandbox, http, str(legs[canceled_leg].id), {"canceled"}, nudge=("AAPL", exit_price))
    assert tc.get_order_by_id(legs[canceled_leg].id).canceled_at is not None
    assert "AAPL" not in position_symbols(tc)


def test_oco_exit_stop_fill_cancels_take_profit_and_closes_position(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """An OCO on a long position rests as a take-profit limit with a stop leg; the stop's fill cancels it."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "100.00")
    oco = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=10,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            order_class=OrderClass.OCO,
            take_profit=TakeProfitRequest(limit_price=110),
            stop_loss=StopLossRequest(stop_price=90),
        )
    )
    assert oco.order_class == OrderClass.OCO
    assert oco.type == OrderType.LIMIT and dec(oco.limit_price) == 110
    nested = tc.get_order_by_id(oco.id, GetOrderByIdRequest(nested=True))
    assert nested.legs is not None and len(nested.legs) == 1
    stop_leg = nested.legs[0]
    assert stop_leg.type == OrderType.STOP and dec(stop_leg.stop_price) == 90

    set_price(sandbox, http, "AAPL", "89.00")
    wait_for_status(sandbox, http, str(stop_leg.id), {"filled"}, nudge=("AAPL", "89.00"))
    settle(sandbox, http, oco, "canceled", ("AAPL", "89.00"))
    assert "AAPL" not in position_symbols(tc)


def test_oto_leg_is_held_until_the_entry_fills_then_protects_the_position(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """An OTO's single stop-loss leg is held until the entry fills, then live, then exits the position."""
    set_price(sandbox, http, "AAPL", "100.00")
    parent = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=5,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=99,
            order_class=OrderClass.OTO,
            stop_loss=StopLossRequest(stop_price=90),
        )
    )
    assert parent.order_class == OrderClass.OTO
    nested = tc.get_order_by_id(parent.id, GetOrderByIdRequest(nested=True))
    assert nested.legs is not None and len(nested.legs) == 1
    leg = nested.legs[0]
    assert (leg.type, leg.side, leg.status) == (OrderType.STOP, OrderSide.SELL, OrderStatus.HELD)

    set_price(sandbox, http, "AAPL", "98.00")
    settle(sandbox, http, parent, "filled", ("AAPL", "98.00"))
    assert tc.get_order_by_id(leg.id).status in OPEN - {OrderStatus.HELD}
    set_price(sandbox, http, "AAPL", "89.00")
    wait_for_status(sandbox, http, str(leg.id), {"filled"}, nudge=("AAPL", "89.00"))
    assert "AAPL" not in position_symbols(tc)


def test_canceling_a_bracket_parent_cancels_its_held_legs(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """Cancelling the unfilled entry of a bracket cancels both held exit legs with it."""
    set_price(sandbox, http, "AAPL", "100.00")
    parent = limit_bracket_buy(tc, qty=2, tif=TimeInForce.GTC, limit=95, take_profit=120, stop_loss=80)
    legs = tc.get_order_by_id(parent.id, GetOrderByIdRequest(nested=True)).legs
    assert legs is not None and len(legs) == 2
    tc.cancel_order_by_id(parent.id)
    for order_id in [parent.id, *(leg.id for leg in legs)]:
        wait_for_status(sandbox, http, str(order_id), {"canceled"})
    assert tc.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []


def test_bracket_exit_legs_hold_the_shares_until_close_all_cancels_them(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """Live bracket legs hold the shares (close_position is 403) until cancel_orders frees them."""
    set_price(sandbox, http, "AAPL", "100.00")
    parent = tc.submit_order(
        MarketOrderRequest(
            symbol="AAPL",
            qty=10,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=120),
            stop_loss=StopLossRequest(stop_price=80),
        )
    )
    settle(sandbox, http, parent, "filled", ("AAPL", "100.00"))
    position = tc.get_open_position("AAPL")
    assert dec(position.qty) == 10 and dec(position.qty_available) == 0
    with pytest.raises(APIError) as held:
        tc.close_position("AAPL")
    assert held.value.status_code == 403

    results = tc.close_all_positions(cancel_orders=True)
    assert [(r.symbol, r.status) for r in results] == [("AAPL", 200)]
    closing = results[0].body
    assert isinstance(closing, Order)
    settle(sandbox, http, closing, "filled", ("AAPL", "100.00"))
    assert tc.get_all_positions() == []
    assert tc.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []


def test_open_buy_order_reserves_buying_power_until_canceled(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """A resting 100 x $150 buy limit lowers buying_power by $15,000; cancelling it gives it back."""
    set_price(sandbox, http, "AAPL", "200.00")
    before = dec(tc.get_account().buying_power)
    order = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=100, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=150
        )
    )
    account = tc.get_account()
    assert dec(account.buying_power) == before - 15000
    assert dec(account.cash) == Decimal(100000), "an unfilled order moves no cash"
    tc.cancel_order_by_id(order.id)
    wait_for_status(sandbox, http, str(order.id), {"canceled"})
    assert dec(tc.get_account().buying_power) == before


# ------------------------------------------------------------------ notional and fractional


def test_notional_and_fractional_orders_fill_fractional_quantities(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """A $1,000 notional buy fills ~1000/ask shares and a 1.5-share buy fills 1.5; the position adds them."""
    _, ask = set_price(sandbox, http, "AAPL", "200.00")
    notional = tc.submit_order(
        MarketOrderRequest(symbol="AAPL", notional=1000, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert notional.qty is None and dec(notional.notional) == 1000
    settle(sandbox, http, notional, "filled", ("AAPL", "200.00"))
    notional = tc.get_order_by_id(notional.id)
    bought = dec(notional.filled_qty)
    assert bought != bought.to_integral_value(), "a notional order buys a fractional quantity"
    assert abs(bought * dec(notional.filled_avg_price) - 1000) < Decimal("0.01")
    assert dec(notional.filled_avg_price) == ask

    fractional = tc.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=1.5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    settle(sandbox, http, fractional, "filled", ("AAPL", "200.00"))
    assert dec(tc.get_order_by_id(fractional.id).filled_qty) == Decimal("1.5")
    assert dec(tc.get_open_position("AAPL").qty) == bought + Decimal("1.5")
    assert_account_consistent(tc.get_account())


# ------------------------------------------------------------------ queries, replace, cancel


def test_get_orders_filters_by_status_symbol_limit_direction_and_time(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """get_orders honours status open/closed/all, symbols, limit, direction and exclusive after/until."""
    set_price(sandbox, http, "AAPL", "200.00")
    set_price(sandbox, http, "MSFT", "100.00")

    def limit_buy(symbol: str) -> Order:
        return tc.submit_order(
            LimitOrderRequest(
                symbol=symbol, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=50
            )
        )

    a = limit_buy("AAPL")
    sandbox.advance(60)
    b = limit_buy("MSFT")
    sandbox.advance(60)
    sandbox.set_price("MSFT", "100.00")
    c = tc.submit_order(
        MarketOrderRequest(symbol="MSFT", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    settle(sandbox, http, c, "filled", ("MSFT", "100.00"))
    sandbox.advance(60)
    d = limit_buy("AAPL")
    tc.cancel_order_by_id(d.id)
    wait_for_status(sandbox, http, str(d.id), {"canceled"})
    assert a.submitted_at < b.submitted_at < c.submitted_at < d.submitted_at

    def ids(**filters: Any) -> list[Any]:
        orders = tc.get_orders(GetOrdersRequest(**filters))
        assert all(isinstance(o, Order) for o in orders)
        return [o.id for o in orders]

    assert set(ids()) == {a.id, b.id}, "the default status is open"
    assert set(ids(status=QueryOrderStatus.OPEN)) == {a.id, b.id}
    assert set(ids(status=QueryOrderStatus.CLOSED)) == {c.id, d.id}
    assert ids(status=QueryOrderStatus.ALL) == [d.id, c.id, b.id, a.id], "the default direction is desc"
    assert ids(status=QueryOrderStatus.ALL, direction=Sort.ASC) == [a.id, b.id, c.id, d.id]
    assert set(ids(status=QueryOrderStatus.ALL, symbols=["AAPL"])) == {a.id, d.id}
    assert set(ids(status=QueryOrderStatus.ALL, symbols=["AAPL", "MSFT"])) == {a.id, b.id, c.id, d.id}
    assert ids(status=QueryOrderStatus.ALL, limit=2) == [d.id, c.id]
    assert ids(status=QueryOrderStatus.ALL, limit=2, direction=Sort.ASC) == [a.id, b.id]
    assert set(ids(status=QueryOrderStatus.ALL, after=a.submitted_at, until=d.submitted_at)) == {b.id, c.id}
    window = ids(
        status=QueryOrderStatus.ALL,
        after=a.submitted_at + timedelta(seconds=30),
        until=c.submitted_at + timedelta(seconds=30),
    )
    assert set(window) == {b.id, c.id}
    assert ids(status=QueryOrderStatus.ALL, side=OrderSide.SELL) == []


def test_get_orders_nested_groups_bracket_legs_under_the_parent(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """Without nested the bracket legs are listed as orders of their own; with nested they sit under legs."""
    set_price(sandbox, http, "AAPL", "100.00")
    parent = limit_bracket_buy(tc, qty=3, tif=TimeInForce.DAY, limit=95, take_profit=120, stop_loss=80)
    flat = tc.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert len(flat) == 3 and parent.id in {o.id for o in flat}
    nested = tc.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, nested=True))
    assert [o.id for o in nested] == [parent.id]
    assert nested[0].legs is not None
    assert {leg.id for leg in nested[0].legs} == {o.id for o in flat} - {parent.id}


def test_order_is_found_by_id_and_by_client_order_id(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """An order is retrievable by its id and by its client_order_id; a missing client id is generated."""
    set_price(sandbox, http, "AAPL", "200.00")
    coid = new_client_order_id()
    order = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=1,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=150,
            client_order_id=coid,
        )
    )
    assert order.client_order_id == coid
    by_id = tc.get_order_by_id(order.id)
    by_client = tc.get_order_by_client_id(coid)
    assert isinstance(by_client, Order)
    assert by_id.id == by_client.id == order.id
    assert by_client.client_order_id == coid

    anonymous = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=140
        )
    )
    assert anonymous.client_order_id and anonymous.client_order_id != coid
    assert tc.get_order_by_client_id(anonymous.client_order_id).id == anonymous.id


def test_replace_creates_a_new_order_and_marks_the_old_one_replaced(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """PATCH returns a new order (new id, replaces=old) and the old one ends replaced with replaced_by."""
    set_price(sandbox, http, "AAPL", "200.00")
    old = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=150
        )
    )
    coid = new_client_order_id("replaced")
    new = tc.replace_order_by_id(old.id, ReplaceOrderRequest(qty=5, limit_price=155, client_order_id=coid))
    assert isinstance(new, Order)
    assert new.id != old.id
    assert new.replaces == old.id
    assert new.client_order_id == coid
    assert dec(new.qty) == 5 and dec(new.limit_price) == 155
    assert (new.symbol, new.side, new.type) == ("AAPL", OrderSide.BUY, OrderType.LIMIT)

    wait_for_status(sandbox, http, str(old.id), {"replaced"})
    old = tc.get_order_by_id(old.id)
    assert old.status == OrderStatus.REPLACED
    assert old.replaced_by == new.id
    assert old.replaced_at is not None
    assert [o.id for o in tc.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))] == [new.id]


def test_cancel_by_id_and_cancel_all_leave_no_open_orders(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """cancel_order_by_id returns None and cancels; cancel_orders answers a 200 item per open order."""
    set_price(sandbox, http, "AAPL", "200.00")
    set_price(sandbox, http, "MSFT", "100.00")
    orders = [
        tc.submit_order(
            LimitOrderRequest(
                symbol=s, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=p
            )
        )
        for s, p in (("AAPL", 150), ("AAPL", 140), ("MSFT", 60))
    ]
    assert tc.cancel_order_by_id(orders[0].id) is None
    wait_for_status(sandbox, http, str(orders[0].id), {"canceled"})
    canceled = tc.get_order_by_id(orders[0].id)
    assert canceled.status == OrderStatus.CANCELED and canceled.canceled_at is not None

    responses = tc.cancel_orders()
    assert all(isinstance(r, CancelOrderResponse) for r in responses)
    assert {r.id for r in responses} == {orders[1].id, orders[2].id}
    assert {r.status for r in responses} == {200}
    for order in orders[1:]:
        wait_for_status(sandbox, http, str(order.id), {"canceled"})
    assert tc.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []


# ------------------------------------------------------------------ positions


def test_close_position_by_qty_then_percentage_then_fully(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """close_position sells 4 of 10, then 50% of 6, then the rest; the closed position disappears (404)."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "100.00")
    price = ("AAPL", "100.00")

    by_qty = tc.close_position("AAPL", ClosePositionRequest(qty="4"))
    assert isinstance(by_qty, Order)
    assert (by_qty.side, by_qty.type, dec(by_qty.qty)) == (OrderSide.SELL, OrderType.MARKET, 4)
    settle(sandbox, http, by_qty, "filled", price)
    assert dec(tc.get_open_position("AAPL").qty) == 6

    by_pct = tc.close_position("AAPL", ClosePositionRequest(percentage="50"))
    assert (by_pct.side, dec(by_pct.qty)) == (OrderSide.SELL, 3)
    settle(sandbox, http, by_pct, "filled", price)
    assert dec(tc.get_open_position("AAPL").qty) == 3

    rest = tc.close_position("AAPL")
    assert (rest.side, dec(rest.qty)) == (OrderSide.SELL, 3)
    settle(sandbox, http, rest, "filled", price)
    with pytest.raises(APIError) as missing:
        tc.get_open_position("AAPL")
    assert missing.value.status_code == 404
    assert tc.get_all_positions() == []


def test_close_all_positions_cancels_orders_and_flattens_long_and_short(
    sandbox: Any, tc: TradingClient, http: httpx.Client
) -> None:
    """close_all_positions(cancel_orders=True) cancels orders, flattens both sides, leaves cash = equity."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "100.00")
    fill_market(sandbox, http, "MSFT", "5", "sell", "50.00")
    resting = tc.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=50
        )
    )
    long_pos, short_pos = tc.get_open_position("AAPL"), tc.get_open_position("MSFT")
    assert (long_pos.side, short_pos.side) == (PositionSide.LONG, PositionSide.SHORT)
    assert_account_consistent(tc.get_account())

    results = tc.close_all_positions(cancel_orders=True)
    assert all(isinstance(r, ClosePositionResponse) for r in results)
    by_symbol = {r.symbol: r for r in results}
    assert set(by_symbol) == {"AAPL", "MSFT"}
    assert {r.status for r in results} == {200}
    aapl, msft = by_symbol["AAPL"].body, by_symbol["MSFT"].body
    assert isinstance(aapl, Order) and isinstance(msft, Order)
    assert (aapl.side, dec(aapl.qty)) == (OrderSide.SELL, 10)
    assert (msft.side, dec(msft.qty)) == (OrderSide.BUY, 5)

    wait_for_status(sandbox, http, str(resting.id), {"canceled"})
    settle(sandbox, http, aapl, "filled", ("AAPL", "100.00"))
    settle(sandbox, http, msft, "filled", ("MSFT", "50.00"))
    assert tc.get_all_positions() == []
    account = tc.get_account()
    assert dec(account.long_market_value) == 0 and dec(account.short_market_value) == 0
    assert dec(account.equity) == dec(account.cash)
    assert_account_consistent(account)
