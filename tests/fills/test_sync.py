"""The order sync against the sandbox moving prices and time: records, fills and events exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.audit import Event
from shared.clock import ManualClock
from shared.gateway import Gateway
from shared.orders.record import OrderState
from shared.orders.store import order_doc_id
from tests.fills.conftest import advance, order_events, sync
from tests.gateway.conftest import call_entry
from tests.orders.conftest import events, place, records
from tests.support.orders import order_record
from tests.support.sandbox import Sandbox

BUY = {"symbol": "AAPL", "side": "buy", "qty": "10"}


def placed(body: dict[str, Any]) -> dict[str, Any]:
    reply = place(body)
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.body
    return found


def record_of(db: Any, key: str) -> dict[str, Any]:
    return records(db)[order_doc_id(key)]


def test_sync_records_status_fill_times_and_arrival_price(gateway: Gateway, db: Any) -> None:
    """A filled market order: the record gets its status, quantities, fill times and arrival price."""
    order = placed({**BUY, "client_order_id": "sync-fill"})
    report = sync().body
    assert report["orders"] >= 1 and report["fills"] == 1
    record = record_of(db, "sync-fill")
    assert (record["alpaca_status"], record["filled_qty"]) == ("filled", "10")
    assert record["first_fill_at"] == record["last_fill_at"] is not None
    assert record["arrival_source"] == "quote_mid" and record["arrival_price"]
    assert record["received_at"] <= record["sent_at"] <= record["acknowledged_at"]
    assert record["tracking"] is False
    assert order_events(db) == [("order.filled", order["id"])]


def test_partial_fills_write_one_event_per_part_and_one_filled(
    gateway: Gateway, sandbox: Sandbox, clock: ManualClock, db: Any
) -> None:
    """10 shares at a liquidity of 4, synced after each minute: two partial events, then one filled."""
    sandbox.set_liquidity("AAPL", "4")
    order = placed({**BUY, "client_order_id": "sync-parts"})
    sync()
    assert record_of(db, "sync-parts")["alpaca_status"] == "partially_filled"
    for _ in range(2):
        advance(sandbox, clock, 60)
        sync()
    assert order_events(db) == [
        ("order.filled", order["id"]),
        ("order.partially_filled", order["id"]),
        ("order.partially_filled", order["id"]),
    ]
    record = record_of(db, "sync-parts")
    assert (record["alpaca_status"], record["filled_qty"], record["tracking"]) == ("filled", "10", False)
    assert record["last_fill_at"] - record["first_fill_at"] == timedelta(minutes=2)


def test_repeated_and_overlapping_runs_write_no_duplicate_events(
    gateway: Gateway, sandbox: Sandbox, clock: ManualClock, db: Any
) -> None:
    """The same window synced again and again, also by two runs at once: each event exists once."""
    sandbox.set_liquidity("AAPL", "4")
    placed({**BUY, "client_order_id": "sync-repeat"})
    placed({"symbol": "MSFT", "side": "buy", "qty": "1", "client_order_id": "sync-repeat-2"})
    advance(sandbox, clock, 60)
    sync()
    first = order_events(db)
    runs = [threading.Thread(target=sync) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    sync()
    assert order_events(db) == first
    assert len(first) == 3  # AAPL: two parts so far; MSFT: filled


def test_bracket_legs_filling_are_recorded_on_the_entry_record(
    gateway: Gateway, sandbox: Sandbox, db: Any
) -> None:
    """Entry filled, then the take-profit: the leg's fill and the stop's cancel are events of the record."""
    sandbox.set_price("AAPL", "100.00")
    bracket = {
        "symbol": "AAPL",
        "side": "buy",
        "qty": "2",
        "order_class": "bracket",
        "take_profit": {"limit_price": "110.00"},
        "stop_loss": {"stop_price": "90.00"},
        "client_order_id": "sync-bracket",
    }
    entry = placed(bracket)
    sync()
    assert record_of(db, "sync-bracket")["tracking"] is True
    sandbox.set_price("AAPL", "111.00")
    sync()
    record = record_of(db, "sync-bracket")
    legs = {leg["type"]: leg for leg in record["legs"]}
    assert (legs["limit"]["status"], legs["stop"]["status"]) == ("filled", "canceled")
    assert record["tracking"] is False
    found = [e for e in events(db) if e["type"] in ("order.filled", "order.canceled")]
    assert {(e["type"], e["leg"]) for e in found} == {
        ("order.filled", False),
        ("order.filled", True),
        ("order.canceled", True),
    }
    assert {e["order"] for e in found} == {order_doc_id("sync-bracket")}
    assert entry["id"] in {e["alpaca_order_id"] for e in found}


def test_cancel_racing_a_fill_ends_canceled_with_its_part(
    gateway: Gateway, sandbox: Sandbox, clock: ManualClock, db: Any
) -> None:
    """A cancel after the first part: the record ends canceled with 4 filled; no filled event."""
    sandbox.set_liquidity("AAPL", "4")
    order = placed({**BUY, "client_order_id": "sync-race"})
    assert call_entry("cancel_order", "DELETE", f"/orders/{order['id']}").status == 200
    advance(sandbox, clock, 60)
    sync()
    record = record_of(db, "sync-race")
    assert (record["alpaca_status"], record["filled_qty"]) == ("canceled", "4")
    assert order_events(db) == [("order.canceled", order["id"]), ("order.partially_filled", order["id"])]


def _stale_record(gateway: Gateway, db: Any, key: str, age: timedelta, state: OrderState) -> None:
    """A record as an instance that died mid-send would leave it, `age` old by the gateway's clock."""
    now = datetime.fromtimestamp(gateway.clock.now(), UTC)
    record = order_record(key, "c0ffee00", state, now - age, received_at=now - age)
    db.collection("orders").document(record.order).set(record.stored())


def test_stale_record_whose_order_alpaca_has_is_settled_submitted(
    gateway: Gateway, sandbox: Sandbox, db: Any
) -> None:
    """The send landed but its instance died: the sync finds the order and records it submitted."""
    with sandbox.client() as broker:
        body = {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market", "time_in_force": "day"}
        broker.post("/v2/orders", json={**body, "client_order_id": "sync-landed"}).raise_for_status()
    _stale_record(gateway, db, "sync-landed", timedelta(minutes=1), OrderState.PENDING)
    report = sync().body
    assert report["settled"] == {"submitted": 1}
    assert record_of(db, "sync-landed")["state"] == "submitted"


def test_record_alpaca_never_got_is_marked_not_sent_and_its_key_freed(
    gateway: Gateway, sandbox: Sandbox, db: Any
) -> None:
    """Unresolved for ten minutes and unknown to Alpaca: order.not_sent, the key free, nothing sent."""
    _stale_record(gateway, db, "sync-never", timedelta(minutes=10), OrderState.UNRESOLVED)
    report = sync().body
    assert report["settled"] == {"not_sent": 1}
    assert order_doc_id("sync-never") not in records(db)
    [event] = events(db, Event.ORDER_NOT_SENT.value)
    assert event["reason"] == "not_at_broker"
    with sandbox.client() as broker:
        assert broker.get("/v2/orders", params={"status": "all"}).json() == []


def test_unresolved_record_inside_the_in_flight_window_is_left_open(gateway: Gateway, db: Any) -> None:
    """A young unresolved record Alpaca does not show yet: left as it is for a later run."""
    _stale_record(gateway, db, "sync-young", timedelta(seconds=40), OrderState.UNRESOLVED)
    assert sync().body["settled"] == {"open": 1}
    assert record_of(db, "sync-young")["state"] == "unresolved"


def test_cursor_moves_only_after_a_successful_run(gateway: Gateway, sandbox: Sandbox, db: Any) -> None:
    """A broker failure mid-run answers an error and leaves the cursor where it was."""
    placed({**BUY, "client_order_id": "sync-cursor"})
    sandbox.fault(method="GET", path="/v2/account/activities/FILL", status=500, count=5)
    failed = call_entry("sync_orders", "POST", "/")
    assert failed.status >= 500
    assert not db.collection("sync").document("orders").get().exists
    sandbox.admin.delete("/_sandbox/faults")
    sync()
    cursor = db.collection("sync").document("orders").get().to_dict()
    assert cursor["orders_after"] and cursor["fills_after"]
