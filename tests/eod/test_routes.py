"""The snapshot job (once per schedule time) and the read routes, and POST /flatten: the same procedure
on demand, idempotent by its Idempotency-Key, honouring the asset classes it is given."""

from __future__ import annotations

from typing import Any

import pytest

from tests.eod.conftest import Market, deliver
from tests.gateway.conftest import call_entry
from tests.orders.conftest import ADMIN_TOKEN, events
from tests.support.sandbox import upstream_requests

CLOSE_1605 = "2026-11-17T21:05:00Z"


def flatten(key: str | None = None, body: Any = None, **kwargs: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    return call_entry(
        "flatten_now", "POST", "/api/alpaca/flatten", json_body=body or {}, headers=headers, **kwargs
    )


def test_duplicate_snapshot_deliveries_write_one_snapshot(gateway: Any, market: Market, db: Any) -> None:
    """Two deliveries of the 16:05 schedule time: one document, the second answer says duplicate."""
    market.trade(symbol="AAPL", qty="2", side="buy")
    market.trade(symbol="BTC/USD", qty="0.01", side="buy", time_in_force="gtc")
    market.at("2026-11-17 16:05")
    first = deliver("snapshot_positions", CLOSE_1605)
    again = deliver("snapshot_positions", CLOSE_1605)
    assert first.status == 200 and "duplicate" not in first.body, first.text
    assert again.body["duplicate"] is True and again.body["id"] == first.body["id"]
    assert len(list(db.collection("position_snapshots").stream())) == 1
    listed = call_entry("list_snapshots", "GET", "/api/alpaca/snapshots", query={"date": "2026-11-17"})
    assert listed.status == 200, listed.text
    [snapshot] = listed.body
    assert snapshot["schedule_time"] == CLOSE_1605
    assert {p["symbol"] for p in snapshot["positions"]} == {"AAPL", "BTCUSD"}
    assert all(isinstance(snapshot[k], str) for k in ("taken_at", "equity", "cash", "buying_power"))


def test_manual_snapshot_has_no_schedule_time_and_lists_newest_first(gateway: Any, market: Market) -> None:
    """Run by hand twice: two snapshots, schedule_time null, the later one first."""
    market.at("2026-11-17 12:00")
    deliver("snapshot_positions")
    market.at("2026-11-17 12:30")
    deliver("snapshot_positions")
    listed = call_entry("list_snapshots", "GET", "/api/alpaca/snapshots", query={"date": "2026-11-17"}).body
    assert [s["schedule_time"] for s in listed] == [None, None]
    assert listed[0]["taken_at"] > listed[1]["taken_at"]
    other = call_entry("list_snapshots", "GET", "/api/alpaca/snapshots", query={"date": "2026-11-18"})
    assert other.body == []


@pytest.mark.parametrize("value", ["2026-13-01", "20261117", "yesterday", "2026-11-17T00:00:00"])
def test_malformed_date_is_refused_without_an_upstream_call(gateway: Any, sandbox: Any, value: str) -> None:
    """`date` must be YYYY-MM-DD: 400 invalid_date on both read routes."""
    before = upstream_requests(sandbox)
    for target, path in (("list_snapshots", "/api/alpaca/snapshots"), ("get_eod_run", "/api/alpaca/eod")):
        reply = call_entry(target, "GET", path, query={"date": value})
        assert (reply.status, reply.body["error"]) == (400, "invalid_date"), reply.text
    assert upstream_requests(sandbox) == before


def test_eod_route_reports_the_sessions_run(gateway: Any, market: Market) -> None:
    """GET /eod: the run of that session, with outcomes and orders; 404 for a session without one."""
    market.trade(symbol="AAPL", qty="2", side="buy")
    market.at("2026-11-17 15:52")
    deliver("flatten_positions")
    reply = call_entry(
        "get_eod_run", "GET", "/api/alpaca/eod", query={"date": "2026-11-17"}, token=ADMIN_TOKEN
    )
    assert (reply.status, reply.body["state"], reply.body["kind"]) == (200, "done", "scheduled"), reply.text
    [aapl] = reply.body["symbols"]
    assert aapl["orders"][0]["client_order_id"] == "eod-20261117-AAPL-1"
    missing = call_entry("get_eod_run", "GET", "/api/alpaca/eod", query={"date": "2026-11-16"})
    assert (missing.status, missing.body["error"]) == (404, "eod_run_not_found")


def test_flatten_now_is_idempotent_by_its_key(gateway: Any, market: Market, db: Any) -> None:
    """POST /flatten at 11:00 closes now; a repeat of its key answers the same run and sends nothing."""
    market.trade(symbol="AAPL", qty="3", side="buy")
    market.at("2026-11-17 11:00")
    first = flatten("panic-1")
    assert (first.status, first.body["kind"], first.body["state"]) == (200, "on_demand", "done"), first.text
    market.trade(symbol="MSFT", qty="1", side="sell")  # a short opened at the broker after the flatten
    again = flatten("panic-1")
    assert again.body["replayed"] is True and again.body["run"] == first.body["run"]
    assert [o["symbol"] for o in market.liquidations()] == ["AAPL"]
    assert len(events(db, "eod.flatten")) == 1 and events(db, "eod.flatten")[0]["caller"] == "dev"


def test_flatten_now_honours_the_asset_classes_it_is_given(gateway: Any, market: Market) -> None:
    """{"asset_classes": ["crypto"]} closes the crypto position and leaves the equity one."""
    market.trade(symbol="AAPL", qty="3", side="buy")
    market.trade(symbol="BTC/USD", qty="0.02", side="buy", time_in_force="gtc")
    reply = flatten("crypto-only", {"asset_classes": ["crypto"]})
    assert {s["symbol"]: s["outcome"] for s in reply.body["symbols"]} == {"BTCUSD": "closed"}, reply.text
    assert market.positions() == {"AAPL": "3"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"asset_classes": ["stocks"]}, "invalid_asset_classes"),
        ({"asset_classes": []}, "invalid_asset_classes"),
        ({"asset_classes": "crypto"}, "invalid_asset_classes"),
        ({"asset_classes": ["crypto"] * 4}, "invalid_asset_classes"),
        ({"classes": ["crypto"]}, "invalid_request"),
    ],
)
def test_flatten_now_refuses_unknown_input_without_an_upstream_call(
    gateway: Any, sandbox: Any, body: Any, reason: str
) -> None:
    before = upstream_requests(sandbox)
    reply = flatten("bad", body)
    assert (reply.status, reply.body["error"]) == (400, reason), reply.text
    assert upstream_requests(sandbox) == before


def test_flatten_now_needs_the_trade_scope(gateway: Any, sandbox: Any) -> None:
    before = upstream_requests(sandbox)
    assert flatten("read-only", token=ADMIN_TOKEN).status == 403
    assert upstream_requests(sandbox) == before


def test_flatten_now_refuses_a_closed_market(gateway: Any, market: Market) -> None:
    """At 18:00 a market order would wait for the next open: 409 market_closed, nothing recorded."""
    market.trade(symbol="AAPL", qty="3", side="buy")
    market.at("2026-11-17 18:00")
    reply = flatten("evening")
    assert (reply.status, reply.body["error"]) == (409, "market_closed"), reply.text
    assert market.liquidations() == []
