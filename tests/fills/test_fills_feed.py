"""GET /fills: what the sync stored, oldest first with stable ids, paged; no broker request."""

from __future__ import annotations

from typing import Any

import pytest

from shared.clock import ManualClock
from shared.gateway import Gateway
from tests.fills.conftest import advance, sync
from tests.gateway.conftest import call_entry
from tests.orders.conftest import TRADER_TOKEN, place
from tests.support.sandbox import Sandbox, upstream_requests


def feed(**query: Any) -> Any:
    return call_entry("list_fills", "GET", "/fills", query=query)


@pytest.fixture
def three_fills(gateway: Gateway, sandbox: Sandbox, clock: ManualClock) -> list[dict[str, Any]]:
    """One order of 10 filled in parts of 4, 4 and 2 over three minutes, synced; its activities."""
    sandbox.set_liquidity("AAPL", "4")
    assert place({"symbol": "AAPL", "side": "buy", "qty": "10", "client_order_id": "feed"}).status == 200
    advance(sandbox, clock, 60)
    advance(sandbox, clock, 60)
    sync()
    with sandbox.client() as broker:
        found: list[dict[str, Any]] = broker.get(
            "/v2/account/activities/FILL", params={"direction": "asc"}
        ).json()
    return found


def test_feed_lists_fills_oldest_first_with_alpacas_ids(three_fills: list[dict[str, Any]]) -> None:
    """Each fill once, oldest first, under Alpaca's activity id, with its order's key and caller."""
    reply = feed()
    assert reply.status == 200, reply.text
    fills = reply.body["fills"]
    assert [f["id"] for f in fills] == [a["id"] for a in three_fills]
    assert [f["qty"] for f in fills] == ["4", "4", "2"]
    assert [f["type"] for f in fills] == ["partial_fill", "partial_fill", "fill"]
    assert {f["client_order_id"] for f in fills} == {"feed"}


def test_feed_pages_with_its_cursor(three_fills: list[dict[str, Any]]) -> None:
    """limit=2 then the cursor: the third fill; then an empty page that keeps the cursor."""
    first = feed(limit=2).body
    second = feed(limit=2, cursor=first["next_cursor"]).body
    third = feed(limit=2, cursor=second["next_cursor"]).body
    ids = [f["id"] for f in first["fills"] + second["fills"]]
    assert ids == [a["id"] for a in three_fills]
    assert third == {"fills": [], "next_cursor": second["next_cursor"]}


def test_feed_since_starts_at_that_transaction_time(three_fills: list[dict[str, Any]]) -> None:
    """since = the second fill's time: the second and third fills."""
    reply = feed(since=three_fills[1]["transaction_time"])
    assert [f["id"] for f in reply.body["fills"]] == [a["id"] for a in three_fills[1:]]


def test_polling_the_feed_costs_no_broker_request(
    three_fills: list[dict[str, Any]], sandbox: Sandbox
) -> None:
    """The feed reads Firestore only."""
    before = upstream_requests(sandbox)
    assert call_entry("list_fills", "GET", "/fills", token=TRADER_TOKEN).status == 200
    assert upstream_requests(sandbox) == before


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"since": "yesterday"}, "invalid_since"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "501"}, "invalid_limit"),
        ({"cursor": "../../etc"}, "invalid_cursor"),
    ],
)
def test_feed_refuses_malformed_queries(gateway: Gateway, query: dict[str, str], reason: str) -> None:
    """Each malformed parameter is a 400 with its own reason."""
    reply = feed(**query)
    assert (reply.status, reply.body["error"]) == (400, reason)
