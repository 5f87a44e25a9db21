"""The caller registry: rotation lists, signing-only callers, symbol allow-lists, and what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.auth.callers import CallerRegistry, Scope, parse_registry, token_hash
from shared.errors import ConfigError, Forbidden, Unauthorized

OLD, NEW = "old-token-of-the-desk", "new-token-of-the-desk"


def registry(*entries: dict[str, Any]) -> CallerRegistry:
    callers = parse_registry(json.dumps(list(entries)))
    return CallerRegistry(lambda: callers)


def test_both_tokens_of_a_rotation_list_find_the_caller() -> None:
    found = registry({"name": "desk", "scopes": ["read"], "token_sha256": [token_hash(OLD), token_hash(NEW)]})
    assert (found.by_token(OLD).name, found.by_token(NEW).name) == ("desk", "desk")


def test_a_token_dropped_from_the_list_is_refused() -> None:
    found = registry({"name": "desk", "scopes": ["read"], "token_sha256": [token_hash(NEW)]})
    with pytest.raises(Unauthorized):
        found.by_token(OLD)


def test_a_caller_with_only_a_signing_secret_has_no_token() -> None:
    found = registry({"name": "bot", "scopes": ["trade"], "signing_secret": "s" * 32})
    bot = found.by_name("bot")
    assert bot is not None and bot.token_hashes == () and bot.signing_secret == "s" * 32


def test_the_signing_secret_is_kept_out_of_the_callers_repr() -> None:
    bot = parse_registry(json.dumps([{"name": "bot", "scopes": ["trade"], "signing_secret": "x" * 40}]))[0]
    assert "x" * 40 not in repr(bot) and "x" * 40 not in str(bot)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"name": "a", "scopes": ["read"]}, "needs token_sha256 or signing_secret"),
        ({"name": "a", "scopes": ["read"], "token_sha256": ["0" * 64, "xyz"]}, "token_sha256"),
        ({"name": "a", "scopes": ["read"], "token_sha256": ["0" * 64] * 11}, "at most 10"),
        ({"name": "a", "scopes": ["read"], "signing_secret": "short"}, "signing_secret"),
        ({"name": "a", "scopes": ["trade"], "token_sha256": "0" * 64, "symbols": []}, "symbols"),
        ({"name": "a", "scopes": ["trade"], "token_sha256": "0" * 64, "symbols": ["X" * 40]}, "symbols"),
    ],
)
def test_a_malformed_entry_is_a_configuration_error_naming_the_field(
    entry: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_registry(json.dumps([entry]))
    assert "entry 1" in raised.value.message and field in raised.value.message


def test_two_entries_with_one_name_are_refused() -> None:
    twice = [{"name": "a", "scopes": ["read"], "token_sha256": "0" * 64}] * 2
    with pytest.raises(ConfigError, match="entry 2: name"):
        parse_registry(json.dumps(twice))


def test_the_configuration_error_never_holds_the_signing_secret() -> None:
    entry = {"name": "a", "scopes": ["nope"], "signing_secret": "very-secret-signing-key"}
    with pytest.raises(ConfigError) as raised:
        parse_registry(json.dumps([entry]))
    assert "very-secret-signing-key" not in raised.value.message


@pytest.mark.parametrize("symbol", ["AAPL", "aapl", "BTC/USD", "BTCUSD"])
def test_a_symbol_on_the_allow_list_may_be_traded_in_any_of_its_forms(symbol: str) -> None:
    entry = {"name": "a", "scopes": ["trade"], "token_sha256": "0" * 64, "symbols": ["AAPL", "BTC/USD"]}
    parse_registry(json.dumps([entry]))[0].require_symbol(symbol)


def test_a_symbol_off_the_allow_list_is_forbidden() -> None:
    entry = {"name": "a", "scopes": ["trade"], "token_sha256": "0" * 64, "symbols": ["AAPL"]}
    with pytest.raises(Forbidden) as raised:
        parse_registry(json.dumps([entry]))[0].require_symbol("TSLA")
    assert raised.value.reason == "symbol_not_allowed"


def test_a_caller_without_an_allow_list_may_trade_any_symbol() -> None:
    caller = parse_registry(json.dumps([{"name": "a", "scopes": ["trade"], "token_sha256": "0" * 64}]))[0]
    caller.require_symbol("TSLA")
    assert caller.require(Scope.TRADE) is caller
