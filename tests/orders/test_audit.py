"""Write-ahead audit: the record exists before the upstream call, every step is an event, and no
Firestore means no order."""

from __future__ import annotations

from typing import Any

from shared.app import build, install
from shared.config import Settings
from shared.orders.store import order_doc_id
from tests.gateway.conftest import call_entry
from tests.orders.conftest import ADMIN_TOKEN, TRADER_TOKEN, events, place, records, upstream_orders
from tests.support.env import TRADING_NOW
from tests.support.sandbox import upstream_requests

BUY = {"symbol": "AAPL", "side": "buy", "qty": "2"}


def test_placed_order_has_its_record_and_events(gateway: Any, sandbox: Any, db: Any) -> None:
    """orders/{sha256(key)} holds caller, request, state and Alpaca's id; requested and submitted events."""
    reply = place({**BUY, "client_order_id": "audit-1"})
    record = records(db)[order_doc_id("audit-1")]
    assert record["state"] == "submitted"
    assert record["caller"] == "dev"
    assert record["alpaca_order_id"] == reply.body["id"]
    assert record["request"]["client_order_id"] == "audit-1"
    assert record["response"] == {"status": 200, "body": reply.body}
    kinds = sorted(e["type"] for e in events(db))
    assert kinds == ["order.requested", "order.submitted"]
    assert all(e["created_at"] and e["time"] and "token" not in str(e) for e in events(db))


def test_firestore_down_answers_503_and_sends_nothing(
    sandbox: Any, dead_firestore: Any, order_settings: Settings
) -> None:
    """With Firestore unreachable the order is refused with 503 and Retry-After; Alpaca sees no request."""
    sandbox.set_clock(TRADING_NOW, frozen=True)
    install(build(order_settings, db=dead_firestore))
    try:
        before = upstream_requests(sandbox)
        reply = place({**BUY, "client_order_id": "down-1"})
    finally:
        install(None)
    assert reply.status == 503
    assert reply.body["error"] == "audit_unavailable"
    assert reply.headers["Retry-After"]
    assert upstream_requests(sandbox) == before
    assert upstream_orders(sandbox) == []


def test_cancel_is_audited_before_and_after(gateway: Any, sandbox: Any, db: Any) -> None:
    """A cancel writes order.cancel_requested, then order.cancel_result with Alpaca's answer."""
    order = place({**BUY, "type": "limit", "limit_price": "1.00", "client_order_id": "c-1"}).body
    reply = call_entry("cancel_order", "DELETE", f"/orders/{order['id']}")
    assert reply.status == 200
    requested = events(db, "order.cancel_requested")
    result = events(db, "order.cancel_result")
    assert [e["alpaca_order_id"] for e in requested] == [order["id"]]
    assert result[0]["ok"] is True and result[0]["result"]["id"] == order["id"]


def test_position_close_is_audited(gateway: Any, sandbox: Any, db: Any) -> None:
    """A close writes position.close_requested and position.close_result; a failed close says why."""
    place({**BUY, "client_order_id": "open-1"})
    assert call_entry("close_position", "POST", "/positions/AAPL/close").status == 200
    missing = call_entry("close_position", "POST", "/positions/MSFT/close")
    assert missing.status == 404
    assert sorted(e["symbol"] for e in events(db, "position.close_requested")) == ["AAPL", "MSFT"]
    results = sorted((e["symbol"], e["ok"]) for e in events(db, "position.close_result"))
    assert results == [("AAPL", True), ("MSFT", False)]


def test_get_order_reads_one_order(gateway: Any, sandbox: Any) -> None:
    """GET /orders/{order_id} answers the order in the public model."""
    order = place({**BUY, "client_order_id": "g-1"}).body
    reply = call_entry("get_order", "GET", f"/orders/{order['id']}")
    assert reply.status == 200
    assert reply.body["client_order_id"] == "g-1"


def test_audit_listing_is_admin_only_and_pages_by_time(gateway: Any, sandbox: Any, db: Any) -> None:
    """GET /audit needs the admin scope, lists events oldest first, and `since` continues a listing."""
    for n in range(3):
        place({**BUY, "client_order_id": f"p-{n}"})
    trader = call_entry("list_audit", "GET", "/audit", token=TRADER_TOKEN)
    assert trader.status == 403
    page = call_entry("list_audit", "GET", "/audit", token=ADMIN_TOKEN, query={"limit": 4})
    assert page.status == 200
    assert len(page.body["events"]) == 4
    times = [e["created_at"] for e in page.body["events"]]
    assert times == sorted(times)
    rest = call_entry(
        "list_audit", "GET", "/audit", token=ADMIN_TOKEN, query={"since": page.body["next_since"]}
    )
    seen = {e["id"] for e in page.body["events"]} | {e["id"] for e in rest.body["events"]}
    assert len(seen) == 6
    assert call_entry("list_audit", "GET", "/audit", token=ADMIN_TOKEN, query={"since": "x"}).status == 400
