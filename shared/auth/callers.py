"""Caller identities: the registry (token hashes, signing secrets, scopes, symbols) and its checks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from shared.errors import ConfigError, Forbidden, Unauthorized
from shared.models import Model

log = logging.getLogger("execution_engine")


class Scope(StrEnum):
    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


def symbol_key(symbol: str) -> str:
    """The form an allow-list compares: `BTC/USD` and `btcusd` are the same symbol."""
    return symbol.replace("/", "").upper()


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset[Scope]
    token_hashes: tuple[str, ...] = ()
    signing_secret: str | None = field(default=None, repr=False)
    symbols: frozenset[str] | None = None  # symbol_key forms; None: every symbol
    max_orders_per_minute: int | None = None

    def __repr__(self) -> str:
        return f"Caller({self.name!r}, scopes={sorted(self.scopes)})"

    def require(self, scope: Scope) -> Caller:
        if scope not in self.scopes:
            raise Forbidden(f"this caller lacks the {scope.value} scope", reason="insufficient_scope")
        return self

    def require_symbol(self, symbol: str) -> None:
        """403 when the caller has an allow-list that does not name `symbol`."""
        if self.symbols is not None and symbol_key(symbol) not in self.symbols:
            raise Forbidden(f"this caller may not trade {symbol}", reason="symbol_not_allowed")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RegistryEntry(Model):
    """One caller as the registry JSON gives it; types are strict, so `"10"` is not a limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    scopes: list[Scope] = Field(min_length=1)
    token_sha256: StrictStr | list[StrictStr] | None = None
    signing_secret: StrictStr | None = Field(default=None, min_length=16, max_length=512)
    symbols: list[StrictStr] | None = Field(default=None, min_length=1, max_length=1000)
    max_orders_per_minute: StrictInt | None = Field(default=None, ge=1, le=100_000)

    @model_validator(mode="after")
    def _usable(self) -> RegistryEntry:
        hashes = self.hashes()
        if not hashes and self.signing_secret is None:
            raise ValueError("needs token_sha256 or signing_secret")
        if len(hashes) > 10 or any(not _is_sha256(h) for h in hashes):
            raise ValueError("token_sha256 must be a hex SHA-256 or a list of at most 10")
        if self.symbols is not None and any(not 1 <= len(s) <= 32 for s in self.symbols):
            raise ValueError("symbols must be 1 to 32 characters each")
        return self

    def hashes(self) -> tuple[str, ...]:
        given = self.token_sha256
        listed = [given] if isinstance(given, str) else list(given or [])
        return tuple(h.lower() for h in listed)


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in string.hexdigits for c in value)


def parse_registry(raw: str) -> list[Caller]:
    """A JSON list of callers (or `{"callers": [...]}`). Raises ConfigError naming the entry and field at
    fault, never a value: the registry is a secret."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigError("the caller registry is not valid JSON") from exc
    entries = data.get("callers") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError("the caller registry must be a JSON list of callers")
    callers: list[Caller] = []
    for number, entry in enumerate(entries, start=1):
        try:
            parsed = RegistryEntry.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "entry"
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"caller registry entry {number}: {where}: {message}") from None
        if any(c.name == parsed.name for c in callers):
            raise ConfigError(f"caller registry entry {number}: name: repeats an earlier entry")
        callers.append(
            Caller(
                name=parsed.name,
                scopes=frozenset(parsed.scopes),
                token_hashes=parsed.hashes(),
                signing_secret=parsed.signing_secret,
                symbols=frozenset(map(symbol_key, parsed.symbols)) if parsed.symbols else None,
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
    """Finds callers by token or by name; token hashes are compared with every entry in constant time."""

    def __init__(self, load: Callable[[], Iterable[Caller]]) -> None:
        self._load = load

    def by_token(self, token: str) -> Caller:
        presented = token_hash(token)
        found: Caller | None = None
        for caller in self._load():
            for known in caller.token_hashes:
                if hmac.compare_digest(known, presented):
                    found = caller
        if found is None:
            raise Unauthorized("the credential is not valid", reason="invalid_token")
        return found

    def known(self) -> list[Caller]:
        """Every caller, as the loader reads them now (the instance's warm-up reads them ahead)."""
        return list(self._load())

    def by_name(self, name: str) -> Caller | None:
        """The caller named `name` (a signature's keyId), if the registry has one."""
        return next((c for c in self._load() if c.name == name), None)


def dev_caller(token: str) -> Caller:
    """The local convenience token with every scope (settings refuse it outside the emulator)."""
    return Caller("dev", frozenset(Scope), token_hashes=(token_hash(token),))


LOCAL_DEVELOPER = Caller("local-developer", frozenset(Scope))
