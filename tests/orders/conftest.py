"""Order-path fixtures: a gateway on the sandbox and a fresh emulator project, and helpers to read both."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from infra.stack import free_port
from shared.app import Gateway, build, install
from shared.config import Settings
from tests.conftest import generous_sandbox
from tests.gateway.conftest import TRADING_NOW, Reply, call_entry

DEV_TOKEN = "dev-token"
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


sandbox_service = pytest.fixture(scope="session", name="sandbox_service")(generous_sandbox)


def settings_for(sandbox: Any, project: str, emulator: str, **env: str) -> Settings:
    return Settings.from_mapping(
        {
            "ALPACA_BASE_URL": sandbox.url,
            "ALPACA_DATA_URL": sandbox.url,
            "ALPACA_API_KEY": sandbox.key,
            "ALPACA_SECRET_KEY": sandbox.secret,
            "GOOGLE_CLOUD_PROJECT": project,
            "FIRESTORE_EMULATOR_HOST": emulator,
            "GATEWAY_DEV_TOKEN": DEV_TOKEN,
            "GATEWAY_CALLERS": CALLERS,
            "ALPACA_READ_TIMEOUT_SECONDS": "1",
            "RATE_LIMIT_PER_MINUTE": "100000",
            **env,
        }
    )


@pytest.fixture
def gateway(sandbox: Any, db: Any, firestore_project: str, firestore_emulator: str) -> Iterator[Gateway]:
    """A gateway on the sandbox (frozen on a Tuesday at 10:00 ET) and this test's emulator project."""
    sandbox.set_clock(TRADING_NOW, frozen=True)
    instance = build(settings_for(sandbox, firestore_project, firestore_emulator), db=db)
    install(instance)
    try:
        yield instance
    finally:
        install(None)


@pytest.fixture
def dead_firestore(firestore_project: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Firestore client pointed at a port where nothing listens."""
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    client = firestore.Client(project=firestore_project)
    monkeypatch.undo()
    return client


def place(body: Mapping[str, Any], *, token: str = DEV_TOKEN, key: str | None = None) -> Reply:
    headers = {"Idempotency-Key": key} if key else None
    return call_entry("place_order", "POST", "/", token=token, json_body=dict(body), headers=headers)


def upstream_orders(sandbox: Any) -> list[dict[str, Any]]:
    with sandbox.client() as client:
        body: list[dict[str, Any]] = client.get("/v2/orders", params={"status": "all", "limit": 500}).json()
    return body


def upstream_post_count(sandbox: Any) -> int:
    return int(sandbox.stats()["keys"].get(sandbox.key, {}).get("requests", 0))


def records(db: Any) -> dict[str, dict[str, Any]]:
    return {snap.id: snap.to_dict() for snap in db.collection("orders").stream()}


def events(db: Any, kind: str | None = None) -> list[dict[str, Any]]:
    found = [snap.to_dict() | {"id": snap.id} for snap in db.collection("audit").stream()]
    return [e for e in found if kind is None or e["type"] == kind]


def set_risk(db: Any, **settings: Any) -> None:
    db.collection("settings").document("risk").set(settings)
