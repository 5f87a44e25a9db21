"""Ambiguous outcomes: after a timeout or a 5xx the order is looked up, re-sent at most once, or left
unresolved with a 202; never duplicated, never unrecorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from shared.app import build, install
from shared.clock import ManualClock
from shared.config import Settings
from shared.errors import RateLimited
from shared.gateway import Gateway
from shared.limits.protocol import Permit, Priority
from shared.orders.desk import STALE_PENDING_SECONDS
from shared.orders.store import order_doc_id
from tests.orders.conftest import events, place, records, upstream_orders
from tests.support.env import TRADING_NOW

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
    """Two 500s and no order upstream: recorded unresolved, answered 202 saying nothing was placed."""
    sandbox.fault(**POST_ORDERS, status=500, count=2)
    reply = place({**BUY, "client_order_id": "twice-500"})
    assert (reply.status, reply.body["status"], reply.body["reason"]) == (202, "unresolved", "not_placed")
    assert records(db)[order_doc_id("twice-500")]["state"] == "unresolved"
    assert len(events(db, "order.unresolved")) == 1
    assert upstream_orders(sandbox) == []


def test_repeat_after_two_500s_places_exactly_one_order(gateway: Any, sandbox: Any, db: Any) -> None:
    """The broker never saw the order: the repeat of the key sends it with the same id, once."""
    sandbox.fault(**POST_ORDERS, status=500, count=2)
    assert place({**BUY, "client_order_id": "twice-500"}).status == 202
    again = place({**BUY, "client_order_id": "twice-500"})
    assert (again.status, again.body["client_order_id"]) == (200, "twice-500"), again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [o["client_order_id"] for o in upstream_orders(sandbox)] == ["twice-500"]
    assert records(db)[order_doc_id("twice-500")]["state"] == "submitted"
    third = place({**BUY, "client_order_id": "twice-500"})
    assert (third.status, len(upstream_orders(sandbox))) == (200, 1)


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


class CrashBeforeSend(httpx.BaseTransport):
    """The seam between claim and send: the first order POST dies like a killed process, sending nothing."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.crashed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v2/orders" and not self.crashed:
            self.crashed = True
            raise RuntimeError("the instance died before sending")
        return self._inner.handle_request(request)


class RefuseOnce:
    """A limiter that grants every slot but the `nth`, which it refuses as if the budget were spent.
    An order's slots: its asset's lookup (1), the send (2), the lookup after a lost answer (3)."""

    def __init__(self, nth: int) -> None:
        self._nth = nth
        self.calls = 0

    def acquire(self, key_id: str, priority: Priority, units: int = 1) -> Permit:
        self.calls += 1
        if self.calls == self._nth:
            raise RateLimited("the upstream rate budget is spent", retry_after=1.0)
        return Permit(key_id, units, None)

    def observe(self, key_id: str, status: int, headers: Mapping[str, str]) -> None:
        return None


@pytest.fixture
def custom_gateway(sandbox: Any, db: Any, order_settings: Settings) -> Iterator[Callable[..., Gateway]]:
    """Build and install a gateway on the sandbox (frozen in trading hours) with the given parts."""
    sandbox.set_clock(TRADING_NOW, frozen=True)

    def make(**parts: Any) -> Gateway:
        instance = build(order_settings, db=db, **parts)
        install(instance)
        return instance

    try:
        yield make
    finally:
        install(None)


def test_repeat_after_a_crash_between_claim_and_send_places_exactly_one_order(
    custom_gateway: Callable[..., Gateway], sandbox: Any, db: Any
) -> None:
    """A record left pending by a dead instance is, after the stale window, looked up and sent once."""
    clock = ManualClock(time.time())
    transport = CrashBeforeSend()
    custom_gateway(clock=clock, http=httpx.Client(transport=transport, timeout=5.0))
    assert place({**BUY, "client_order_id": "crashed"}).status == 500
    assert transport.crashed and upstream_orders(sandbox) == []
    assert records(db)[order_doc_id("crashed")]["state"] == "pending"
    clock.advance(STALE_PENDING_SECONDS + 1)
    again = place({**BUY, "client_order_id": "crashed"})
    assert (again.status, again.body["client_order_id"]) == (200, "crashed"), again.text
    assert [o["client_order_id"] for o in upstream_orders(sandbox)] == ["crashed"]
    assert records(db)[order_doc_id("crashed")]["state"] == "submitted"


def test_lookup_refused_by_our_limiter_is_recorded_as_why_the_order_is_open(
    custom_gateway: Callable[..., Gateway], sandbox: Any, db: Any
) -> None:
    """A 500, then our limiter refuses the lookup: unresolved with the refusal as its reason, not lost."""
    custom_gateway(limiter=RefuseOnce(nth=3))
    sandbox.fault(**POST_ORDERS, status=500, count=1)
    reply = place({**BUY, "client_order_id": "lookup-refused"})
    assert (reply.status, reply.body["reason"]) == (202, "answer_lost"), reply.text
    record = records(db)[order_doc_id("lookup-refused")]
    assert (record["state"], record["reason"]) == ("unresolved", "rate_limited")


def test_repeat_after_a_refused_lookup_places_the_order_the_broker_never_saw(
    custom_gateway: Callable[..., Gateway], sandbox: Any, db: Any
) -> None:
    """The refused lookup proved nothing; the repeat asks again, learns of no order, and sends it once."""
    custom_gateway(limiter=RefuseOnce(nth=3))
    sandbox.fault(**POST_ORDERS, status=500, count=1)
    assert place({**BUY, "client_order_id": "lookup-refused"}).status == 202
    again = place({**BUY, "client_order_id": "lookup-refused"})
    assert again.status == 200, again.text
    assert [o["client_order_id"] for o in upstream_orders(sandbox)] == ["lookup-refused"]
