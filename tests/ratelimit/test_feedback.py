"""Upstream feedback through the real client and the sandbox: one instance's 429 stops all of them."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from shared.app import Parts, wire
from shared.errors import RateLimited
from tests.support.env import gateway_settings
from tests.support.sandbox import upstream_requests


def gateway_on(sandbox: Any, firestore_emulator: str, project: str) -> Parts:
    """One gateway instance with its own Firestore client, as a separate Cloud Function would have."""
    from google.cloud import firestore

    settings = gateway_settings(sandbox.url, firestore_emulator, project)
    return wire(settings, db=firestore.Client(project=project))


@pytest.mark.timeout(60)
def test_sandbox_429_with_reset_stops_every_instance_until_reset(
    sandbox: Any, firestore_emulator: str
) -> None:
    """After one instance meets a 429, the others refuse reads without asking Alpaca until Reset."""
    project = f"feedback-{uuid.uuid4().hex[:10]}"
    first, other = (gateway_on(sandbox, firestore_emulator, project) for _ in range(2))
    other.alpaca.clock()
    sandbox.fault(method="POST", path="/v2/orders", status=429, reset_after_seconds=3, count=1)
    order = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    with pytest.raises(RateLimited):
        first.alpaca.place_order(order)
    before = upstream_requests(sandbox)
    with pytest.raises(RateLimited) as caught:
        other.alpaca.clock()
    assert caught.value.retry_after is not None and caught.value.retry_after > 1.0
    assert upstream_requests(sandbox) == before
    time.sleep(caught.value.retry_after)
    other.alpaca.clock()
    assert upstream_requests(sandbox) == before + 1
    assert sandbox.stats()["keys"][sandbox.key]["rate_limited"] == 0


@pytest.mark.timeout(60)
def test_a_broker_back_off_is_one_audit_event_for_the_notifications(
    sandbox: Any, firestore_emulator: str
) -> None:
    """The 429 becomes one `limiter.backoff` event (what notification targets subscribe to), naming the
    key only by its fingerprint."""
    from google.cloud import firestore

    project = f"feedback-{uuid.uuid4().hex[:10]}"
    first = gateway_on(sandbox, firestore_emulator, project)
    sandbox.fault(method="POST", path="/v2/orders", status=429, reset_after_seconds=3, count=1)
    order = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    with pytest.raises(RateLimited):
        first.alpaca.place_order(order)
    events = [d.to_dict() for d in firestore.Client(project=project).collection("audit").stream()]
    (event,) = [e for e in events if e["type"] == "limiter.backoff"]
    assert event["status"] == 429 and event["key"] != sandbox.key and sandbox.key not in str(event)
