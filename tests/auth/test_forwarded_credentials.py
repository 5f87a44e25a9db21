"""Behind API Gateway the caller's token arrives as X-Forwarded-Authorization and `Authorization` is the
gateway's own; both headers are checked the same way, the forwarded one first."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.gateway.conftest import call_entry
from tests.support.sandbox import Sandbox

READER = "reader-token-behind-the-gateway"
TRADER = "trader-token-behind-the-gateway"
PLATFORM = "Bearer eyJhbGciOiJSUzI1NiJ9.the-gateways-own-id-token.sig"
CALLERS = json.dumps(
    [
        {"name": "reader", "scopes": ["read"], "token_sha256": hashlib.sha256(READER.encode()).hexdigest()},
        {"name": "tv", "scopes": ["trade"], "token_sha256": hashlib.sha256(TRADER.encode()).hexdigest()},
    ]
)
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.fixture
def direct(make_gateway: Callable[..., Any], market_open: Sandbox) -> None:
    make_gateway({"GATEWAY_CALLERS": CALLERS, "GATEWAY_DEV_TOKEN": None})


@pytest.fixture
def behind_gateway(make_gateway: Callable[..., Any], market_open: Sandbox) -> None:
    make_gateway({"GATEWAY_CALLERS": CALLERS, "GATEWAY_DEV_TOKEN": None, "BEHIND_API_GATEWAY": "true"})


def test_the_forwarded_token_is_used_when_both_headers_are_sent(direct: None) -> None:
    headers = {"X-Forwarded-Authorization": f"Bearer {READER}", "Authorization": PLATFORM}
    assert call_entry("get_account", token=None, headers=headers).status == 200


def test_a_wrong_forwarded_token_is_refused_even_beside_a_valid_authorization(direct: None) -> None:
    headers = {"X-Forwarded-Authorization": "Bearer wrong", "Authorization": f"Bearer {READER}"}
    reply = call_entry("get_account", token=None, headers=headers)
    assert (reply.status, reply.body["error"]) == (401, "invalid_token")


def test_an_authorization_token_is_served_when_nothing_is_forwarded(direct: None) -> None:
    assert call_entry("get_account", token=READER).status == 200


def test_behind_api_gateway_the_authorization_header_is_never_a_callers_token(behind_gateway: None) -> None:
    reply = call_entry("get_account", token=READER)
    assert (reply.status, reply.body["error"]) == (401, "missing_token")


def test_behind_api_gateway_a_webhook_body_token_is_served(behind_gateway: None) -> None:
    """TradingView through API Gateway: `Authorization` holds the gateway's token, the body the caller's."""
    body = {**ORDER, "token": TRADER}
    reply = call_entry("place_order", "POST", token=None, json_body=body, headers={"Authorization": PLATFORM})
    assert reply.status == 200, reply.body


def test_behind_api_gateway_the_forwarded_token_is_served(behind_gateway: None) -> None:
    headers = {"X-Forwarded-Authorization": f"Bearer {READER}", "Authorization": PLATFORM}
    assert call_entry("get_account", token=None, headers=headers).status == 200
