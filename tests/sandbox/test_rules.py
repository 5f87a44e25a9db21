"""Order validation: each rule answers with Alpaca's status, code and message."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Trader

REJECTIONS: list[tuple[dict[str, Any], int, int, str]] = [
    ({"qty": None}, 422, 40010001, "qty or notional is required"),
    ({"notional": "10"}, 422, 40010001, "only one of qty or notional is accepted"),
    ({"qty": "0"}, 422, 40010001, "qty must be > 0"),
    ({"qty": None, "notional": "0.5"}, 422, 42210000, "notional must be >= 1.00"),
    ({"symbol": "NOPE"}, 422, 42210000, 'asset "NOPE" not found'),
    ({"symbol": "TWTR"}, 422, 42210000, 'asset "TWTR" is not tradable'),
    ({"type": "limit"}, 422, 40010001, "limit_price is required for limit orders"),
    ({"limit_price": "10"}, 422, 40010001, "market orders require no stop or limit price"),
    ({"type": "limit", "limit_price": "-1"}, 422, 40010001, "limit price must be > 0"),
    (
        {"type": "limit", "limit_price": "150.123"},
        422,
        42210000,
        "invalid limit_price 150.123. sub-penny increment does not fulfill minimum pricing criteria",
    ),
    ({"symbol": "BRK.A", "qty": "0.5"}, 422, 42210000, 'asset "BRK.A" is not fractionable'),
    ({"qty": "0.5", "time_in_force": "gtc"}, 422, 42210000, "fractional orders must be DAY orders"),
    ({"type": "trailing_stop"}, 422, 40010001, "exactly one of trail_price or trail_percent is required"),
    (
        {"type": "trailing_stop", "trail_percent": "0.05"},
        422,
        40010001,
        "trail_percent must be greater than or equal to 0.1",
    ),
    ({"extended_hours": True}, 422, 42210000, "extended hours order must be DAY limit orders"),
    ({"client_order_id": "x" * 129}, 422, 40010001, "client_order_id must be no more than 128 characters"),
    (
        {"symbol": "BTC/USD", "type": "stop", "stop_price": "1"},
        422,
        42210000,
        "invalid order type for crypto order: stop",
    ),
]


@pytest.mark.parametrize(("fields", "status", "code", "message"), REJECTIONS)
def test_invalid_order_is_rejected_with_alpaca_error(
    trader: Trader, fields: dict[str, Any], status: int, code: int, message: str
) -> None:
    """Each static rule produces the documented status, code and message."""
    response = trader.order(**fields)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"] == message


def test_sub_dollar_price_allows_four_decimals(trader: Trader) -> None:
    """Below $1 the tick is $0.0001, so a 4-decimal limit price is accepted."""
    order = trader.placed(symbol="CEI", type="limit", limit_price="0.1234", qty="10")
    assert order["limit_price"] == "0.1234"


def test_duplicate_client_order_id_rejected_even_after_cancel(trader: Trader) -> None:
    """client_order_id stays taken forever, not just while the first order is open."""
    first = trader.placed(type="limit", limit_price="1.00", client_order_id="dup-1")
    assert trader.http.delete(f"/v2/orders/{first['id']}").status_code == 204
    again = trader.order(type="limit", limit_price="1.00", client_order_id="dup-1")
    assert again.status_code == 422
    assert again.json() == {"code": 40010001, "message": "client_order_id must be unique"}


def test_insufficient_buying_power_reports_amounts(trader: Trader) -> None:
    """A buy beyond buying power is a 403 carrying buying_power and cost_basis."""
    response = trader.order(symbol="BRK.A", qty="1")
    assert response.status_code == 403
    body = response.json()
    assert body["message"] == "insufficient buying power"
    assert body["code"] == 40310000
    assert body["buying_power"] == "400000" and float(body["cost_basis"]) > 400000


def test_open_buy_orders_reserve_buying_power(trader: Trader) -> None:
    """An open limit buy lowers buying power by its cost."""
    before = float(trader.account()["buying_power"])
    trader.placed(symbol="AAPL", type="limit", limit_price="100.00", qty="10")
    assert float(trader.account()["buying_power"]) == pytest.approx(before - 1000)


def test_selling_shares_held_by_open_orders_is_refused(trader: Trader) -> None:
    """Shares held by an open sell order are not available to a second sell."""
    trader.placed(symbol="AAPL", qty="10")
    trader.placed(symbol="AAPL", qty="6", side="sell", type="limit", limit_price="999.00")
    response = trader.order(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="998.00")
    assert response.status_code == 403
    body = response.json()
    assert body["message"] == "insufficient qty available for order (requested: 5, available: 4)"
    assert (body["available"], body["existing_qty"], body["held_for_orders"], body["symbol"]) == (
        "4",
        "10",
        "6",
        "AAPL",
    )


def test_short_sale_of_hard_to_borrow_asset_is_refused(trader: Trader) -> None:
    """Shortable but not easy-to-borrow assets cannot be sold short."""
    response = trader.order(symbol="GME", side="sell")
    assert response.status_code == 403
    assert response.json()["message"] == 'asset "GME" cannot be sold short'


def test_short_sale_opens_negative_position(trader: Trader) -> None:
    """Selling with no position opens a short with negative qty and market value."""
    trader.placed(symbol="KO", side="sell", qty="3")
    position = trader.positions()["KO"]
    assert position["qty"] == "-3" and position["side"] == "short"
    assert float(position["market_value"]) < 0


def test_buy_larger_than_short_cannot_flip(trader: Trader) -> None:
    """Covering more than the short position in one order is refused."""
    trader.placed(symbol="KO", side="sell", qty="3")
    response = trader.order(symbol="KO", side="buy", qty="5")
    assert response.status_code == 403


def test_fractional_short_is_refused(trader: Trader) -> None:
    """Fractional orders cannot be short sales."""
    response = trader.order(symbol="AAPL", side="sell", qty="0.5")
    assert response.status_code == 422
    assert response.json()["message"] == "fractional orders cannot be sold short"


def test_short_with_open_buy_order_is_refused(trader: Trader) -> None:
    """With no position, a short sell is refused while a long buy order is open."""
    trader.placed(symbol="KO", type="limit", limit_price="1.00")
    response = trader.order(symbol="KO", side="sell", type="limit", limit_price="500.00")
    assert response.status_code == 403
    assert response.json()["message"] == "cannot open a short sell while a long buy order is open"


def test_market_order_against_own_open_limit_is_a_wash_trade(trader: Trader) -> None:
    """A market buy that could trade against an own open sell is refused as a wash trade."""
    trader.placed(symbol="AAPL", qty="10")
    sell = trader.placed(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="999.00")
    response = trader.order(symbol="AAPL", qty="1")
    assert response.status_code == 403
    assert response.json()["message"] == "potential wash trade detected. use complex orders"
    assert response.json()["existing_order_id"] == sell["id"]


def test_non_crossing_limits_are_not_a_wash_trade(trader: Trader) -> None:
    """A buy limit below an own sell limit cannot cross, so it is accepted."""
    trader.placed(symbol="AAPL", qty="10")
    trader.placed(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="999.00")
    assert trader.order(symbol="AAPL", type="limit", limit_price="1.00").status_code == 200


def test_bracket_take_profit_must_clear_base_price(trader: Trader) -> None:
    """A bracket take-profit at the entry limit is refused with the base price in the body."""
    response = trader.order(
        symbol="AAPL",
        type="limit",
        limit_price="150.00",
        order_class="bracket",
        take_profit={"limit_price": "150.00"},
        stop_loss={"stop_price": "140.00"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": 42210000,
        "message": "take_profit.limit_price must be >= base_price + 0.01",
        "base_price": "150",
    }


def test_bracket_stop_loss_must_sit_below_base_price(trader: Trader) -> None:
    """A buy bracket's stop-loss at or above the base price is refused."""
    response = trader.order(
        symbol="AAPL",
        type="limit",
        limit_price="150.00",
        order_class="bracket",
        take_profit={"limit_price": "160.00"},
        stop_loss={"stop_price": "149.995"},
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("invalid stop_loss.stop_price")
