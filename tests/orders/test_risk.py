"""Pre-trade risk checks from the live settings/risk document: each rule denies with 403, a stable
reason and an order.denied event, before any upstream order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.gateway.conftest import call_entry
from tests.orders.conftest import ADMIN_TOKEN, TRADER_TOKEN, events, place, upstream_orders

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1"}


def shut_window() -> dict[str, str]:
    """A trading window shut now, at any hour: one minute, twelve hours away. The gateway's clock is the
    real one (only the sandbox's is frozen), so a fixed window would be open for part of every day."""
    start = datetime.now(ZoneInfo("America/New_York")) + timedelta(hours=12)
    return {"start": f"{start:%H:%M}", "end": f"{start + timedelta(minutes=1):%H:%M}"}


def put_risk(**changes: Any) -> Any:
    reply = call_entry("put_risk", "PUT", "/risk", token=ADMIN_TOKEN, json_body=changes)
    assert reply.status == 200, reply.body
    return reply.body


def assert_denied(reply: Any, reason: str) -> None:
    assert reply.status == 403, reply.body
    assert reply.body["error"] == reason


@pytest.mark.parametrize(
    ("settings", "order", "reason"),
    [
        ({"trading_state": "halted"}, BUY, "trading_halted"),
        ({"trading_state": "reducing"}, BUY, "reducing_only"),
        ({"symbol_denylist": ["aapl"]}, BUY, "symbol_denied"),
        ({"symbol_allowlist": ["MSFT"]}, BUY, "symbol_not_allowed"),
        ({"allowed_asset_classes": ["crypto"]}, BUY, "asset_class_not_allowed"),
        ({"max_order_notional": "100"}, BUY, "max_order_notional"),
        ({"max_order_notional": "100"}, {**BUY, "type": "limit", "limit_price": "150"}, "max_order_notional"),
        ({"max_position_notional": "300"}, {**BUY, "qty": "2"}, "max_position_notional"),
        ({"trading_window": shut_window()}, BUY, "outside_trading_window"),
    ],
)
def test_risk_rule_denies_with_403_and_an_audit_event(
    gateway: Any, sandbox: Any, db: Any, settings: dict[str, Any], order: dict[str, Any], reason: str
) -> None:
    """The denial names its rule, is recorded as order.denied, and no order reaches Alpaca."""
    put_risk(**settings)
    assert_denied(place({**order, "client_order_id": "risky"}), reason)
    denied = events(db, "order.denied")
    assert [(e["reason"], e["client_order_id"]) for e in denied] == [(reason, "risky")]
    assert upstream_orders(sandbox) == []


def test_market_order_notional_is_priced_from_the_latest_quote(gateway: Any, sandbox: Any) -> None:
    """A market buy is valued at the ask: under the limit at $50, over it at $150."""
    put_risk(max_order_notional="100")
    sandbox.set_price("AAPL", "50.00")
    assert place(BUY).status == 200
    sandbox.set_price("AAPL", "150.00")
    assert_denied(place(BUY), "max_order_notional")


def test_reducing_state_lets_exits_and_cancels_through(gateway: Any, sandbox: Any) -> None:
    """In reducing-only, a sell that shrinks a long position passes, a new buy does not, cancels work."""
    assert place({**BUY, "qty": "3"}).status == 200
    resting = place({**BUY, "type": "limit", "limit_price": "1.00"}).body
    put_risk(trading_state="reducing")
    assert call_entry("cancel_order", "DELETE", f"/orders/{resting['id']}").status == 200
    assert place({"symbol": "AAPL", "side": "sell", "qty": "2"}).status == 200
    assert_denied(place({"symbol": "AAPL", "side": "sell", "qty": "5"}), "reducing_only")
    assert_denied(place(BUY), "reducing_only")


def test_halted_state_allows_only_cancels(gateway: Any, sandbox: Any, db: Any) -> None:
    """The kill switch: orders and closes are denied, a cancel still goes through."""
    assert place({**BUY, "qty": "2"}).status == 200
    resting = place({**BUY, "type": "limit", "limit_price": "1.00"}).body
    put_risk(trading_state="halted")
    assert_denied(place({"symbol": "AAPL", "side": "sell", "qty": "1"}), "trading_halted")
    assert_denied(call_entry("close_position", "POST", "/positions/AAPL/close"), "trading_halted")
    assert len(events(db, "position.close_denied")) == 1
    assert call_entry("cancel_order", "DELETE", f"/orders/{resting['id']}").status == 200


def test_trading_window_always_lets_exits_through(gateway: Any, sandbox: Any) -> None:
    """Outside the window a sell of a held position is allowed, and a buy is not."""
    assert place({**BUY, "qty": "2"}).status == 200
    put_risk(trading_window=shut_window())
    assert place({"symbol": "AAPL", "side": "sell", "qty": "2"}).status == 200
    assert_denied(place(BUY), "outside_trading_window")


def test_caller_order_rate_is_capped_per_minute(gateway: Any, sandbox: Any, db: Any) -> None:
    """The trading caller's registry limit (3 a minute) denies the 4th order; repeats do not count."""
    for n in range(3):
        assert place({**BUY, "client_order_id": f"r-{n}"}, token=TRADER_TOKEN).status == 200
    assert place({**BUY, "client_order_id": "r-0"}, token=TRADER_TOKEN).status == 200  # a replay
    fourth = place({**BUY, "client_order_id": "r-3"}, token=TRADER_TOKEN)
    assert_denied(fourth, "max_orders_per_minute")
    assert place({**BUY, "client_order_id": "r-3"}, token=TRADER_TOKEN).body == fourth.body
    assert len(upstream_orders(sandbox)) == 3
    assert [e["reason"] for e in events(db, "order.denied")] == ["max_orders_per_minute"]


def test_risk_settings_are_admin_only_and_every_change_is_audited(gateway: Any, db: Any) -> None:
    """GET and PUT /risk need admin; a PUT merges the change and writes a risk.updated event."""
    assert call_entry("get_risk", "GET", "/risk", token=TRADER_TOKEN).status == 403
    denied = call_entry("put_risk", "PUT", "/risk", token=TRADER_TOKEN, json_body={"trading_state": "halted"})
    assert denied.status == 403
    put_risk(max_order_notional="5000", symbol_allowlist=["spy", "aapl"])
    after = put_risk(trading_state="halted")
    assert after["max_order_notional"] == "5000" and after["symbol_allowlist"] == ["AAPL", "SPY"]
    assert after["updated_by"] == "ops"
    got = call_entry("get_risk", "GET", "/risk", token=ADMIN_TOKEN).body
    assert got["trading_state"] == "halted"
    changes = sorted(tuple(e["changes"]) for e in events(db, "risk.updated"))
    assert changes == [("max_order_notional", "symbol_allowlist"), ("trading_state",)]
    bad = call_entry("put_risk", "PUT", "/risk", token=ADMIN_TOKEN, json_body={"trading_state": "paused"})
    assert bad.status == 400


def test_kill_switch_set_elsewhere_acts_within_the_cache_time(gateway: Any, db: Any) -> None:
    """Another instance's change is seen once this instance's short cache (about 1 s) expires."""
    assert place(BUY).status == 200
    db.collection("settings").document("risk").set({"trading_state": "halted"})
    gateway.clock.sleep(1.1)
    assert_denied(place(BUY), "trading_halted")
