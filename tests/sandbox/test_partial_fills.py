"""Partial fills: an order larger than its symbol's liquidity fills in parts over successive minutes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Sandbox
from tests.sandbox.conftest import Trader


def fills_of(trader: Trader, order_id: str) -> list[dict[str, Any]]:
    found = trader.http.get("/v2/account/activities/FILL", params={"direction": "asc"}).json()
    return [a for a in found if a["order_id"] == order_id]


def test_order_above_liquidity_fills_one_part_per_minute(sandbox: Sandbox, trader: Trader) -> None:
    """10 shares against a liquidity of 4: 4 now, 4 the next minute, the last 2 the minute after."""
    sandbox.set_liquidity("AAPL", "4")
    order = trader.placed(symbol="AAPL", qty="10")
    assert (order["status"], order["filled_qty"], order["filled_at"]) == ("partially_filled", "4", None)
    sandbox.advance(60)
    assert trader.get_order(order["id"])["filled_qty"] == "8"
    sandbox.advance(60)
    done = trader.get_order(order["id"])
    assert (done["status"], done["filled_qty"]) == ("filled", "10")
    assert done["filled_at"] is not None
    parts = fills_of(trader, order["id"])
    assert [(a["type"], a["qty"], a["cum_qty"], a["leaves_qty"]) for a in parts] == [
        ("partial_fill", "4", "4", "6"),
        ("partial_fill", "4", "8", "2"),
        ("fill", "2", "10", "0"),
    ]
    assert [a["order_status"] for a in parts] == ["partially_filled", "partially_filled", "filled"]


def test_average_price_weighs_each_part(sandbox: Sandbox, trader: Trader) -> None:
    """Parts at different prices: filled_avg_price is their quantity-weighted mean."""
    sandbox.set_liquidity("AAPL", "1")
    sandbox.set_price("AAPL", "100.00")
    order = trader.placed(symbol="AAPL", qty="2")
    sandbox.set_price("AAPL", "110.00")
    sandbox.advance(60)
    parts = fills_of(trader, order["id"])
    prices = [Decimal(a["price"]) for a in parts]
    done = trader.get_order(order["id"])
    assert Decimal(done["filled_avg_price"]) == sum(prices) / 2
    assert prices[0] < prices[1]


def test_liquidity_is_off_by_default(trader: Trader) -> None:
    """Without a liquidity setting a large order fills at once, as before."""
    order = trader.placed(symbol="AAPL", qty="500")
    assert (order["status"], order["filled_qty"]) == ("filled", "500")


def test_canceling_a_partly_filled_order_keeps_its_fills(sandbox: Sandbox, trader: Trader) -> None:
    """A cancel after the first part: canceled, with the filled part kept."""
    sandbox.set_liquidity("*", "3")
    order = trader.placed(symbol="MSFT", qty="5")
    assert trader.http.delete(f"/v2/orders/{order['id']}").status_code == 204
    sandbox.advance(60)
    after = trader.get_order(order["id"])
    assert (after["status"], after["filled_qty"]) == ("canceled", "3")


def test_ioc_above_liquidity_fills_what_it_can_and_cancels_the_rest(sandbox: Sandbox, trader: Trader) -> None:
    """IOC above the liquidity: the available part fills, the rest is canceled at once."""
    sandbox.set_liquidity("AAPL", "2")
    order = trader.placed(symbol="AAPL", qty="5", time_in_force="ioc")
    assert (order["status"], order["filled_qty"]) == ("canceled", "2")


def test_liquidity_setting_is_listed_and_lifted(sandbox: Sandbox) -> None:
    """The admin route lists the settings by symbol and null lifts one."""
    sandbox.set_liquidity("aapl", "7")
    assert sandbox.admin.get("/_sandbox/liquidity").json() == {"liquidity": {"AAPL": "7"}}
    sandbox.set_liquidity("AAPL", None)
    assert sandbox.admin.get("/_sandbox/liquidity").json() == {"liquidity": {}}


def test_liquidity_of_an_unknown_symbol_is_404(sandbox: Sandbox) -> None:
    """A symbol the sandbox does not list cannot get a liquidity setting."""
    response = sandbox.admin.put("/_sandbox/liquidity/NOPE", json={"qty": "1"})
    assert response.status_code == 404
