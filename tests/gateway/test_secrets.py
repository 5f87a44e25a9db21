"""Keys and the caller registry read from Secret Manager (an in-process fake), cached, and rotated."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.clock import ManualClock
from shared.limits.protocol import Unlimited
from tests.gateway import seed_shapes as seed
from tests.gateway.conftest import call_entry
from tests.gateway.fake_secret_manager import FakeSecretManager
from tests.support.env import DEV_TOKEN, SANDBOX_KEY, SANDBOX_SECRET

KEY, SECRET = "alpaca-api-key", "alpaca-secret-key"


@pytest.fixture
def secret_manager(sandbox: Any) -> Iterator[FakeSecretManager]:
    with FakeSecretManager({KEY: sandbox.key, SECRET: sandbox.secret}) as fake:
        yield fake


def secrets_env(fake: FakeSecretManager, **more: str | None) -> dict[str, str | None]:
    """No keys in the env: they must come from Secret Manager at the fake's endpoint."""
    return {
        "ALPACA_API_KEY": None,
        "ALPACA_SECRET_KEY": None,
        "SECRET_MANAGER_ENDPOINT": fake.endpoint,
        "SECRETS_TTL_SECONDS": "60",
        **more,
    }


def test_keys_come_from_secret_manager_when_the_env_has_none(
    make_gateway: Any, secret_manager: FakeSecretManager, firestore_project: str
) -> None:
    """Without ALPACA_API_KEY the gateway reads both keys from Secret Manager and reaches the broker."""
    make_gateway(secrets_env(secret_manager))
    reply = call_entry("get_account")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.ACCOUNT)
    assert secret_manager.reads[KEY] == 1 and secret_manager.reads[SECRET] == 1
    assert secret_manager.projects == {firestore_project}
    config = call_entry("get_config")
    assert config.body["api_key_configured"] is True
    assert SANDBOX_KEY not in config.text and SANDBOX_SECRET not in config.text


def test_secrets_are_cached_for_the_ttl_and_read_again_after(
    make_gateway: Any, secret_manager: FakeSecretManager
) -> None:
    """Within SECRETS_TTL_SECONDS no further Secret Manager reads happen; after it, one more each."""
    clock = ManualClock()
    make_gateway(secrets_env(secret_manager), clock=clock, limiter=Unlimited())
    for _ in range(3):
        assert call_entry("get_clock").status == 200
    assert secret_manager.reads[KEY] == 1
    clock.advance(59)
    assert call_entry("get_clock").status == 200
    assert secret_manager.reads[KEY] == 1
    clock.advance(2)
    assert call_entry("get_clock").status == 200
    assert secret_manager.reads[KEY] == 2 and secret_manager.reads[SECRET] == 2


def test_rotated_key_is_picked_up_on_401_without_restart(
    make_gateway: Any, secret_manager: FakeSecretManager, sandbox: Any
) -> None:
    """Cached keys refused by the broker (401) are re-read from Secret Manager once and the call succeeds."""
    secret_manager.set(KEY, "retired-key")
    secret_manager.set(SECRET, "retired-secret")
    make_gateway(secrets_env(secret_manager, SECRETS_TTL_SECONDS="3600"))
    assert call_entry("get_config").status == 200  # caches the old pair for an hour
    assert secret_manager.reads[KEY] == 1

    secret_manager.set(KEY, sandbox.key)  # the rotation: new values in Secret Manager
    secret_manager.set(SECRET, sandbox.secret)
    reply = call_entry("get_account")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.ACCOUNT)
    assert secret_manager.reads[KEY] == 2
    assert call_entry("get_account").status == 200
    assert secret_manager.reads[KEY] == 2, "the rotated pair is cached again"


def test_keys_refused_after_the_reread_answer_502_without_the_key(
    make_gateway: Any, secret_manager: FakeSecretManager
) -> None:
    """If Secret Manager still holds a refused key, the caller gets a 502 broker_unauthorized, key unseen."""
    secret_manager.set(KEY, "revoked-key-abc")
    secret_manager.set(SECRET, "revoked-secret-xyz")
    make_gateway(secrets_env(secret_manager))
    reply = call_entry("get_account")
    assert reply.status == 502, reply.text
    seed.assert_error(reply.body, 502, "broker_unauthorized")
    assert "revoked" not in reply.text


def test_missing_secret_is_503_secrets_unavailable(
    make_gateway: Any, secret_manager: FakeSecretManager
) -> None:
    """A key secret that does not exist answers 503 with Retry-After, not a crash."""
    del secret_manager.values[SECRET]
    make_gateway(secrets_env(secret_manager))
    reply = call_entry("get_account")
    assert reply.status == 503, reply.text
    seed.assert_error(reply.body, 503, "secrets_unavailable")
    assert int(reply.headers["Retry-After"]) >= 1


def test_caller_registry_comes_from_the_gateway_callers_secret(
    make_gateway: Any, secret_manager: FakeSecretManager
) -> None:
    """With no dev token and no GATEWAY_CALLERS, tokens are checked against the gateway-callers secret."""
    registry = [
        {"name": "tv", "token_sha256": hashlib.sha256(b"tv-webhook-token").hexdigest(), "scopes": ["read"]}
    ]
    secret_manager.set("gateway-callers", json.dumps(registry))
    make_gateway(secrets_env(secret_manager, GATEWAY_DEV_TOKEN=None, GATEWAY_CALLERS=None))
    assert call_entry("get_clock", token="tv-webhook-token").status == 200
    assert secret_manager.reads["gateway-callers"] >= 1
    assert call_entry("get_clock", token=DEV_TOKEN).status == 401
    denied = call_entry("place_order", "POST", token="tv-webhook-token", json_body={"symbol": "AAPL"})
    assert denied.status == 403, denied.text
    seed.assert_error(denied.body, 403, "insufficient_scope")
