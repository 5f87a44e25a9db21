"""A liquidation attempt is read back by its client order id before another is sent: not found is sent
again under the same id, still working waits, filled or ended moves to the next id. The broker here is
a scripted transport under the real Alpaca client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.clock import ManualClock
from shared.eod.liquidation import FAILED, UNKNOWN, Liquidator
from tests.support.alpaca import client_for

POSITION = {"symbol": "AAPL", "qty": "10", "side": "long", "asset_class": "us_equity"}
TAG = "eod-20261127"


def broker(
    lookup: dict[str, Any] | None, place: httpx.Response | None = None
) -> tuple[Liquidator, list[str]]:
    """`lookup`: the order found by client order id (None: 404); `place`: the answer to a POST."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v2/orders:by_client_order_id":
            if lookup is None:
                return httpx.Response(404, json={"code": 40410000, "message": "order not found"})
            return httpx.Response(200, json=lookup)
        return place or httpx.Response(200, json={"id": "o-2", "status": "accepted", "filled_qty": "0"})

    return Liquidator(client_for(answer, ManualClock()), TAG), seen


def entry(*orders: dict[str, Any]) -> dict[str, Any]:
    return {"symbol": "AAPL", "qty": "10", "orders": list(orders), "canceled": []}


def test_first_attempt_of_a_fresh_run_is_sent_without_a_lookup() -> None:
    liquidator, seen = broker(None)
    assert liquidator.next_attempt(entry(), look_up_first=False) == 1
    assert seen == []


@pytest.mark.parametrize(
    ("found", "attempt"),
    [
        (None, 1),  # never placed: the same id again
        ({"id": "o-1", "status": "new", "filled_qty": "0"}, None),  # still working: wait
        ({"id": "o-1", "status": "filled", "filled_qty": "10"}, 2),  # filled, yet shares remain: next id
        ({"id": "o-1", "status": "canceled", "filled_qty": "0"}, 2),  # ended unfilled: next id
    ],
)
def test_resumed_run_reads_the_first_attempt_back_before_sending(
    found: dict[str, Any] | None, attempt: int | None
) -> None:
    liquidator, seen = broker(found)
    record = entry()
    assert liquidator.next_attempt(record, look_up_first=True) == attempt
    assert seen == ["GET /v2/orders:by_client_order_id"]
    assert record["orders"][0]["client_order_id"] == f"{TAG}-AAPL-1"


def test_a_refused_attempt_is_sent_again_under_the_same_id() -> None:
    refused = httpx.Response(403, json={"code": 40310000, "message": "insufficient qty available for order"})
    liquidator, _ = broker(None, refused)
    record = entry()
    current = liquidator.prepare(record, POSITION, 1)
    liquidator.place(current, POSITION)
    assert (current["status"], current["error"]) == (FAILED, "insufficient_qty")
    assert liquidator.next_attempt(record, look_up_first=False) == 1
    again = liquidator.prepare(record, POSITION, 1)
    assert again is current and len(record["orders"]) == 1


def test_an_attempt_whose_answer_was_lost_is_unknown_until_read_back() -> None:
    liquidator, _ = broker({"id": "o-1", "status": "filled", "filled_qty": "10"}, httpx.Response(504))
    record = entry()
    current = liquidator.prepare(record, POSITION, 1)
    liquidator.place(current, POSITION)
    assert current["status"] == UNKNOWN
    liquidator.refresh(record)
    assert (current["status"], current["order_id"]) == ("filled", "o-1")
