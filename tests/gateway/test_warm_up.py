"""The warm-up a served worker runs at its start: it builds the gateway the first request then uses, and
neither its failure nor an installed gateway changes what a request gets."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from shared import app
from shared.config import Settings
from shared.gateway import Gateway
from tests.gateway.conftest import call_entry, entry_client
from tests.gateway.fake_secret_manager import FakeSecretManager
from tests.support.sandbox import Sandbox

KEY, SECRET = "alpaca-api-key", "alpaca-secret-key"  # the default secret names


@pytest.fixture
def environment(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.MonkeyPatch]:
    """The process environment set to `function_env`, with no gateway built yet."""
    for name, value in function_env.items():
        monkeypatch.setenv(name, value)
    app.install(None)
    try:
        yield monkeypatch
    finally:
        app.install(None)


def test_loading_main_starts_no_warm_up() -> None:
    """Without a fork (tests, the local server) nothing runs in the background."""
    entry_client("get_config")
    assert not [t for t in threading.enumerate() if t.name == "warm-up"]


def test_loading_main_switches_pydantic_plugin_discovery_off() -> None:
    """The first validator a cold instance builds does not read every installed package's entry points."""
    entry_client("get_config")
    assert os.environ.get("PYDANTIC_DISABLE_PLUGINS") == "__all__"


def test_warm_up_builds_the_gateway_the_first_request_uses(environment: pytest.MonkeyPatch) -> None:
    """The first request finds the warmed gateway and answers from it."""
    warmed = app.warm_up()
    reply = call_entry("get_config")
    assert reply.status == 200, reply.text
    assert warmed is not None and app.gateway() is warmed


def test_warm_up_reads_the_keys_the_first_request_then_finds_cached(
    environment: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    """Keys held in Secret Manager are read once, by the warm-up, and not again by the first request."""
    with FakeSecretManager({KEY: sandbox.key, SECRET: sandbox.secret}) as secrets:
        environment.delenv("ALPACA_API_KEY")
        environment.delenv("ALPACA_SECRET_KEY")
        environment.setenv("SECRET_MANAGER_ENDPOINT", secrets.endpoint)
        app.warm_up()
        assert (secrets.reads[KEY], secrets.reads[SECRET]) == (1, 1)
        reply = call_entry("get_account")
        assert reply.status == 200, reply.text
        assert (secrets.reads[KEY], secrets.reads[SECRET]) == (1, 1)


def test_a_failed_warm_up_leaves_the_first_request_to_build(environment: pytest.MonkeyPatch) -> None:
    """A warm-up that cannot build raises nothing and keeps nothing; the request builds as before."""
    environment.setenv("RATE_LIMIT_PER_MINUTE", "many")
    assert app.warm_up() is None
    environment.setenv("RATE_LIMIT_PER_MINUTE", "100000")
    reply = call_entry("get_config")
    assert reply.status == 200, reply.text


def test_warm_up_keeps_an_installed_gateway(gateway: Gateway) -> None:
    """A gateway put in through `install` stays the one requests get."""
    assert app.warm_up() is gateway
    assert app.gateway() is gateway


def test_wiring_builds_no_http_transport_until_a_call_goes_upstream(environment: pytest.MonkeyPatch) -> None:
    """The gateway's build leaves the connection pool unbuilt (a request that never calls Alpaca never pays
    for it); the first call upstream builds it and is answered."""
    parts = app.wire(Settings.from_env())
    transport = parts.transport
    assert transport is not None and not transport.built
    try:
        assert parts.gateway.account.config().trading_mode == "paper"
        assert not transport.built
        parts.gateway.account.account()
        assert transport.built
    finally:
        parts.gateway.close()
        transport.close()
