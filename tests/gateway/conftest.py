"""Gateway fixtures: settings for the sandbox and the emulator, an installed gateway, entry point clients."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import functions_framework
import pytest

from shared.app import build, install
from shared.config import Settings
from shared.gateway import Gateway
from tests.conftest import generous_sandbox
from tests.support.env import DEV_TOKEN, GENEROUS_BUDGET, TRADING_NOW, gateway_env
from tests.support.sandbox import Sandbox

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")
READER_TOKEN = "reader-token-7f3a"
AFTER_HOURS = "2026-11-17T09:00:00Z"  # Tuesday 04:00 ET, before the open

CALLERS = json.dumps(
    [
        {
            "name": "dashboard",
            "token_sha256": hashlib.sha256(READER_TOKEN.encode()).hexdigest(),
            "scopes": ["read"],
        }
    ]
)

_apps: dict[str, flask.Flask] = {}


def entry_client(target: str) -> Any:
    """A Flask test client on one entry point of main.py, loaded as functions-framework loads it."""
    if target not in _apps:
        _apps[target] = functions_framework.create_app(target, MAIN)
        # create_app records the signature type in FUNCTION_SIGNATURE_TYPE, which would make every
        # later app of an undecorated (HTTP) target a CloudEvent one.
        os.environ.pop("FUNCTION_SIGNATURE_TYPE", None)
    return _apps[target].test_client()


@dataclass
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]
    text: str


def call_entry(
    target: str,
    method: str = "GET",
    path: str = "/",
    *,
    token: str | None = DEV_TOKEN,
    json_body: Any = None,
    data: str | bytes | None = None,
    query: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Send one request to an entry point and decode its JSON answer."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    kwargs: dict[str, Any] = {"headers": sent}
    if query:
        kwargs["query_string"] = dict(query)
    if json_body is not None:
        kwargs["json"] = json_body
    elif data is not None:
        kwargs["data"] = data
        kwargs["content_type"] = "application/json"
    response = entry_client(target).open(path, method=method, **kwargs)
    text = response.get_data(as_text=True)
    body = json.loads(text) if text else None
    return Reply(response.status_code, body, dict(response.headers), text)


sandbox_service = pytest.fixture(scope="session", name="sandbox_service")(generous_sandbox)


@pytest.fixture
def function_env(sandbox: Sandbox, firestore_project: str, firestore_emulator: str) -> dict[str, str]:
    """The environment a function would see, pointed at the sandbox and a fresh emulator project."""
    return gateway_env(
        sandbox.url,
        firestore_emulator,
        firestore_project,
        GATEWAY_CALLERS=CALLERS,
        RATE_LIMIT_PER_MINUTE=GENEROUS_BUDGET,
    )


@pytest.fixture
def make_gateway(function_env: dict[str, str], db: Any) -> Iterator[Callable[..., Gateway]]:
    """Build and install a gateway from `function_env` plus overrides (None removes a name) and parts."""

    def make(env: Mapping[str, str | None] | None = None, **parts: Any) -> Gateway:
        merged = {**function_env, **(env or {})}
        settings = Settings.from_mapping({k: v for k, v in merged.items() if v is not None})
        parts.setdefault("db", db)
        instance = build(settings, **parts)
        install(instance)
        return instance

    try:
        yield make
    finally:
        install(None)


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway]) -> Gateway:
    """The default gateway: sandbox keys from the env, dev and read-only callers, emulator Firestore."""
    return make_gateway()


@pytest.fixture
def market_open(sandbox: Sandbox) -> Sandbox:
    """The sandbox frozen on a Tuesday at 10:00 ET."""
    sandbox.set_clock(TRADING_NOW, frozen=True)
    return sandbox
