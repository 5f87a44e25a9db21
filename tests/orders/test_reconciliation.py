"""A randomised run of mixed traffic; then the broker's orders and the Firestore records agree one to one."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.orders.store import order_doc_id
from tests.gateway.conftest import call_entry
from tests.orders.conftest import ADMIN_TOKEN, events, place, records, upstream_orders

REQUESTS = 520
FAULTS = (
    {"status": 503, "mode": "error"},
    {"status": 500, "mode": "error"},
    {"status": 200, "mode": "timeout_after_accept", "latency_ms": 1300},
)


def _request(rng: random.Random, keys: list[str]) -> tuple[str, dict[str, Any], str | None]:
    """One request of a random kind: a keyed order (often a repeat), keyless, invalid or denied."""
    roll = rng.random()
    symbol = rng.choice(["AAPL", "MSFT", "SPY"])
    if roll < 0.6:
        key = rng.choice(keys)
        n = int(key.split("-")[1])
        body = {"symbol": ["AAPL", "MSFT", "SPY"][n % 3], "side": "buy", "qty": "1"}
        if n % 2:
            body |= {"type": "limit", "limit_price": "1.00"}
        return ("keyed", {**body, "client_order_id": key}, None) if n % 4 else ("header", body, key)
    if roll < 0.75:
        return (
            "keyless",
            {"symbol": symbol, "side": "buy", "qty": "1", "type": "limit", "limit_price": "2.00"},
            None,
        )
    if roll < 0.87:
        bad = rng.choice([{"qty": "0"}, {"type": "limit", "limit_price": "1.005"}, {"extended_hours": True}])
        return "invalid", {"symbol": symbol, "side": "buy", "qty": "1", **bad}, None
    return (
        "denied",
        {"symbol": "TSLA", "side": "buy", "qty": "1", "client_order_id": f"tsla-{rng.random()}"},
        None,
    )


def test_randomised_traffic_leaves_broker_and_records_in_one_to_one_agreement(
    gateway: Any, sandbox: Any, db: Any
) -> None:
    """500+ requests with repeats, concurrent copies, invalid orders, denials and faults: every upstream
    order has exactly one record and its events, and every submitted record has its upstream order."""
    assert (
        call_entry(
            "put_risk", "PUT", "/risk", token=ADMIN_TOKEN, json_body={"symbol_denylist": ["TSLA"]}
        ).status
        == 200
    )
    rng = random.Random(20261117)
    keys = [f"wh-{n}" for n in range(150)]
    plan = [_request(rng, keys) for _ in range(REQUESTS)]
    fault_at = set(rng.sample(range(REQUESTS), 12))
    lock = threading.Lock()
    replies: dict[str, list[Any]] = defaultdict(list)
    statuses: Counter[int] = Counter()

    def run(index: int) -> None:
        kind, body, header = plan[index]
        if index in fault_at:
            sandbox.fault(method="POST", path="/v2/orders", count=1, **FAULTS[index % len(FAULTS)])
        reply = place(body, key=header)
        key = header or body.get("client_order_id")
        with lock:
            statuses[reply.status] += 1
            if key and kind in ("keyed", "header"):
                replies[key].append(reply)
        expected = {"invalid": {400, 422}, "denied": {403}}.get(kind, {200, 202, 409})
        assert reply.status in expected, (kind, reply.status, reply.body)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(run, range(REQUESTS)))

    upstream = upstream_orders(sandbox)
    stored = records(db)
    all_events = events(db)
    by_claim: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in all_events:
        if "order" in event:
            by_claim[(event["order"], event["id"].split("-")[1])].add(event["type"])

    ids = Counter(o["client_order_id"] for o in upstream)
    assert max(ids.values()) == 1, "an order was placed twice"
    for order in upstream:
        doc_id = order_doc_id(order["client_order_id"])
        record = stored[doc_id]
        assert record["state"] == "submitted", record
        assert record["alpaca_order_id"] == order["id"]
        assert {"order.requested", "order.submitted"} <= by_claim[(doc_id, record["claim"])]
    upstream_ids = {o["id"] for o in upstream}
    for record in stored.values():
        assert record["state"] != "pending"
        if record["state"] == "submitted":
            assert record["alpaca_order_id"] in upstream_ids
    for key, answers in replies.items():
        placed = {r.body["id"] for r in answers if r.status == 200}
        assert len(placed) <= 1, key
    assert sum(statuses.values()) == REQUESTS >= 500
    assert statuses[403] and (statuses[400] + statuses[422]) and len(upstream) > 100
