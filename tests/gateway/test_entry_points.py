"""Every entry point of main.py through functions-framework, against the sandbox and the emulator."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.app import install
from shared.config import Settings
from shared.errors import ConfigError
from tests.gateway import seed_shapes as seed
from tests.gateway.conftest import AFTER_HOURS, call_entry
from tests.support.env import TRADING_NOW
from tests.support.sandbox import upstream_requests

pytestmark = pytest.mark.usefixtures("gateway")

MARKET_BUY = {"symbol": "AAPL", "qty": "10", "side": "buy", "type": "market", "time_in_force": "day"}


def buy_directly(sandbox: Any, symbol: str, qty: str) -> dict[str, Any]:
    """A filled market buy placed straight on the sandbox, to set up positions and fills."""
    with sandbox.client() as http:
        response = http.post(
            "/v2/orders",
            json={"symbol": symbol, "qty": qty, "side": "buy", "type": "market", "time_in_force": "day"},
        )
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
    return order


def resting_limit_buy(sandbox: Any, symbol: str = "AAPL") -> dict[str, Any]:
    """A day limit buy far below the market, which stays open."""
    sandbox.set_price(symbol, "200.00")
    with sandbox.client() as http:
        response = http.post(
            "/v2/orders",
            json={
                "symbol": symbol,
                "qty": "1",
                "side": "buy",
                "type": "limit",
                "limit_price": "100.00",
                "time_in_force": "day",
            },
        )
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
    return order


def direct(sandbox: Any, path: str, **params: Any) -> httpx.Response:
    with sandbox.client() as http:
        return http.get(path, params=params)


# -- account ------------------------------------------------------------------------------------


def test_account_has_every_seed_field_typed_as_shown(sandbox: Any) -> None:
    """GET account answers the seed's account object: decimal strings, booleans and an integer count."""
    reply = call_entry("get_account")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.ACCOUNT)
    upstream = direct(sandbox, "/v2/account").json()
    assert reply.body["account_id"] == upstream["id"]
    assert reply.body["buying_power"] == upstream["buying_power"]
    assert reply.body["currency"] == "USD"


# -- positions ----------------------------------------------------------------------------------


def test_positions_list_each_holding_with_seed_fields(market_open: Any) -> None:
    """After a buy, GET positions lists the holding with its quantity as a string and side long."""
    buy_directly(market_open, "AAPL", "5")
    reply = call_entry("list_positions")
    assert reply.status == 200, reply.text
    seed.assert_list_of(reply.body, seed.POSITION)
    held = {p["symbol"]: p for p in reply.body}
    assert set(held) == {"AAPL"}
    assert held["AAPL"]["qty"] == "5"
    assert held["AAPL"]["side"] == "long"
    assert held["AAPL"]["asset_class"] == "us_equity"


def test_positions_are_an_empty_list_when_flat(sandbox: Any) -> None:
    """A fresh account has no positions: an empty JSON array, not null or an object."""
    reply = call_entry("list_positions")
    assert reply.status == 200, reply.text
    assert reply.body == []


def test_close_position_sells_the_whole_holding(market_open: Any) -> None:
    """POST close without qty sells the whole position with a market order shaped as the seed shows."""
    buy_directly(market_open, "AAPL", "10")
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/AAPL/close")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CLOSE_POSITION)
    assert reply.body["symbol"] == "AAPL"
    assert reply.body["side"] == "sell"
    assert reply.body["quantity"] == "10"
    assert reply.body["order_type"] == "market"
    order = direct(market_open, f"/v2/orders/{reply.body['order_id']}")
    assert order.status_code == 200 and order.json()["side"] == "sell"


def test_close_position_with_qty_sells_only_that_quantity(market_open: Any) -> None:
    """POST close with qty 4 of 10 sells 4 and leaves 6 held."""
    buy_directly(market_open, "AAPL", "10")
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/AAPL/close", json_body={"qty": "4"})
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CLOSE_POSITION)
    assert reply.body["quantity"] == "4"
    remaining = direct(market_open, "/v2/positions/AAPL")
    assert remaining.status_code == 200, remaining.text
    assert remaining.json()["qty"] == "6"


def test_close_position_without_a_holding_is_404(sandbox: Any) -> None:
    """Closing a symbol the account does not hold is a JSON 404 position_not_found."""
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/MSFT/close")
    assert reply.status == 404, reply.text
    seed.assert_error(reply.body, 404, "position_not_found")


# -- orders -------------------------------------------------------------------------------------


def test_list_orders_filters_open_closed_and_all(market_open: Any) -> None:
    """status=open shows the resting order, closed the filled one, all both; open is the default."""
    resting = resting_limit_buy(market_open)
    filled = buy_directly(market_open, "MSFT", "1")

    def ids(status: str | None) -> set[str]:
        reply = call_entry("list_orders", query={"status": status} if status else None)
        assert reply.status == 200, reply.text
        seed.assert_list_of(reply.body, seed.ORDER)
        return {o["id"] for o in reply.body}

    assert ids("open") == {resting["id"]}
    assert ids("closed") == {filled["id"]}
    assert ids("all") == {resting["id"], filled["id"]}
    assert ids(None) == {resting["id"]}


def test_listed_order_shows_seed_nulls_for_what_has_not_happened(market_open: Any) -> None:
    """A resting order lists null fill, cancel and expiry fields, and its limit price as a string."""
    resting = resting_limit_buy(market_open)
    reply = call_entry("list_orders", query={"status": "open"})
    (order,) = reply.body
    assert order["id"] == resting["id"]
    for name in ("filled_at", "expired_at", "canceled_at", "failed_at", "filled_avg_price", "notional"):
        assert order[name] is None, name
    assert Decimal(order["limit_price"]) == Decimal("100")
    assert order["filled_qty"] == "0"
    assert order["order_class"] == "simple"


def test_list_orders_rejects_an_unknown_status_without_upstream_call(sandbox: Any) -> None:
    """status=pending is a 400 invalid_status and costs no broker request."""
    before = upstream_requests(sandbox)
    reply = call_entry("list_orders", query={"status": "pending"})
    assert reply.status == 400, reply.text
    seed.assert_error(reply.body, 400, "invalid_status")
    assert upstream_requests(sandbox) == before


def test_place_market_order_answers_the_seed_order(market_open: Any) -> None:
    """POST orders with the seed's body places it upstream and answers every seed field, typed."""
    before = upstream_requests(market_open)
    reply = call_entry("place_order", "POST", json_body=MARKET_BUY)
    assert reply.status == 200, reply.text
    assert upstream_requests(market_open) > before
    seed.assert_shape(reply.body, seed.ORDER_PLACED)
    body = reply.body
    assert (body["symbol"], body["qty"], body["side"]) == ("AAPL", "10", "buy")
    assert body["type"] == body["order_type"] == "market"
    assert body["time_in_force"] == "day"
    assert body["limit_price"] is None and body["stop_price"] is None and body["notional"] is None
    upstream = direct(market_open, f"/v2/orders/{body['id']}")
    assert upstream.status_code == 200
    assert upstream.json()["client_order_id"] == body["client_order_id"]


def test_place_limit_order_keeps_its_limit_price_as_a_string(market_open: Any) -> None:
    """A limit order given a numeric limit price answers it as an exact decimal string."""
    market_open.set_price("AAPL", "200.00")
    order = {"symbol": "aapl", "qty": 2, "side": "buy", "type": "limit", "limit_price": 150.25}
    reply = call_entry("place_order", "POST", json_body=order)
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.ORDER_PLACED)
    assert reply.body["symbol"] == "AAPL"
    assert reply.body["qty"] == "2"
    assert reply.body["limit_price"] == "150.25"
    assert reply.body["type"] == "limit"
    assert reply.body["status"] in {"new", "accepted", "pending_new"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"symbol": "AAPL", "qty": "1", "type": "market"}, 400),  # no side
        ({"symbol": "AAPL", "qty": "ten", "side": "buy"}, 400),
        ({"symbol": "AAPL", "qty": "1", "side": "buy", "colour": "red"}, 400),
        ({"symbol": "AAPL", "qty": "1", "notional": "100", "side": "buy"}, 422),
        ({"symbol": "AAPL", "side": "buy"}, 422),
        ({"symbol": "AAPL", "qty": "1", "side": "buy", "type": "limit"}, 422),
        ({"symbol": "AAPL", "qty": "1", "side": "buy", "client_order_id": "x" * 129}, 422),
    ],
)
def test_invalid_order_is_refused_without_an_upstream_call(
    market_open: Any, body: dict[str, Any], status: int
) -> None:
    """An order that breaks a rule is answered 400 or 422 before any request reaches the broker."""
    before = upstream_requests(market_open)
    reply = call_entry("place_order", "POST", json_body=body)
    assert reply.status == status, reply.text
    seed.assert_error(reply.body, status)
    assert upstream_requests(market_open) == before


def test_cancel_reports_status_alpaca_gives_after_cancel(market_open: Any) -> None:
    """DELETE order answers the status the broker reports once the cancel is accepted, not an assumption."""
    resting = resting_limit_buy(market_open)
    reply = call_entry("cancel_order", "DELETE", f"/api/alpaca/orders/{resting['id']}")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CANCEL)
    upstream = direct(market_open, f"/v2/orders/{resting['id']}").json()
    assert reply.body["id"] == resting["id"]
    assert reply.body["status"] == upstream["status"]
    assert reply.body["status"] in {"canceled", "pending_cancel"}


RESTING_ID = "5d1c3a8e-0b7e-4d0f-9a61-2f4e8c9b7a10"


def _cancel_still_pending(request: httpx.Request) -> httpx.Response:
    """A broker that accepts the cancel (204) but still reports the order pending_cancel afterwards."""
    if request.method == "DELETE":
        return httpx.Response(204)
    order = {
        "id": RESTING_ID,
        "client_order_id": "c-1",
        "created_at": "2026-11-17T15:00:00Z",
        "updated_at": "2026-11-17T15:00:01Z",
        "submitted_at": "2026-11-17T15:00:00Z",
        "canceled_at": None,
        "symbol": "AAPL",
        "qty": "1",
        "type": "limit",
        "side": "buy",
        "time_in_force": "day",
        "status": "pending_cancel",
    }
    return httpx.Response(200, json=order)


def test_cancel_answers_pending_cancel_when_the_broker_still_reports_it(make_gateway: Any) -> None:
    """The cancel answer is the broker's status after the cancel, even when that is not yet canceled."""
    make_gateway(http=httpx.Client(transport=httpx.MockTransport(_cancel_still_pending)))
    reply = call_entry("cancel_order", "DELETE", f"/api/alpaca/orders/{RESTING_ID}")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CANCEL)
    assert reply.body == {**reply.body, "id": RESTING_ID, "status": "pending_cancel", "canceled_at": None}


def test_order_accepted_outside_hours_cancels_to_canceled(sandbox: Any) -> None:
    """An order placed before the open is accepted; cancelling it answers canceled with a timestamp."""
    sandbox.set_clock(AFTER_HOURS, frozen=True)
    placed = call_entry("place_order", "POST", json_body=MARKET_BUY)
    assert placed.status == 200, placed.text
    assert placed.body["status"] == "accepted"
    reply = call_entry("cancel_order", "DELETE", f"/api/alpaca/orders/{placed.body['id']}")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CANCEL)
    assert reply.body["status"] == "canceled"
    assert isinstance(reply.body["canceled_at"], str)


def test_cancel_of_an_unknown_order_is_404(sandbox: Any) -> None:
    """Cancelling an order id the broker does not know is a JSON 404."""
    reply = call_entry("cancel_order", "DELETE", f"/api/alpaca/orders/{uuid.uuid4()}")
    assert reply.status == 404, reply.text
    seed.assert_error(reply.body, 404)


# -- trades -------------------------------------------------------------------------------------


def fill_orders(sandbox: Any, count: int) -> list[str]:
    """`count` filled market buys, one simulated second apart, oldest first."""
    ids = []
    with sandbox.client() as http:
        for _ in range(count):
            response = http.post(
                "/v2/orders",
                json={"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"},
            )
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
            sandbox.advance(1)
    return ids


def test_trades_are_newest_first_and_default_to_twenty(market_open: Any) -> None:
    """GET trades without a limit answers the 20 most recent fills, newest first, as the seed shows."""
    ids = fill_orders(market_open, 22)
    reply = call_entry("list_trades")
    assert reply.status == 200, reply.text
    seed.assert_list_of(reply.body, seed.TRADE)
    assert [t["order_id"] for t in reply.body] == list(reversed(ids))[:20]
    times = [datetime.fromisoformat(t["filled_at"]) for t in reply.body]
    assert times == sorted(times, reverse=True)
    assert all(t["status"] == "filled" and t["filled_qty"] == "1" for t in reply.body)


def test_trades_limit_returns_that_many_newest(market_open: Any) -> None:
    """limit=3 answers the three newest fills."""
    ids = fill_orders(market_open, 5)
    reply = call_entry("list_trades", query={"limit": "3"})
    assert reply.status == 200, reply.text
    assert [t["order_id"] for t in reply.body] == list(reversed(ids))[:3]


def test_trades_notional_is_filled_qty_times_average_price(market_open: Any) -> None:
    """A trade's notional is the filled value in dollars with two decimals, as a string."""
    market_open.set_price("AAPL", "150.00")
    fill_orders(market_open, 1)
    (trade,) = call_entry("list_trades").body
    expected = (Decimal(trade["filled_qty"]) * Decimal(trade["filled_avg_price"])).quantize(Decimal("0.01"))
    assert trade["notional"] == str(expected)


def _many_filled_orders(request: httpx.Request) -> httpx.Response:
    """A fake broker holding 600 filled orders, for the cap the sandbox's budget makes costly to reach."""
    if request.url.path != "/v2/orders":
        return httpx.Response(404, json={"code": 40410000, "message": "not found"})
    orders = [
        {
            "id": f"order-{n:04d}",
            "client_order_id": f"c-{n}",
            "created_at": f"2026-11-17T15:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "updated_at": f"2026-11-17T15:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "submitted_at": f"2026-11-17T15:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "filled_at": f"2026-11-17T{15 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "symbol": "AAPL",
            "asset_class": "us_equity",
            "qty": "1",
            "filled_qty": "1",
            "filled_avg_price": "150",
            "order_class": "",
            "type": "market",
            "side": "buy",
            "time_in_force": "day",
            "status": "filled",
        }
        for n in range(600)
    ]
    return httpx.Response(200, json=orders)


def test_trades_limit_is_capped_at_500(make_gateway: Any) -> None:
    """limit=1000 answers at most 500 trades even when the broker holds more fills."""
    make_gateway(http=httpx.Client(transport=httpx.MockTransport(_many_filled_orders)))
    reply = call_entry("list_trades", query={"limit": "1000"})
    assert reply.status == 200, reply.text
    assert len(reply.body) == 500
    assert reply.body[0]["order_id"] == "order-0599"


@pytest.mark.parametrize("limit", ["abc", "0", "-3", "2.5"])
def test_trades_bad_limit_is_400(sandbox: Any, limit: str) -> None:
    """A limit that is not a positive integer is a 400 invalid_limit with no broker request."""
    before = upstream_requests(sandbox)
    reply = call_entry("list_trades", query={"limit": limit})
    assert reply.status == 400, reply.text
    seed.assert_error(reply.body, 400, "invalid_limit")
    assert upstream_requests(sandbox) == before


# -- clock and config ---------------------------------------------------------------------------


def test_clock_reports_the_broker_clock_with_seed_fields(market_open: Any) -> None:
    """GET clock answers timestamp, is_open (a boolean) and the next open and close."""
    reply = call_entry("get_clock")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CLOCK)
    assert reply.body["is_open"] is True
    now = datetime.fromisoformat(reply.body["timestamp"])
    assert now == datetime.fromisoformat(TRADING_NOW)
    assert datetime.fromisoformat(reply.body["next_close"]) > now


def test_clock_is_closed_before_the_open(sandbox: Any) -> None:
    """Before 09:30 ET the clock says closed and the next open is later that day."""
    sandbox.set_clock(AFTER_HOURS, frozen=True)
    reply = call_entry("get_clock")
    assert reply.body["is_open"] is False
    assert reply.body["next_open"].startswith("2026-11-17")


def test_config_never_shows_a_key(make_gateway: Any, sandbox: Any) -> None:
    """GET config says the keys are configured and never includes either key string."""
    key, secret = "PKGATEWAYTEST12345678", "sEcReT-9f8e7d6c5b4a3210-abcdef"
    make_gateway({"ALPACA_API_KEY": key, "ALPACA_SECRET_KEY": secret})
    reply = call_entry("get_config")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.CONFIG)
    assert reply.body["api_key_configured"] is True
    assert reply.body["secret_key_configured"] is True
    assert reply.body["trading_mode"] == "paper"
    assert reply.body["base_url"] == sandbox.url
    for text in (key, secret, key[:12], secret[:12]):
        assert text not in reply.text
        assert text not in str(reply.headers)


def test_config_reports_missing_keys_as_not_configured(make_gateway: Any) -> None:
    """Without keys in the env or Secret Manager, config answers false rather than failing."""
    make_gateway({"ALPACA_API_KEY": None, "ALPACA_SECRET_KEY": None, "GOOGLE_CLOUD_PROJECT": None})
    reply = call_entry("get_config")
    assert reply.status == 200, reply.text
    assert reply.body["api_key_configured"] is False
    assert reply.body["secret_key_configured"] is False


def test_settings_refuse_a_live_url_without_allow_live_trading() -> None:
    """A non-paper ALPACA_BASE_URL is a ConfigError unless ALLOW_LIVE_TRADING=true."""
    with pytest.raises(ConfigError):
        Settings.from_mapping({"ALPACA_BASE_URL": "https://api.alpaca.markets"})
    allowed = Settings.from_mapping(
        {"ALPACA_BASE_URL": "https://api.alpaca.markets", "ALLOW_LIVE_TRADING": "true"}
    )
    assert allowed.trading_mode == "live"


def test_config_endpoint_answers_500_configuration_error_for_a_live_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deployed with a live URL and no ALLOW_LIVE_TRADING, every endpoint answers 500 configuration_error."""
    install(None)
    monkeypatch.setenv("ALPACA_BASE_URL", "https://api.alpaca.markets")
    monkeypatch.setenv("ALPACA_API_KEY", "AKLIVEKEY000000000000")
    monkeypatch.setenv("ALPACA_SECRET_KEY", "live-secret-0000000000000000")
    monkeypatch.delenv("ALLOW_LIVE_TRADING", raising=False)
    reply = call_entry("get_config")
    assert reply.status == 500, reply.text
    seed.assert_error(reply.body, 500, "configuration_error")
    assert "AKLIVEKEY" not in reply.text and "live-secret" not in reply.text
