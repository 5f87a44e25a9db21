"""Exactly-once placement: one key, one upstream order, and every repeat answered from the record."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.orders.conftest import events, place, records, upstream_orders

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1"}


def test_repeated_client_order_id_replays_the_stored_outcome(gateway: Any, sandbox: Any) -> None:
    """The second delivery gets the same status and body, marked Idempotent-Replayed, and no new order."""
    first = place({**BUY, "client_order_id": "alert-1"})
    second = place({**BUY, "client_order_id": "alert-1"})
    assert first.status == 200 and first.body["client_order_id"] == "alert-1"
    assert "Idempotent-Replayed" not in first.headers
    assert (second.status, second.body) == (first.status, first.body)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(upstream_orders(sandbox)) == 1


def test_idempotency_key_header_becomes_the_client_order_id(gateway: Any, sandbox: Any) -> None:
    """Without a client_order_id the Idempotency-Key header is the key and Alpaca's client_order_id."""
    first = place(BUY, key="tv-42")
    again = place(BUY, key="tv-42")
    assert first.body["client_order_id"] == "tv-42"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [o["client_order_id"] for o in upstream_orders(sandbox)] == ["tv-42"]


def test_order_without_a_key_gets_a_fresh_one(gateway: Any, sandbox: Any) -> None:
    """Two keyless requests are two orders, each with a generated client_order_id."""
    a, b = place(BUY), place(BUY)
    assert a.status == b.status == 200
    assert a.body["client_order_id"] != b.body["client_order_id"]
    assert len(upstream_orders(sandbox)) == 2


def test_twenty_simultaneous_deliveries_place_exactly_one_order(gateway: Any, sandbox: Any, db: Any) -> None:
    """20 concurrent copies of one webhook: one upstream order, one record, and the same body for all."""
    body = {**BUY, "client_order_id": "burst-1"}
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: place(body), range(20)))
    assert len(upstream_orders(sandbox)) == 1
    assert len(records(db)) == 1
    assert len(events(db, "order.requested")) == 1
    assert len(events(db, "order.submitted")) == 1
    ok = [r for r in replies if r.status == 200]
    assert all(r.status in (200, 409) for r in replies)
    assert len({r.body["id"] for r in ok}) == 1
    assert sum(1 for r in ok if "Idempotent-Replayed" not in r.headers) == 1
    for r in replies:
        if r.status == 409:
            assert r.body["error"] == "order_in_flight" and r.headers["Retry-After"]


def test_rejected_outcome_is_replayed_too(gateway: Any, sandbox: Any) -> None:
    """A broker rejection is stored: the repeat gets the same 422 body without asking Alpaca again."""
    sell = {"symbol": "NOSUCHX", "side": "buy", "qty": "5", "client_order_id": "no-asset"}
    sandbox_orders_before = len(upstream_orders(sandbox))
    first = place(sell)
    second = place(sell)
    assert (first.status, first.body["error"]) == (422, "asset_not_found"), first.text
    assert (second.status, second.body) == (first.status, first.body)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(upstream_orders(sandbox)) == sandbox_orders_before


def test_same_key_for_a_different_order_is_a_conflict(gateway: Any, sandbox: Any) -> None:
    """Reusing a key for another order is refused (409) rather than answered with the wrong outcome."""
    assert place({**BUY, "client_order_id": "k-1"}).status == 200
    reply = place({**BUY, "qty": "2", "client_order_id": "k-1"})
    assert reply.status == 409
    assert reply.body["error"] == "idempotency_key_reused"
    assert len(upstream_orders(sandbox)) == 1
