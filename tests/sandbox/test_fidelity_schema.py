"""Every sandbox answer of the session's endpoints validates against Alpaca's official OpenAPI 3.0 document.

The response schema is looked up in `/work/shared/alpaca/trading-api.json` by path, method and status
(`fidelity_support.assert_matches_spec`), `$ref`s are resolved through a `referencing` registry, and
formats (uuid, date-time, date) are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox.fidelity_support import (
    assert_matches_spec,
    fill_market,
    new_client_order_id,
    open_market,
    set_price,
    submit,
    wait_for_status,
)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def http(sandbox: Any) -> Iterator[httpx.Client]:
    """Plain httpx on the sandbox with the market open and AAPL at $200, MSFT at $100."""
    open_market(sandbox)
    with sandbox.client() as client:
        set_price(sandbox, client, "AAPL", "200.00")
        set_price(sandbox, client, "MSFT", "100.00")
        yield client


def test_account_and_configurations_match_spec(http: httpx.Client) -> None:
    """GET /v2/account and /v2/account/configurations fit the Account and AccountConfigurations schemas."""
    account = assert_matches_spec(http.get("/v2/account"), "GET", "/v2/account")
    assert account["status"] == "ACTIVE"
    config = assert_matches_spec(http.get("/v2/account/configurations"), "GET", "/v2/account/configurations")
    assert "ptp_no_exception_entry" in config, "alpaca-py requires ptp_no_exception_entry"


def test_asset_list_and_single_asset_match_spec(http: httpx.Client) -> None:
    """GET /v2/assets and /v2/assets/{symbol} fit the Assets schema (JSON key `class`, names present)."""
    assets = assert_matches_spec(http.get("/v2/assets"), "GET", "/v2/assets")
    assert assets
    filtered = http.get("/v2/assets", params={"status": "active", "exchange": "NYSE"})
    assert {a["exchange"] for a in assert_matches_spec(filtered, "GET", "/v2/assets")} == {"NYSE"}
    aapl = assert_matches_spec(http.get("/v2/assets/AAPL"), "GET", "/v2/assets/{symbol_or_asset_id}")
    assert aapl["symbol"] == "AAPL" and aapl["class"] == "us_equity"
    by_id = http.get(f"/v2/assets/{aapl['id']}")
    assert assert_matches_spec(by_id, "GET", "/v2/assets/{symbol_or_asset_id}")["symbol"] == "AAPL"


def test_clock_matches_spec_with_eastern_offset(http: httpx.Client) -> None:
    """GET /v2/clock fits the Clock schema and reports times in ET with its offset (-05:00 in November)."""
    clock = assert_matches_spec(http.get("/v2/clock"), "GET", "/v2/clock")
    assert clock["timestamp"].startswith("2026-11-17T10:00:00")
    assert clock["timestamp"].endswith("-05:00")
    assert clock["next_close"] == "2026-11-17T16:00:00-05:00"
    assert clock["next_open"] == "2026-11-18T09:30:00-05:00"


def test_calendar_matches_spec_with_documented_formats(http: httpx.Client) -> None:
    """GET /v2/calendar fits the calendar schema: HH:MM open/close, HHMM sessions, settlement dates."""
    response = http.get("/v2/calendar", params={"start": "2026-11-25", "end": "2026-11-30"})
    days = assert_matches_spec(response, "GET", "/v2/calendar")
    assert [d["date"] for d in days] == ["2026-11-25", "2026-11-27", "2026-11-30"]
    for day in days:
        assert re.fullmatch(r"\d\d:\d\d", day["open"]) and re.fullmatch(r"\d\d:\d\d", day["close"])
        assert re.fullmatch(r"\d{4}", day["session_open"]) and re.fullmatch(r"\d{4}", day["session_close"])
        assert day["settlement_date"] > day["date"]
    assert days[0]["session_open"] == "0400"
    assert days[1]["close"] == "13:00"


ORDER_BODIES = {
    "market": {"symbol": "AAPL", "qty": "2", "side": "buy", "type": "market", "time_in_force": "day"},
    "limit": {
        "symbol": "AAPL",
        "qty": "2",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "limit_price": "150",
    },
    "stop": {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "stop",
        "time_in_force": "day",
        "stop_price": "250",
    },
    "stop_limit": {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "stop_limit",
        "time_in_force": "day",
        "stop_price": "250",
        "limit_price": "255",
    },
    "trailing_stop-price": {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "trailing_stop",
        "time_in_force": "day",
        "trail_price": "5",
    },
    "trailing_stop-percent": {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "trailing_stop",
        "time_in_force": "gtc",
        "trail_percent": "2.5",
    },
    "notional": {
        "symbol": "AAPL",
        "notional": "500",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
    },
    "fractional": {
        "symbol": "AAPL",
        "qty": "0.25",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "150",
    },
    "bracket": {
        "symbol": "AAPL",
        "qty": "3",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "limit_price": "190",
        "order_class": "bracket",
        "take_profit": {"limit_price": "230"},
        "stop_loss": {"stop_price": "170", "limit_price": "169"},
    },
    "oto": {
        "symbol": "AAPL",
        "qty": "3",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "order_class": "oto",
        "take_profit": {"limit_price": "230"},
    },
    "oco": {
        "symbol": "MSFT",
        "qty": "4",
        "side": "sell",
        "type": "limit",
        "time_in_force": "gtc",
        "order_class": "oco",
        "take_profit": {"limit_price": "120"},
        "stop_loss": {"stop_price": "80"},
    },
}


@pytest.mark.parametrize("kind", list(ORDER_BODIES))
def test_order_submission_and_lookups_match_spec(sandbox: Any, http: httpx.Client, kind: str) -> None:
    """POST /v2/orders (200), GET /v2/orders/{id} and its nested form fit the Order schema for each kind."""
    if kind == "oco":
        fill_market(sandbox, http, "MSFT", "4", "buy", "100.00")
    body = dict(ORDER_BODIES[kind], client_order_id=new_client_order_id(kind))
    response = http.post("/v2/orders", json=body)
    assert response.status_code == 200, response.text
    order = assert_matches_spec(response, "POST", "/v2/orders")
    assert order["client_order_id"] == body["client_order_id"]
    assert order["order_class"] in ({"", "simple"} if "order_class" not in body else {body["order_class"]})
    assert order["symbol"] == body["symbol"] and order["side"] == body["side"]

    single = assert_matches_spec(http.get(f"/v2/orders/{order['id']}"), "GET", "/v2/orders/{order_id}")
    assert single["id"] == order["id"]
    nested = http.get(f"/v2/orders/{order['id']}", params={"nested": "true"})
    nested_body = assert_matches_spec(nested, "GET", "/v2/orders/{order_id}")
    if kind in {"bracket", "oto", "oco"}:
        assert nested_body["legs"], "nested=true puts the legs of an advanced order under `legs`"


def test_order_list_and_client_order_id_lookup_match_spec(sandbox: Any, http: httpx.Client) -> None:
    """GET /v2/orders (flat and nested) and GET /v2/orders:by_client_order_id fit the Order schemas."""
    fill_market(sandbox, http, "AAPL", "1", "buy", "200.00")
    coid = new_client_order_id()
    submit(http, **ORDER_BODIES["limit"], client_order_id=coid)
    submit(http, **ORDER_BODIES["bracket"])

    flat = assert_matches_spec(http.get("/v2/orders", params={"status": "all"}), "GET", "/v2/orders")
    assert len(flat) == 5
    nested = http.get("/v2/orders", params={"status": "all", "nested": "true"})
    nested_orders = assert_matches_spec(nested, "GET", "/v2/orders")
    assert len(nested_orders) == 3
    assert sum(len(o["legs"] or []) for o in nested_orders) == 2

    found = http.get("/v2/orders:by_client_order_id", params={"client_order_id": coid})
    assert assert_matches_spec(found, "GET", "/v2/orders:by_client_order_id")["client_order_id"] == coid


def test_replace_response_matches_spec(sandbox: Any, http: httpx.Client) -> None:
    """PATCH /v2/orders/{id} answers 200 with a new Order that fits the schema; the old one is replaced."""
    old = submit(http, **ORDER_BODIES["limit"])
    response = http.patch(f"/v2/orders/{old['id']}", json={"qty": "1", "limit_price": "151.5"})
    new = assert_matches_spec(response, "PATCH", "/v2/orders/{order_id}")
    assert new["id"] != old["id"] and new["replaces"] == old["id"]
    assert (new["qty"], new["limit_price"]) == ("1", "151.5")
    replaced = wait_for_status(sandbox, http, old["id"], {"replaced"})
    assert replaced["replaced_by"] == new["id"]
    assert_matches_spec(http.get(f"/v2/orders/{old['id']}"), "GET", "/v2/orders/{order_id}")


def test_cancel_one_is_204_empty_and_cancel_all_is_207_matching_spec(http: httpx.Client) -> None:
    """DELETE /v2/orders/{id} is 204 with no body; DELETE /v2/orders is 207 with CanceledOrderResponses."""
    first = submit(http, **ORDER_BODIES["limit"])
    second = submit(http, **dict(ORDER_BODIES["limit"], symbol="MSFT", limit_price="60"))
    third = submit(http, **dict(ORDER_BODIES["limit"], limit_price="140"))

    one = http.delete(f"/v2/orders/{first['id']}")
    assert one.status_code == 204
    assert one.content == b""

    everything = http.delete("/v2/orders")
    assert everything.status_code == 207, everything.text
    items = assert_matches_spec(everything, "DELETE", "/v2/orders")
    assert {i["id"] for i in items} == {second["id"], third["id"]}
    assert {i["status"] for i in items} == {200}


def test_positions_list_single_and_close_match_spec(sandbox: Any, http: httpx.Client) -> None:
    """GET /v2/positions, GET and DELETE /v2/positions/{symbol} fit the Position and Order schemas."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "200.00")
    fill_market(sandbox, http, "MSFT", "5", "sell", "100.00")

    positions = assert_matches_spec(http.get("/v2/positions"), "GET", "/v2/positions")
    assert {p["symbol"]: (p["side"], p["qty"]) for p in positions} == {
        "AAPL": ("long", "10"),
        "MSFT": ("short", "-5"),
    }
    single = http.get("/v2/positions/AAPL")
    aapl = assert_matches_spec(single, "GET", "/v2/positions/{symbol_or_asset_id}")
    assert aapl["qty_available"] == "10"
    by_id = http.get(f"/v2/positions/{aapl['asset_id']}")
    assert assert_matches_spec(by_id, "GET", "/v2/positions/{symbol_or_asset_id}")["symbol"] == "AAPL"

    partial = http.delete("/v2/positions/AAPL", params={"qty": "4"})
    order = assert_matches_spec(partial, "DELETE", "/v2/positions/{symbol_or_asset_id}")
    assert (order["side"], order["qty"], order["type"]) == ("sell", "4", "market")
    full = http.delete("/v2/positions/MSFT", params={"percentage": "100"})
    cover = assert_matches_spec(full, "DELETE", "/v2/positions/{symbol_or_asset_id}")
    assert (cover["side"], cover["qty"]) == ("buy", "5")


def test_close_all_positions_is_207_matching_spec(sandbox: Any, http: httpx.Client) -> None:
    """DELETE /v2/positions?cancel_orders=true is 207 with PositionClosedReponse items carrying Orders."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "200.00")
    fill_market(sandbox, http, "MSFT", "5", "sell", "100.00")
    submit(http, **ORDER_BODIES["limit"])
    response = http.delete("/v2/positions", params={"cancel_orders": "true"})
    assert response.status_code == 207, response.text
    items = assert_matches_spec(response, "DELETE", "/v2/positions")
    assert {i["symbol"]: (i["status"], i["body"]["side"]) for i in items} == {
        "AAPL": (200, "sell"),
        "MSFT": (200, "buy"),
    }


def test_account_activities_match_spec_and_record_fills(sandbox: Any, http: httpx.Client) -> None:
    """GET /v2/account/activities (and /FILL) fit the schema and list each fill with Alpaca's id format."""
    order = fill_market(sandbox, http, "AAPL", "10", "buy", "200.00")
    activities = assert_matches_spec(http.get("/v2/account/activities"), "GET", "/v2/account/activities")
    fills = [a for a in activities if a.get("activity_type") == "FILL"]
    assert len(fills) == 1
    fill = fills[0]
    assert re.fullmatch(rf"\d{{17}}::{UUID}", fill["id"]), fill["id"]
    assert fill["order_id"] == order["id"]
    assert (fill["symbol"], fill["side"], fill["qty"], fill["cum_qty"], fill["leaves_qty"]) == (
        "AAPL",
        "buy",
        "10",
        "10",
        "0",
    )
    assert fill["type"] == "fill" and fill["order_status"] == "filled"
    assert fill["price"] == order["filled_avg_price"]

    only_fills = http.get("/v2/account/activities/FILL")
    typed = assert_matches_spec(only_fills, "GET", "/v2/account/activities/{activity_type}")
    assert [a["id"] for a in typed] == [fill["id"]]
