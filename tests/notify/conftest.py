"""Notification fixtures: a gateway with a movable clock, a local receiver, and CloudEvents as Eventarc
sends them to notify_on_audit."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.eventarc import document_event
from shared.app import build, install
from shared.audit import Event
from shared.clock import ManualClock
from shared.gateway import Gateway
from tests.gateway.conftest import Reply, call_entry, entry_client
from tests.orders.conftest import ORDER_ENV
from tests.support.env import gateway_settings
from tests.support.receiver import Receiver, running

SECRET = "whsec_" + base64.b64encode(b"notify-test-key-0123456789abcdef").decode()
UNUSED_BROKER = "http://127.0.0.1:9"  # notifications never call the broker


@pytest.fixture
def clock() -> ManualClock:
    """Real time to start with (receivers check the signature's timestamp), moved by the tests."""
    return ManualClock(time.time())


@pytest.fixture
def gateway(
    db: Any, firestore_project: str, firestore_emulator: str, clock: ManualClock
) -> Iterator[Gateway]:
    settings = gateway_settings(UNUSED_BROKER, firestore_emulator, firestore_project, **ORDER_ENV)
    instance = build(settings, db=db, clock=clock)
    db.collection("settings").document("notifications").get(
        timeout=30
    )  # a fresh project's first read is slow
    install(instance)
    try:
        yield instance
    finally:
        install(None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(SECRET) as found:
        yield found


def put_targets(*targets: dict[str, Any], token: str | None = None) -> Reply:
    kwargs = {"token": token} if token else {}
    return call_entry(
        "put_notifications", "PUT", "/notifications", json_body={"targets": list(targets)}, **kwargs
    )


def target(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    return {"name": "ops-hook", "url": receiver.url, "secret": SECRET, "events": ["order.*"], **fields}


def audit_event(gateway: Gateway, event_id: str, kind: Event = Event.ORDER_FILLED, **data: Any) -> None:
    fields = {"symbol": "AAPL", "side": "buy", "filled_qty": "10", "filled_avg_price": "187.2", **data}
    gateway.audit.ref(event_id).create(gateway.audit.event(kind, "tradingview", "req-1", **fields))


def deliver(db: Any, project: str, event_id: str) -> int:
    """Post the audit document to notify_on_audit as Eventarc would; the entry point's status."""
    fields = db.collection("audit").document(event_id).get().to_dict()
    headers, body = document_event(project, f"audit/{event_id}", fields)
    response = entry_client("notify_on_audit").post("/", data=body, headers=headers)
    return int(response.status_code)
