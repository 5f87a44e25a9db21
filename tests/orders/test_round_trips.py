"""The order path's Firestore round trips, counted at the client: two per order, whatever the spacing."""

from __future__ import annotations

import time
from typing import Any

from shared.gateway import Gateway
from tests.orders.conftest import place, records, set_risk, upstream_orders
from tests.support.firestore import counting
from tests.support.sandbox import Sandbox

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "limit", "limit_price": "100"}
MARKET = {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"}


def listening(prefix: str, order: dict[str, str] = BUY) -> None:
    """Two orders more than the settings cache apart: the second starts the snapshot listener."""
    assert place({**order, "client_order_id": f"{prefix}-1"}).status == 200
    time.sleep(1.1)
    assert place({**order, "client_order_id": f"{prefix}-2"}).status == 200
    time.sleep(0.3)


def test_an_order_costs_two_round_trips_at_any_spacing(gateway: Gateway, db: Any) -> None:
    """Claim (record, event, and the limiter's unit unless the lease holds one) in one commit, the
    outcome in the other; no read and no limiter commit of its own, back to back or seconds apart (the
    settings come from the listener)."""
    listening("warm")
    count = counting(db)
    for n in range(3):
        assert place({**BUY, "client_order_id": f"rt-{n}"}).status == 200
    time.sleep(1.2)
    assert place({**BUY, "client_order_id": "spaced"}).status == 200
    assert count.calls == {"commit": 8}


def test_orders_back_to_back_spend_units_an_earlier_claim_leased(
    gateway: Gateway, db: Any, sandbox: Sandbox
) -> None:
    """Once the demand shows, a claim's limiter write also leases units for the orders after it, whose
    claims are then the record and its event only."""
    listening("lease")
    count = counting(db)
    for n in range(4):
        assert place({**BUY, "client_order_id": f"ls-{n}"}).status == 200
    limiter_writes = sum(n for path, n in count.written_by_path.items() if path.startswith("ratelimit/"))
    assert count.calls == {"commit": 8} and limiter_writes < 4
    assert len(upstream_orders(sandbox)) == 6


def test_kill_switch_reaches_a_listening_instance_within_a_second(gateway: Gateway, db: Any) -> None:
    """Another instance halts trading: the listener delivers it, and the next order is denied."""
    listening("k")
    set_risk(db, trading_state="halted")
    time.sleep(1.0)
    reply = place({**BUY, "client_order_id": "k3"})
    assert reply.status == 403 and reply.body["error"] == "trading_halted"


def test_a_duplicate_key_fails_the_claim_and_consumes_no_limiter_unit(
    gateway: Gateway, db: Any, sandbox: Sandbox
) -> None:
    """A repeat of a placed key is answered from its record; its failed claim changed no limiter count."""
    assert place({**BUY, "client_order_id": "dup"}).status == 200
    (limiter,) = list(db.collection("ratelimit").stream())
    repeat = place({**BUY, "client_order_id": "dup"})
    assert repeat.status == 200 and repeat.headers.get("Idempotent-Replayed") == "true"
    assert db.collection("ratelimit").document(limiter.id).get().to_dict() == limiter.to_dict()
    assert len(upstream_orders(sandbox)) == 1
    assert len(records(db)) == 1


def test_risk_reads_share_one_acquisition_and_run_side_by_side(gateway: Gateway, db: Any) -> None:
    """With both notional limits set, the position and the quote cost one limiter commit together, or
    none when the instance's lease holds their units."""
    set_risk(db, max_order_notional="100000", max_position_notional="10000000")
    listening("r", MARKET)
    count = counting(db)
    assert place({**MARKET, "client_order_id": "r3"}).status == 200
    assert 2 <= count.calls["commit"] <= 3  # the claim, the outcome, and the reads' two units at most once
