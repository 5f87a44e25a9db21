"""Caller identities: the registry of token hashes and scopes, and the check of a presented token."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from shared.errors import ConfigError, Forbidden, Unauthorized


class Scope(StrEnum):
    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    name: str
    token_sha256: str
    scopes: frozenset[Scope]
    max_orders_per_minute: int | None = None

    def __repr__(self) -> str:
        return f"Caller({self.name!r}, scopes={sorted(self.scopes)})"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_registry(raw: str) -> list[Caller]:
    """`[{"name", "token_sha256", "scopes": [...], "max_orders_per_minute"?}]` or `{"callers": [...]}`."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigError("the caller registry is not valid JSON") from exc
    entries = data.get("callers", []) if isinstance(data, dict) else data
    callers = []
    for entry in entries:
        try:
            callers.append(
                Caller(
                    name=str(entry["name"]),
                    token_sha256=str(entry["token_sha256"]).lower(),
                    scopes=frozenset(Scope(s) for s in entry.get("scopes", [])),
                    max_orders_per_minute=entry.get("max_orders_per_minute"),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError("a caller registry entry is malformed") from exc
    return callers


class CallerRegistry:
    """Finds the caller whose token hash matches, comparing every entry in constant time."""

    def __init__(self, load: Callable[[], Iterable[Caller]]) -> None:
        self._load = load

    def authenticate(self, token: str | None, scope: Scope) -> Caller:
        if not token:
            raise Unauthorized("a bearer token is required", reason="missing_token")
        presented = token_hash(token)
        found: Caller | None = None
        for caller in self._load():
            if hmac.compare_digest(caller.token_sha256, presented):
                found = caller
        if found is None:
            raise Unauthorized("the token is not valid", reason="invalid_token")
        if scope not in found.scopes:
            raise Forbidden(f"this token lacks the {scope.value} scope", reason="insufficient_scope")
        return found


def dev_caller(token: str) -> Caller:
    """The local convenience token with every scope (settings refuse it outside the emulator)."""
    return Caller("dev", token_hash(token), frozenset(Scope))
