"""The local Eventarc stand-in: a new audit document on the emulator reaches notify_on_audit through
the local gateway server as a binary-mode Firestore CloudEvent, and the target gets it signed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server

from infra.eventarc import CREATED, AuditListener, document_event
from infra.gateway_server import create_app
from shared.gateway import Gateway
from tests.notify.conftest import SECRET, audit_event, put_targets, target
from tests.support.receiver import Receiver
from tests.support.serving import serving


@pytest.fixture
def local_server(gateway: Gateway) -> Iterator[str]:
    """The local gateway server (routes, jobs and event routes) on a free port."""
    with serving(make_server("127.0.0.1", 0, create_app(), threaded=True)) as port:
        yield f"http://127.0.0.1:{port}"


def test_new_audit_document_is_delivered_through_the_stand_in(
    gateway: Gateway, receiver: Receiver, local_server: str, db: Any, firestore_project: str
) -> None:
    """Listener → POST /events/notify_on_audit → the target, verified with standardwebhooks."""
    put_targets(target(receiver, events=["order.filled"]))
    listener = AuditListener(db, firestore_project, f"{local_server}/events/notify_on_audit").start()
    try:
        audit_event(gateway, "evt-local")
        end = time.monotonic() + 20
        while not receiver.deliveries and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        listener.stop()
    [delivery] = receiver.deliveries
    assert Webhook(SECRET).verify(delivery.body, delivery.headers)["data"]["id"] == "evt-local"


def test_the_cloudevent_is_binary_mode_with_a_protobuf_document() -> None:
    """The headers Eventarc sends for a Firestore create, and a body the trigger decodes back."""
    from cloudevents.http import from_http

    from functions._events import decode

    headers, body = document_event("p1", "audit/abc", {"type": "order.filled", "qty": "2"})
    assert headers["ce-type"] == CREATED and headers["ce-subject"] == "documents/audit/abc"
    assert headers["Content-Type"] == "application/protobuf"
    assert decode(from_http(headers, body)) == ("audit/abc", {"type": "order.filled", "qty": "2"})


def test_event_route_refuses_an_unknown_trigger(local_server: str) -> None:
    import httpx

    response = httpx.post(f"{local_server}/events/nope", content=b"")
    assert response.status_code == 404 and response.json()["error"] == "route_not_found"
