"""Ambiguous outcomes: after a timeout or a 5xx the order is looked up, re-sent at most once, or left
unresolved with a 202; never duplicated, never unrecorded."""

from __future__ import annotations

from typing import Any

from shared.audit import order_doc_id
from tests.orders.conftest import events, place, records, upstream_orders

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1"}
POST_ORDERS = {"method": "POST", "path": "/v2/orders"}


def test_accepted_then_timed_out_order_is_found_and_recorded_submitted(
    gateway: Any, sandbox: Any, db: Any
) -> None:
    """Alpaca took the order but the reply was lost: the lookup finds it, so no second order is sent."""
    sandbox.fault(**POST_ORDERS, status=200, mode="timeout_after_accept", latency_ms=1500)
    reply = place({**BUY, "client_order_id": "lost-reply"})
    assert reply.status == 200 and reply.body["client_order_id"] == "lost-reply"
    assert len(upstream_orders(sandbox)) == 1
    record = records(db)[order_doc_id("lost-reply")]
    assert (record["state"], record["attempts"]) == ("submitted", 1)


def test_order_refused_with_503_is_sent_once_more_with_the_same_id(
    gateway: Any, sandbox: Any, db: Any
) -> None:
    """A 503 that Alpaca did not act on: the lookup misses, one re-send with the same id places it."""
    sandbox.fault(**POST_ORDERS, status=503, count=1)
    reply = place({**BUY, "client_order_id": "retry-once"})
    assert reply.status == 200
    assert [o["client_order_id"] for o in upstream_orders(sandbox)] == ["retry-once"]
    assert records(db)[order_doc_id("retry-once")]["attempts"] == 2


def test_order_failing_twice_with_500_is_recorded_unresolved_and_answered_202(
    gateway: Any, sandbox: Any, db: Any
) -> None:
    """Two 500s and no order upstream: recorded unresolved, answered 202, and a repeat replays the 202."""
    sandbox.fault(**POST_ORDERS, status=500, count=2)
    reply = place({**BUY, "client_order_id": "twice-500"})
    assert reply.status == 202
    assert reply.body["status"] == "unresolved"
    assert records(db)[order_doc_id("twice-500")]["state"] == "unresolved"
    assert len(events(db, "order.unresolved")) == 1
    again = place({**BUY, "client_order_id": "twice-500"})
    assert (again.status, again.body) == (202, reply.body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert upstream_orders(sandbox) == []


def test_unresolved_order_that_did_land_is_settled_by_the_next_repeat(
    gateway: Any, sandbox: Any, db: Any
) -> None:
    """A repeat of an unresolved key asks Alpaca by client_order_id and records what it finds."""
    sandbox.fault(**POST_ORDERS, status=200, mode="timeout_after_accept", latency_ms=1500)
    sandbox.fault(method="GET", path="/v2/orders:by_client_order_id", status=500, count=3)
    first = place({**BUY, "client_order_id": "late"})
    assert first.status == 202
    again = place({**BUY, "client_order_id": "late"})
    assert again.status == 200 and again.body["client_order_id"] == "late"
    assert records(db)[order_doc_id("late")]["state"] == "submitted"
    assert len(upstream_orders(sandbox)) == 1


def test_rate_limited_order_is_released_not_recorded_as_placed(gateway: Any, sandbox: Any, db: Any) -> None:
    """A 429 means nothing was accepted: the key is released (order.not_sent), so a retry is not a replay."""
    sandbox.fault(**POST_ORDERS, status=429, count=1)
    first = place({**BUY, "client_order_id": "throttled"})
    assert first.status == 429 and first.headers["Retry-After"]
    assert order_doc_id("throttled") not in records(db)
    assert len(events(db, "order.not_sent")) == 1
    second = place({**BUY, "client_order_id": "throttled"})
    assert "Idempotent-Replayed" not in second.headers
    assert upstream_orders(sandbox) == []
