"""Signed requests through the entry points: the signing caller is served, anything altered is refused
before the broker or the order log hears of it."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.auth.signatures import signature
from tests.gateway.conftest import Reply, call_entry
from tests.support.sandbox import Sandbox, upstream_requests

SECRET = "signing-secret-of-the-bot-0123456789"
READER = "reader-token-for-forwarding"
CALLERS = [
    {"name": "bot", "scopes": ["read", "trade"], "signing_secret": SECRET},
    {"name": "picky", "scopes": ["trade"], "signing_secret": SECRET + "-picky", "symbols": ["AAPL"]},
    {"name": "reader", "scopes": ["read"], "token_sha256": hashlib.sha256(READER.encode()).hexdigest()},
]
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.fixture(autouse=True)
def signing_gateway(make_gateway: Callable[..., Any], market_open: Sandbox) -> None:
    make_gateway({"GATEWAY_CALLERS": json.dumps(CALLERS), "GATEWAY_DEV_TOKEN": None})


def signed(
    target: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    key: str = "bot",
    secret: str = SECRET,
    sent_path: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send `path` (public, with its query) signed as `key`; `sent_path` is what actually goes out."""
    now = int(time.time())
    v1 = signature(secret, now, method, path, body)
    sent = {"X-Signature": f"keyId={key},t={now},v1={v1}", **(headers or {})}
    return call_entry(target, method, sent_path or path, token=None, data=body or None, headers=sent)


def order_records(db: Any) -> list[dict[str, Any]]:
    return [doc.to_dict() for doc in db.collection("orders").stream()]


def test_a_signed_order_is_placed_as_the_signing_caller(db: Any) -> None:
    reply = signed("place_order", "POST", "/api/alpaca/orders", json.dumps(ORDER).encode())
    assert reply.status == 200, reply.body
    assert [r["caller"] for r in order_records(db)] == ["bot"]


def test_a_signed_read_with_a_query_is_served() -> None:
    reply = signed("list_orders", "GET", "/api/alpaca/orders?status=all&limit=5")
    assert reply.status == 200 and isinstance(reply.body, list)


def test_a_signature_does_not_carry_over_to_another_query(sandbox: Sandbox) -> None:
    before = upstream_requests(sandbox)
    reply = signed(
        "list_orders", "GET", "/api/alpaca/orders?status=open", sent_path="/api/alpaca/orders?status=all"
    )
    assert (reply.status, reply.body["error"]) == (401, "invalid_signature")
    assert upstream_requests(sandbox) == before


def test_a_body_changed_after_signing_is_refused(db: Any, sandbox: Sandbox) -> None:
    now = int(time.time())
    body = json.dumps(ORDER).encode()
    v1 = signature(SECRET, now, "POST", "/api/alpaca/orders", body)
    bigger = json.dumps({**ORDER, "qty": "100"}).encode()
    before = upstream_requests(sandbox)
    headers = {"X-Signature": f"keyId=bot,t={now},v1={v1}"}
    reply = call_entry("place_order", "POST", "/api/alpaca/orders", token=None, data=bigger, headers=headers)
    assert (reply.status, reply.body["error"]) == (401, "invalid_signature")
    assert upstream_requests(sandbox) == before and order_records(db) == []


def test_a_signature_over_the_public_path_holds_where_api_gateway_appends_it() -> None:
    """API Gateway calls the function's URL with the public path appended; the function rebuilds it."""
    reply = signed("get_account", "GET", "/api/alpaca/account", sent_path="/get_account/api/alpaca/account")
    assert reply.status == 200, reply.body


def test_a_signature_over_an_order_id_path_holds() -> None:
    order_id = "6f1b1a52-8a7d-4d4c-9a0e-8d1c2a3b4c5d"
    reply = signed("get_order", "GET", f"/api/alpaca/orders/{order_id}")
    assert (reply.status, reply.body["error"]) == (404, "order_not_found")  # authenticated, then looked up


def test_the_same_signed_request_twice_is_a_replay(db: Any) -> None:
    now = int(time.time())
    body = json.dumps(ORDER).encode()
    v1 = signature(SECRET, now, "POST", "/api/alpaca/orders", body)
    headers = {"X-Signature": f"keyId=bot,t={now},v1={v1}"}
    first = call_entry("place_order", "POST", "/api/alpaca/orders", token=None, data=body, headers=headers)
    again = call_entry("place_order", "POST", "/api/alpaca/orders", token=None, data=body, headers=headers)
    assert first.status == 200
    assert (again.status, again.body["error"]) == (401, "signature_replayed")
    assert len(order_records(db)) == 1


def test_a_caller_may_not_trade_a_symbol_off_its_allow_list(db: Any, sandbox: Sandbox) -> None:
    before = upstream_requests(sandbox)
    body = json.dumps({**ORDER, "symbol": "TSLA"}).encode()
    reply = signed("place_order", "POST", "/api/alpaca/orders", body, key="picky", secret=SECRET + "-picky")
    assert (reply.status, reply.body["error"]) == (403, "symbol_not_allowed")
    assert upstream_requests(sandbox) == before and order_records(db) == []


def test_a_caller_may_trade_a_symbol_on_its_allow_list(db: Any) -> None:
    body = json.dumps(ORDER).encode()
    reply = signed("place_order", "POST", "/api/alpaca/orders", body, key="picky", secret=SECRET + "-picky")
    assert reply.status == 200, reply.body
