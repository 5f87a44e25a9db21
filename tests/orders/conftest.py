"""Order-path fixtures: a gateway on the sandbox and a fresh emulator project, and helpers to read both."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from shared.app import build, install
from shared.config import Settings
from shared.gateway import Gateway
from tests.conftest import generous_sandbox
from tests.gateway.conftest import Reply, call_entry
from tests.support.env import DEV_TOKEN, GENEROUS_BUDGET, TRADING_NOW, gateway_settings
from tests.support.sandbox import Sandbox

TRADER_TOKEN = "trader-token-91c2"
ADMIN_TOKEN = "admin-token-3b7d"

CALLERS = json.dumps(
    [
        {
            "name": "tradingview",
            "token_sha256": hashlib.sha256(TRADER_TOKEN.encode()).hexdigest(),
            "scopes": ["read", "trade"],
            "max_orders_per_minute": 3,
        },
        {
            "name": "ops",
            "token_sha256": hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
            "scopes": ["read", "admin"],
        },
    ]
)
# What the order suites add to the gateway's environment: their callers, and a 1 s read timeout per attempt.
ORDER_ENV = {
    "GATEWAY_CALLERS": CALLERS,
    "ALPACA_READ_TIMEOUT_SECONDS": "1",
    "RATE_LIMIT_PER_MINUTE": GENEROUS_BUDGET,
}


sandbox_service = pytest.fixture(scope="session", name="sandbox_service")(generous_sandbox)


@pytest.fixture
def order_settings(sandbox: Sandbox, firestore_project: str, firestore_emulator: str) -> Settings:
    """The order suites' settings: the sandbox, this test's emulator project, their callers."""
    return gateway_settings(sandbox.url, firestore_emulator, firestore_project, **ORDER_ENV)


@pytest.fixture
def gateway(sandbox: Sandbox, db: Any, order_settings: Settings) -> Iterator[Gateway]:
    """A gateway on the sandbox (frozen on a Tuesday at 10:00 ET) and this test's emulator project."""
    sandbox.set_clock(TRADING_NOW, frozen=True)
    instance = build(order_settings, db=db)
    install(instance)
    try:
        yield instance
    finally:
        install(None)


def place(body: Mapping[str, Any], *, token: str = DEV_TOKEN, key: str | None = None) -> Reply:
    headers = {"Idempotency-Key": key} if key else None
    return call_entry("place_order", "POST", "/", token=token, json_body=dict(body), headers=headers)


def upstream_orders(sandbox: Sandbox) -> list[dict[str, Any]]:
    with sandbox.client() as client:
        body: list[dict[str, Any]] = client.get("/v2/orders", params={"status": "all", "limit": 500}).json()
    return body


def records(db: Any) -> dict[str, dict[str, Any]]:
    return {snap.id: snap.to_dict() for snap in db.collection("orders").stream()}


def events(db: Any, kind: str | None = None) -> list[dict[str, Any]]:
    found = [snap.to_dict() | {"id": snap.id} for snap in db.collection("audit").stream()]
    return [e for e in found if kind is None or e["type"] == kind]


def set_risk(db: Any, **settings: Any) -> None:
    db.collection("settings").document("risk").set(settings)
