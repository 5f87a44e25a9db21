"""Under `make run` only, a request from this machine without any credential is the local developer;
a web page reaching the port by another name (DNS rebinding) or another machine is not."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.config import Settings
from shared.errors import ConfigError
from tests.gateway.conftest import entry_client
from tests.support.env import gateway_env


@pytest.fixture
def local_mode(make_gateway: Callable[..., Any]) -> None:
    make_gateway({"GATEWAY_LOCAL_DEVELOPER": "true", "GATEWAY_DEV_TOKEN": None})


def get_account(host: str = "127.0.0.1:8001", peer: str = "127.0.0.1", **headers: str) -> tuple[int, Any]:
    response = entry_client("get_account").get(
        "/api/alpaca/account", headers={"Host": host, **headers}, environ_base={"REMOTE_ADDR": peer}
    )
    return response.status_code, json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize("host", ["127.0.0.1:8001", "localhost:8001", "localhost", "[::1]:8001", "LOCALHOST"])
def test_no_credential_from_loopback_is_served_as_the_local_developer(local_mode: None, host: str) -> None:
    status, body = get_account(host)
    assert status == 200 and "equity" in body


REBOUND = ["evil.example:8001", "127.0.0.1.evil.example", "attacker.localhost.example"]


@pytest.mark.parametrize("host", REBOUND)
def test_a_host_that_is_not_loopback_needs_a_credential(local_mode: None, host: str) -> None:
    status, body = get_account(host)
    assert (status, body["error"]) == (401, "missing_token")


def test_a_peer_on_another_machine_needs_a_credential(local_mode: None) -> None:
    status, body = get_account(peer="10.1.2.3")
    assert (status, body["error"]) == (401, "missing_token")


def test_a_wrong_credential_is_checked_not_replaced_by_the_local_developer(local_mode: None) -> None:
    status, body = get_account(Authorization="Bearer not-a-token")
    assert (status, body["error"]) == (401, "invalid_token")


def test_without_the_local_mode_a_credential_is_required(make_gateway: Callable[..., Any]) -> None:
    make_gateway({"GATEWAY_DEV_TOKEN": None})
    status, body = get_account()
    assert (status, body["error"]) == (401, "missing_token")


LOCAL = gateway_env(
    "http://127.0.0.1:8002", "127.0.0.1:8085", "p", GATEWAY_LOCAL_DEVELOPER="true", GATEWAY_DEV_TOKEN=None
)


@pytest.mark.parametrize(
    "change",
    [
        {"FIRESTORE_EMULATOR_HOST": None},
        {"ALPACA_BASE_URL": "https://paper-api.alpaca.markets"},
        {"K_SERVICE": "get-account"},
    ],
    ids=["real-firestore", "remote-upstream", "in-the-cloud"],
)
def test_the_local_mode_is_refused_outside_the_local_stack(change: dict[str, str | None]) -> None:
    env = {k: v for k, v in {**LOCAL, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match="GATEWAY_LOCAL_DEVELOPER"):
        Settings.from_mapping(env)


def test_the_dev_token_is_refused_in_the_cloud_even_beside_an_emulator() -> None:
    with pytest.raises(ConfigError, match="GATEWAY_DEV_TOKEN"):
        env = gateway_env("http://127.0.0.1:8002", "127.0.0.1:8085", "p")
        Settings.from_mapping({**env, "K_SERVICE": "x"})


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}, {"Authorization": "dev-token"}],
    ids=["basic", "empty-bearer", "no-scheme"],
)
def test_a_credential_that_is_not_a_bearer_token_is_refused_not_read_as_none(
    local_mode: None, headers: dict[str, str]
) -> None:
    status, body = get_account(**headers)
    assert (status, body["error"]) == (401, "missing_token")


def test_a_token_in_the_query_of_a_read_route_is_refused_not_ignored(local_mode: None) -> None:
    response = entry_client("get_account").get(
        "/api/alpaca/account?token=anything", headers={"Host": "127.0.0.1:8001"}
    )
    assert response.status_code == 401
