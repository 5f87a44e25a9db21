"""Caller identities: the registry of token hashes and scopes, and the check of a presented token."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from shared.errors import ConfigError, Forbidden, Unauthorized

log = logging.getLogger("execution_engine")


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


class RegistryEntry(BaseModel):
    """One caller as the registry JSON gives it; types are strict, so `"10"` is not a limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    token_sha256: StrictStr = Field(pattern=r"^[0-9a-fA-F]{64}$")
    scopes: list[Scope] = Field(min_length=1)
    max_orders_per_minute: StrictInt | None = Field(default=None, ge=1, le=100_000)


def parse_registry(raw: str) -> list[Caller]:
    """`[{"name", "token_sha256", "scopes": [...], "max_orders_per_minute"?}]` or `{"callers": [...]}`.
    Raises ConfigError naming the entry and field at fault (never a value: the registry is a secret)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigError("the caller registry is not valid JSON") from exc
    entries = data.get("callers") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError("the caller registry must be a JSON list of callers")
    callers = []
    for number, entry in enumerate(entries, start=1):
        try:
            parsed = RegistryEntry.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "entry"
            raise ConfigError(f"caller registry entry {number}: {field}: {first['msg']}") from None
        callers.append(
            Caller(
                name=parsed.name,
                token_sha256=parsed.token_sha256.lower(),
                scopes=frozenset(parsed.scopes),
                max_orders_per_minute=parsed.max_orders_per_minute,
            )
        )
    return callers


class RegistryParser:
    """Parses each distinct registry text once; a malformed one is logged once and refused every time."""

    def __init__(self) -> None:
        self._raw: str | None = None
        self._result: list[Caller] | ConfigError = []
        self._lock = threading.Lock()

    def __call__(self, raw: str) -> list[Caller]:
        with self._lock:
            if raw != self._raw:
                try:
                    self._result = parse_registry(raw)
                except ConfigError as exc:
                    log.error("the caller registry is refused: %s", exc.message)
                    self._result = exc
                self._raw = raw
            result = self._result
        if isinstance(result, ConfigError):
            # The detail is in the log; callers (authenticated or not) learn only that it is broken.
            raise ConfigError("the gateway's caller registry is malformed", reason="caller_registry_invalid")
        return result


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
