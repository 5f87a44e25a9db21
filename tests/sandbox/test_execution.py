"""Order execution as prices and sandbox time move: fills, triggers, legs, expiry, bookkeeping."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.conftest import Sandbox
from tests.sandbox.conftest import SATURDAY_NOON, Trader


def test_market_buy_during_hours_fills_at_ask(trader: Trader) -> None:
    """A regular-hours market buy fills at once at the ask of the quote."""
    quote = trader.http.get("/v2/stocks/AAPL/quotes/latest").json()["quote"]
    order = trader.placed(symbol="AAPL", qty="2")
    assert order["status"] == "filled"
    assert Decimal(order["filled_avg_price"]) == Decimal(str(quote["ap"]))
    assert order["order_class"] == "" and order["filled_qty"] == "2"


def test_market_buy_outside_hours_fills_at_next_open(sandbox: Sandbox, trader: Trader) -> None:
    """On a Saturday a market buy is accepted, then fills at Monday's 09:30 ET open."""
    sandbox.set_clock(SATURDAY_NOON)
    order = trader.placed(symbol="AAPL")
    assert order["status"] == "accepted"
    sandbox.advance(3 * 86400)
    filled = trader.get_order(order["id"])
    assert filled["status"] == "filled"
    assert filled["filled_at"].startswith("2025-06-23T13:30:00")


def test_limit_buy_fills_when_pinned_price_drops_below_limit(sandbox: Sandbox, trader: Trader) -> None:
    """A resting buy limit fills as soon as the ask falls to its limit."""
    sandbox.set_price("AAPL", "200.00")
    order = trader.placed(symbol="AAPL", type="limit", limit_price="190.00", time_in_force="gtc")
    assert order["status"] == "new"
    sandbox.set_price("AAPL", "189.00")
    filled = trader.get_order(order["id"])
    assert filled["status"] == "filled"
    assert Decimal(filled["filled_avg_price"]) <= Decimal("190.00")


def test_day_order_expires_after_close_while_gtc_stays(sandbox: Sandbox, trader: Trader) -> None:
    """At the close a day order becomes expired and a gtc order stays open."""
    day = trader.placed(symbol="AAPL", type="limit", limit_price="1.00")
    gtc = trader.placed(symbol="AAPL", type="limit", limit_price="1.00", time_in_force="gtc")
    sandbox.advance(7 * 3600)
    expired = trader.get_order(day["id"])
    assert expired["status"] == "expired"
    assert expired["expired_at"].startswith("2025-06-24T20:00:00")
    assert trader.get_order(gtc["id"])["status"] == "new"


def test_stop_sell_triggers_when_bid_falls_to_stop(sandbox: Sandbox, trader: Trader) -> None:
    """A sell stop fills at the bid once the price falls through the stop."""
    sandbox.set_price("MSFT", "400.00")
    trader.placed(symbol="MSFT", qty="3")
    stop = trader.placed(
        symbol="MSFT", qty="3", side="sell", type="stop", stop_price="390.00", time_in_force="gtc"
    )
    assert stop["status"] == "new"
    sandbox.set_price("MSFT", "385.00")
    assert trader.get_order(stop["id"])["status"] == "filled"
    assert "MSFT" not in trader.positions()


def test_trailing_stop_follows_high_water_mark(sandbox: Sandbox, trader: Trader) -> None:
    """A sell trailing stop raises its stop with new highs and fires on the pullback."""
    sandbox.set_price("NVDA", "100.00")
    trader.placed(symbol="NVDA", qty="5")
    trail = trader.placed(symbol="NVDA", qty="5", side="sell", type="trailing_stop", trail_price="2.00")
    assert (trail["hwm"], trail["stop_price"]) == ("100", "98")
    sandbox.set_price("NVDA", "110.00")
    moved = trader.get_order(trail["id"])
    assert (moved["hwm"], moved["stop_price"], moved["status"]) == ("110", "108", "new")
    sandbox.set_price("NVDA", "107.00")
    assert trader.get_order(trail["id"])["status"] == "filled"


def test_bracket_legs_wait_then_one_exit_cancels_the_other(sandbox: Sandbox, trader: Trader) -> None:
    """Bracket legs are held until the entry fills; the take-profit filling cancels the stop-loss."""
    sandbox.set_price("AMD", "100.00")
    entry = trader.placed(
        symbol="AMD",
        qty="4",
        type="limit",
        limit_price="95.00",
        time_in_force="gtc",
        order_class="bracket",
        take_profit={"limit_price": "110.00"},
        stop_loss={"stop_price": "90.00"},
    )
    assert entry["order_class"] == "bracket"
    assert [leg["status"] for leg in entry["legs"]] == ["held", "held"]
    sandbox.set_price("AMD", "94.00")
    nested = trader.get_order(entry["id"], nested=True)
    assert nested["status"] == "filled"
    assert [leg["status"] for leg in nested["legs"]] == ["new", "new"]
    sandbox.set_price("AMD", "111.00")
    legs = {leg["type"]: leg["status"] for leg in trader.get_order(entry["id"], nested=True)["legs"]}
    assert legs == {"limit": "filled", "stop": "canceled"}
    assert "AMD" not in trader.positions()


def test_oco_stop_filling_cancels_take_profit(sandbox: Sandbox, trader: Trader) -> None:
    """An OCO exit: when the stop leg fills, the take-profit parent is canceled."""
    sandbox.set_price("KO", "60.00")
    trader.placed(symbol="KO", qty="10")
    oco = trader.placed(
        symbol="KO",
        qty="10",
        side="sell",
        type="limit",
        time_in_force="gtc",
        order_class="oco",
        take_profit={"limit_price": "65.00"},
        stop_loss={"stop_price": "55.00"},
    )
    sandbox.set_price("KO", "54.00")
    assert trader.get_order(oco["id"])["status"] == "canceled"
    assert "KO" not in trader.positions()


def test_extended_hours_limit_fills_premarket_regular_limit_waits(sandbox: Sandbox, trader: Trader) -> None:
    """At 07:00 ET an extended-hours DAY limit can fill; a regular limit waits for the open."""
    sandbox.set_clock("2025-06-24T11:00:00Z")
    sandbox.set_price("PEP", "150.00")
    extended = trader.placed(symbol="PEP", type="limit", limit_price="160.00", extended_hours=True)
    regular = trader.placed(symbol="PEP", type="limit", limit_price="1.00")
    assert extended["status"] == "filled"
    assert regular["status"] == "accepted"


def test_ioc_limit_that_cannot_fill_is_canceled(trader: Trader) -> None:
    """An IOC limit far from the market is canceled instead of resting."""
    order = trader.placed(symbol="AAPL", type="limit", limit_price="1.00", time_in_force="ioc")
    assert order["status"] == "canceled"


def test_crypto_trades_on_a_saturday(sandbox: Sandbox, trader: Trader) -> None:
    """Crypto fills 24/7 and its position is named without the slash."""
    sandbox.set_clock(SATURDAY_NOON)
    order = trader.placed(symbol="BTC/USD", qty="0.01", time_in_force="gtc")
    assert order["status"] == "filled"
    assert trader.positions()["BTCUSD"]["qty"] == "0.01"


def test_equity_equals_cash_plus_long_and_short_value(sandbox: Sandbox, trader: Trader) -> None:
    """Account equity stays cash + long_market_value + short_market_value after fills."""
    trader.placed(symbol="AAPL", qty="7")
    trader.placed(symbol="KO", side="sell", qty="4")
    sandbox.set_price("AAPL", "250.00")
    account = trader.account()
    cash, long_value = Decimal(account["cash"]), Decimal(account["long_market_value"])
    short_value = Decimal(account["short_market_value"])
    assert long_value == Decimal("1750") and short_value < 0
    assert Decimal(account["equity"]) == cash + long_value + short_value


def test_averaging_in_updates_avg_entry_price_and_flat_position_vanishes(
    sandbox: Sandbox, trader: Trader
) -> None:
    """Two buys average the entry price; selling everything removes the position."""
    sandbox.set_price("F", "10.00")
    trader.placed(symbol="F", qty="10")
    sandbox.set_price("F", "12.00")
    trader.placed(symbol="F", qty="10")
    position = trader.positions()["F"]
    assert (
        Decimal(position["avg_entry_price"])
        == (Decimal(trader_ask("10.00")) + Decimal(trader_ask("12.00"))) / 2
    )
    trader.placed(symbol="F", qty="20", side="sell")
    assert "F" not in trader.positions()


def trader_ask(price: str) -> str:
    """The ask the sandbox quotes around a pinned equity price of a few dollars: one cent above."""
    return str(Decimal(price) + Decimal("0.01"))


def test_replace_creates_new_order_and_marks_old_replaced(trader: Trader) -> None:
    """PATCH answers a new order that replaces the old one, which becomes replaced."""
    old = trader.placed(symbol="AAPL", type="limit", limit_price="100.00", qty="3")
    response = trader.http.patch(f"/v2/orders/{old['id']}", json={"limit_price": "101.00", "qty": "4"})
    assert response.status_code == 200
    new = response.json()
    assert new["id"] != old["id"] and new["replaces"] == old["id"]
    assert (new["limit_price"], new["qty"]) == ("101", "4")
    previous = trader.get_order(old["id"])
    assert previous["status"] == "replaced" and previous["replaced_by"] == new["id"]


def test_cancel_answers_204_then_422_for_final_orders(trader: Trader) -> None:
    """Cancel is 204 with no body; a second cancel is 422; an unknown id is 404."""
    order = trader.placed(symbol="AAPL", type="limit", limit_price="100.00")
    first = trader.http.delete(f"/v2/orders/{order['id']}")
    assert first.status_code == 204 and first.content == b""
    again = trader.http.delete(f"/v2/orders/{order['id']}")
    assert again.status_code == 422
    assert again.json() == {"code": 42210000, "message": 'order is already in "canceled" state'}
    missing = trader.http.delete("/v2/orders/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


def test_cancel_all_answers_207_per_order(trader: Trader) -> None:
    """DELETE /v2/orders cancels every open order and lists each with status 200."""
    ids = {trader.placed(symbol="AAPL", type="limit", limit_price=p)["id"] for p in ("100.00", "101.00")}
    response = trader.http.delete("/v2/orders")
    assert response.status_code == 207
    assert {item["id"] for item in response.json()} == ids
    assert trader.http.get("/v2/orders").json() == []


def test_close_all_positions_cancels_orders_when_asked(trader: Trader) -> None:
    """cancel_orders=True frees held shares so every position is liquidated (207)."""
    trader.placed(symbol="AAPL", qty="5")
    trader.placed(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="999.00")
    response = trader.http.delete("/v2/positions", params={"cancel_orders": "True"})
    assert response.status_code == 207
    [item] = response.json()
    assert (item["symbol"], item["status"], item["body"]["status"]) == ("AAPL", 200, "filled")
    assert trader.positions() == {}


def test_close_position_by_percentage_sells_whole_shares(trader: Trader) -> None:
    """Closing 50% of 5 whole shares sells 2 and returns the liquidating order."""
    trader.placed(symbol="AAPL", qty="5")
    response = trader.http.delete("/v2/positions/AAPL", params={"percentage": "50"})
    assert response.status_code == 200
    assert (response.json()["side"], response.json()["qty"]) == ("sell", "2")
    assert trader.positions()["AAPL"]["qty"] == "3"


def test_fill_activities_carry_timestamped_ids_and_page(trader: Trader) -> None:
    """FILL activities have '<17 digits>::<uuid>' ids and page with page_token."""
    for _ in range(3):
        trader.placed(symbol="AAPL")
    first = trader.http.get("/v2/account/activities/FILL", params={"page_size": 2}).json()
    assert len(first) == 2 and all(re.fullmatch(r"\d{17}::[0-9a-f-]{36}", a["id"]) for a in first)
    rest = trader.http.get(
        "/v2/account/activities", params={"page_size": 2, "page_token": first[-1]["id"]}
    ).json()
    assert len(rest) == 1 and rest[0]["id"] not in {a["id"] for a in first}


def test_orders_list_filters_by_status_symbol_and_direction(trader: Trader) -> None:
    """GET /v2/orders honours status, symbols, limit and direction."""
    trader.placed(symbol="AAPL")
    a = trader.placed(symbol="MSFT", type="limit", limit_price="1.00")
    b = trader.placed(symbol="MSFT", type="limit", limit_price="2.00")
    open_msft = trader.http.get("/v2/orders", params={"symbols": "MSFT", "direction": "asc"}).json()
    assert [o["id"] for o in open_msft] == [a["id"], b["id"]]
    closed = trader.http.get("/v2/orders", params={"status": "closed"}).json()
    assert [o["symbol"] for o in closed] == ["AAPL"]
    assert len(trader.http.get("/v2/orders", params={"status": "all", "limit": 1}).json()) == 1
