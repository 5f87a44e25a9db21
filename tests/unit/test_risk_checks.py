"""Pre-trade risk checks (shared/risk/checks.py) against an in-memory market: each denial and its reason,
and which broker reads each setting costs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.orders.request import OrderRequest
from shared.risk.checks import Denied, RiskChecks
from shared.risk.settings import RiskSettings, TradingState
from tests.support.env import TRADING_NOW
from tests.support.market import FakeMarket

NOW = datetime.fromisoformat(TRADING_NOW).timestamp()  # Tuesday 10:00 ET
SATURDAY = datetime.fromisoformat("2026-11-21T15:00:00Z").timestamp()
AAPL_QUOTE = (Decimal("99.50"), Decimal("100.50"))  # bid, ask
BUY = {"symbol": "AAPL", "side": "buy", "qty": "10"}
SELL = {"symbol": "AAPL", "side": "sell", "qty": "10"}


def order(**fields: Any) -> OrderRequest:
    return OrderRequest.model_validate(fields)


def check(market: FakeMarket, body: dict[str, Any], now: float = NOW, **settings: Any) -> None:
    """The order passes the checks under `settings` (a denial raises)."""
    RiskChecks(market).check_order(order(**body), RiskSettings.model_validate(settings), now)


def denial(market: FakeMarket, body: dict[str, Any], now: float = NOW, **settings: Any) -> Denied:
    with pytest.raises(Denied) as caught:
        check(market, body, now, **settings)
    assert caught.value.status == 403
    return caught.value


def test_order_without_limits_passes_without_asking_the_broker() -> None:
    """With no limit set the order passes and the checks read nothing from the broker."""
    market = FakeMarket()
    check(market, BUY)
    assert market.asked == []


def test_halted_trading_denies_every_order() -> None:
    """The kill switch denies even an order that would shrink a position."""
    market = FakeMarket(positions={"AAPL": Decimal(10)})
    assert denial(market, SELL, trading_state="halted").reason == "trading_halted"


def test_halted_trading_denies_a_close_and_other_states_allow_it() -> None:
    """A close is an exit: allowed while active or reducing, denied only when halted."""
    checks = RiskChecks(FakeMarket())
    checks.check_close(RiskSettings(trading_state=TradingState.ACTIVE))
    checks.check_close(RiskSettings(trading_state=TradingState.REDUCING))
    with pytest.raises(Denied) as caught:
        checks.check_close(RiskSettings(trading_state=TradingState.HALTED))
    assert caught.value.reason == "trading_halted"


def test_denylisted_symbol_is_denied_naming_it() -> None:
    """A symbol on the denylist is `symbol_denied`, with the symbol in the answer."""
    denied = denial(FakeMarket(), BUY, symbol_denylist=["aapl"])
    assert (denied.reason, denied.extra["symbol"]) == ("symbol_denied", "AAPL")


def test_symbol_outside_a_non_empty_allowlist_is_denied() -> None:
    """Once an allowlist is set, any other symbol is `symbol_not_allowed`; a listed one passes."""
    assert denial(FakeMarket(), BUY, symbol_allowlist=["SPY"]).reason == "symbol_not_allowed"
    check(FakeMarket(), BUY, symbol_allowlist=["SPY", "AAPL"])


def test_asset_class_outside_the_allowed_ones_is_denied() -> None:
    """With only US equities allowed, a crypto order is `asset_class_not_allowed`."""
    crypto = {"symbol": "BTC/USD", "side": "buy", "qty": "0.01", "time_in_force": "gtc"}
    denied = denial(FakeMarket(), crypto, allowed_asset_classes=["us_equity"])
    assert denied.reason == "asset_class_not_allowed"
    check(FakeMarket(), BUY, allowed_asset_classes=["us_equity"])


def test_reducing_state_lets_a_sell_within_a_long_position_through() -> None:
    """Reducing-only: a sell no larger than the long position passes, having read that position."""
    market = FakeMarket(positions={"AAPL": Decimal(10)})
    check(market, SELL, trading_state="reducing")
    assert market.asked == ["position AAPL"]


@pytest.mark.parametrize(
    ("position", "body"),
    [
        (Decimal(10), BUY),  # adds to a long
        (Decimal(5), SELL),  # sells past the long: flips to short
        (Decimal(0), SELL),  # opens a short
        (Decimal(-10), {**BUY, "qty": "11"}),  # covers past the short: flips to long
    ],
)
def test_reducing_state_denies_orders_that_do_not_shrink_a_position(
    position: Decimal, body: dict[str, Any]
) -> None:
    """Reducing-only: anything but a shrink of the existing position is `reducing_only`."""
    market = FakeMarket(positions={"AAPL": position})
    assert denial(market, body, trading_state="reducing").reason == "reducing_only"


def test_buy_covering_a_short_reduces_it() -> None:
    """A buy no larger than a short position shrinks it."""
    check(FakeMarket(positions={"AAPL": Decimal(-10)}), BUY, trading_state="reducing")


def test_outside_the_trading_window_only_exits_pass() -> None:
    """On a Saturday a buy is `outside_trading_window`; selling a long position still passes."""
    market = FakeMarket(positions={"AAPL": Decimal(10)})
    window = {"start": "09:30", "end": "16:00"}
    assert denial(market, BUY, SATURDAY, trading_window=window).reason == "outside_trading_window"
    check(market, SELL, SATURDAY, trading_window=window)


def test_inside_the_trading_window_orders_pass_without_a_position_read() -> None:
    """Within the window nothing is read for it."""
    market = FakeMarket()
    check(market, BUY, NOW, trading_window={"start": "09:30", "end": "16:00"})
    assert market.asked == []


def test_limit_order_is_valued_at_its_limit_price() -> None:
    """qty x limit price above max_order_notional is denied with the notional and the limit, no quote read."""
    market = FakeMarket()
    body = {**BUY, "type": "limit", "limit_price": "60"}
    denied = denial(market, body, max_order_notional="500")
    assert (denied.reason, denied.extra) == ("max_order_notional", {"notional": "600.00", "limit": "500"})
    assert market.asked == []


def test_stop_order_is_valued_at_its_stop_price() -> None:
    """A stop order's notional is qty x stop price: 400 passes a 400 limit and is denied under 399."""
    stop = {**BUY, "type": "stop", "stop_price": "40"}
    check(FakeMarket(), stop, max_order_notional="400")
    assert denial(FakeMarket(), stop, max_order_notional="399").extra["notional"] == "400.00"


def test_market_buy_is_valued_at_the_ask() -> None:
    """10 bought at the 100.50 ask is 1005.00, above a 1000 limit."""
    market = FakeMarket(quotes={"AAPL": AAPL_QUOTE})
    assert denial(market, BUY, max_order_notional="1000").extra["notional"] == "1005.00"
    assert market.asked == ["price AAPL buy"]


def test_market_sell_is_valued_at_the_bid() -> None:
    """10 sold at the 99.50 bid is 995.00, within a 1000 limit."""
    market = FakeMarket(quotes={"AAPL": AAPL_QUOTE})
    check(market, SELL, max_order_notional="1000")
    assert market.asked == ["price AAPL sell"]


def test_notional_order_is_checked_at_its_notional() -> None:
    """An order by notional is compared with max_order_notional as it is."""
    market = FakeMarket(quotes={"AAPL": AAPL_QUOTE})
    body = {"symbol": "AAPL", "side": "buy", "notional": "750"}
    assert denial(market, body, max_order_notional="500").extra["notional"] == "750.00"


def test_position_that_would_grow_past_its_cap_is_denied() -> None:
    """10 held + 5 bought at the 100.50 ask is 1507.50, above a 1500 cap: `max_position_notional`."""
    market = FakeMarket(positions={"AAPL": Decimal(10)}, quotes={"AAPL": AAPL_QUOTE})
    denied = denial(market, {**BUY, "qty": "5"}, max_position_notional="1500")
    assert (denied.reason, denied.extra["position_notional"]) == ("max_position_notional", "1507.50")


def test_order_that_shrinks_a_position_is_exempt_from_the_position_cap() -> None:
    """Selling part of a position worth more than the cap still passes."""
    market = FakeMarket(positions={"AAPL": Decimal(100)}, quotes={"AAPL": AAPL_QUOTE})
    check(market, SELL, max_position_notional="1000")


def test_notional_sell_reduces_a_position_only_up_to_its_size_at_the_bid() -> None:
    """Priced at the bid, a 500 sell is about 5 of the 10 held (it reduces); a 1500 sell is not."""
    market = FakeMarket(positions={"AAPL": Decimal(10)}, quotes={"AAPL": AAPL_QUOTE})
    check(market, {"symbol": "AAPL", "side": "sell", "notional": "500"}, trading_state="reducing")
    big = {"symbol": "AAPL", "side": "sell", "notional": "1500"}
    assert denial(market, big, trading_state="reducing").reason == "reducing_only"
