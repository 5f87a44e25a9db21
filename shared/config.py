"""Settings: a frozen value built once from a mapping; the only reader of the environment.

Each default lives once, on its field; `from_mapping` only says which variable feeds which field.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args
from urllib.parse import urlparse

from shared.errors import ConfigError

PAPER_HOSTS = frozenset({"paper-api.alpaca.markets"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ASSET_CLASSES = frozenset({"us_equity", "us_option", "crypto"})
MAX_SHARDS = 8  # RATE_LIMIT_SHARDS: limiter documents per key
RateLimitMode = Literal["firestore", "local"]
Reactivation = Literal["next_open", "manual"]


def _flag(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(raw: str) -> int:
    return int(raw)


def _decimal(raw: str) -> Decimal:
    value = Decimal(raw)
    if not value.is_finite():
        raise ValueError(raw)
    return value


def _seconds(raw: str) -> float:
    return float(_decimal(raw))


def _text(raw: str) -> str:
    return raw.strip()


def _url(raw: str) -> str:
    return raw.strip().rstrip("/")


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _reactivation(raw: str) -> Reactivation:
    value = raw.strip().lower()
    if value not in get_args(Reactivation):
        raise ValueError(raw)
    return value  # type: ignore[return-value]


def _mode(raw: str) -> RateLimitMode:
    mode = raw.strip().lower()
    if mode not in get_args(RateLimitMode):
        raise ValueError(raw)
    return mode  # type: ignore[return-value]


@dataclass(frozen=True)
class LimiterSettings:
    """The upstream budget per API key and how the limiter spends it (README, The rate limiter)."""

    per_minute: int = 190
    window_seconds: Decimal = Decimal("60")
    trade_wait_seconds: Decimal = Decimal("2")
    read_wait_seconds: Decimal = Decimal("0.5")
    guard_seconds: Decimal = Decimal("0.25")
    store_timeout_seconds: Decimal = Decimal("1.5")
    mode: RateLimitMode = "firestore"
    max_instances: int = 10
    shards: int = 1  # limiter documents the budget is split over, each with an equal part


@dataclass(frozen=True)
class Settings:
    """Everything a function needs to know about its deployment. Secrets are never printed."""

    alpaca_base_url: str = "https://paper-api.alpaca.markets"
    alpaca_data_url: str = "https://data.alpaca.markets"
    alpaca_api_key: str | None = field(default=None, repr=False)
    alpaca_secret_key: str | None = field(default=None, repr=False)
    alpaca_api_key_secret: str = "alpaca-api-key"
    alpaca_secret_key_secret: str = "alpaca-secret-key"
    allow_live_trading: bool = False
    google_cloud_project: str | None = None
    firestore_emulator_host: str | None = None
    secret_manager_endpoint: str | None = None
    secrets_ttl_seconds: float = 300.0
    callers_secret: str = "gateway-callers"
    callers_json: str | None = field(default=None, repr=False)
    dev_token: str | None = field(default=None, repr=False)
    local_developer: bool = False  # set by `make run` only: see check()
    behind_api_gateway: bool = False
    oidc_audience: str | None = None
    oidc_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    scheduler_service_accounts: tuple[str, ...] = ()
    cloud_service: str | None = None  # K_SERVICE: set by Cloud Functions (2nd gen) and Cloud Run
    limiter: LimiterSettings = field(default_factory=LimiterSettings)
    flatten_lead_minutes: int = 10
    flatten_asset_classes: tuple[str, ...] = ("us_equity",)
    flatten_deadline_seconds: float = 120.0
    flatten_reactivate: Reactivation = "next_open"
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 8.0
    max_body_bytes: int = 64 * 1024
    cors_origins: tuple[str, ...] = ("*",)
    notify_timeout_seconds: float = 5.0  # one notification attempt
    ca_file: str | None = None  # SSL_CERT_FILE: a CA bundle to trust instead of the directory
    ca_dir: str = "/etc/ssl/certs"  # SSL_CERT_DIR: a hashed CA directory (else certifi's bundle is used)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        top = _read(env, TOP_LEVEL)
        if "google_cloud_project" not in top and env.get("GCLOUD_PROJECT"):
            top["google_cloud_project"] = env["GCLOUD_PROJECT"]
        settings = cls(**top, limiter=LimiterSettings(**_read(env, LIMITER)))
        settings.check()
        return settings

    @classmethod
    def from_env(cls) -> Settings:
        return cls.from_mapping(os.environ)

    @property
    def trading_mode(self) -> str:
        """`paper` for Alpaca's paper host or a local sandbox, `live` for anything else."""
        host = urlparse(self.alpaca_base_url).hostname or ""
        return "paper" if host in PAPER_HOSTS or self.upstream_is_local else "live"

    @property
    def on_emulator(self) -> bool:
        return self.firestore_emulator_host is not None

    @property
    def notify_local(self) -> bool:
        """Notifications may go to http:// and loopback: only on the emulator, outside the cloud."""
        return self.on_emulator and not self.cloud_service

    @property
    def upstream_is_local(self) -> bool:
        return (urlparse(self.alpaca_base_url).hostname or "") in LOCAL_HOSTS

    def check(self) -> None:
        """Refuse configurations that must never run."""
        if self.trading_mode == "live" and not self.allow_live_trading:
            raise ConfigError("a non-paper ALPACA_BASE_URL needs ALLOW_LIVE_TRADING=true")
        if self.dev_token and (not self.on_emulator or self.cloud_service):
            raise ConfigError("GATEWAY_DEV_TOKEN is refused unless Firestore is the emulator")
        local_stack = self.on_emulator and self.upstream_is_local and not self.cloud_service
        if self.local_developer and not local_stack:
            raise ConfigError(
                "GATEWAY_LOCAL_DEVELOPER is refused unless Firestore is the emulator and the upstream "
                "is a sandbox on this machine, outside the cloud"
            )
        if self.limiter.per_minute < 1 or self.limiter.window_seconds <= 0:
            raise ConfigError("the rate limit budget and window must be positive")
        if self.limiter.max_instances < 1:
            raise ConfigError("MAX_INSTANCES must be at least 1")
        if not 1 <= self.limiter.shards <= MAX_SHARDS or self.limiter.per_minute % self.limiter.shards:
            raise ConfigError(f"RATE_LIMIT_SHARDS must be 1 to {MAX_SHARDS} and divide RATE_LIMIT_PER_MINUTE")
        if self.flatten_lead_minutes < 1 or self.flatten_deadline_seconds <= 0:
            raise ConfigError("FLATTEN_LEAD_MINUTES and FLATTEN_DEADLINE_SECONDS must be positive")
        if not set(self.flatten_asset_classes) <= ASSET_CLASSES:
            raise ConfigError(f"FLATTEN_ASSET_CLASSES must be among {', '.join(sorted(ASSET_CLASSES))}")


Variables = dict[str, tuple[str, Callable[[str], Any]]]

# Field -> (environment variable, parser). An unset or empty variable leaves the field's default.
TOP_LEVEL: Variables = {
    "alpaca_base_url": ("ALPACA_BASE_URL", _url),
    "alpaca_data_url": ("ALPACA_DATA_URL", _url),
    "alpaca_api_key": ("ALPACA_API_KEY", str),
    "alpaca_secret_key": ("ALPACA_SECRET_KEY", str),
    "alpaca_api_key_secret": ("ALPACA_API_KEY_SECRET", _text),
    "alpaca_secret_key_secret": ("ALPACA_SECRET_KEY_SECRET", _text),
    "allow_live_trading": ("ALLOW_LIVE_TRADING", _flag),
    "google_cloud_project": ("GOOGLE_CLOUD_PROJECT", _text),
    "firestore_emulator_host": ("FIRESTORE_EMULATOR_HOST", _text),
    "secret_manager_endpoint": ("SECRET_MANAGER_ENDPOINT", _text),
    "secrets_ttl_seconds": ("SECRETS_TTL_SECONDS", _seconds),
    "callers_secret": ("GATEWAY_CALLERS_SECRET", _text),
    "callers_json": ("GATEWAY_CALLERS", str),
    "dev_token": ("GATEWAY_DEV_TOKEN", str),
    "local_developer": ("GATEWAY_LOCAL_DEVELOPER", _flag),
    "behind_api_gateway": ("BEHIND_API_GATEWAY", _flag),
    "oidc_audience": ("OIDC_AUDIENCE", _text),
    "oidc_certs_url": ("OIDC_CERTS_URL", _url),
    "scheduler_service_accounts": ("SCHEDULER_SERVICE_ACCOUNTS", _names),
    "cloud_service": ("K_SERVICE", _text),
    "flatten_lead_minutes": ("FLATTEN_LEAD_MINUTES", _int),
    "flatten_asset_classes": ("FLATTEN_ASSET_CLASSES", _names),
    "flatten_deadline_seconds": ("FLATTEN_DEADLINE_SECONDS", _seconds),
    "flatten_reactivate": ("FLATTEN_REACTIVATE", _reactivation),
    "connect_timeout_seconds": ("ALPACA_CONNECT_TIMEOUT_SECONDS", _seconds),
    "read_timeout_seconds": ("ALPACA_READ_TIMEOUT_SECONDS", _seconds),
    "max_body_bytes": ("MAX_BODY_BYTES", _int),
    "cors_origins": ("CORS_ORIGINS", _names),
    "notify_timeout_seconds": ("NOTIFY_TIMEOUT_SECONDS", _seconds),
    "ca_file": ("SSL_CERT_FILE", _text),
    "ca_dir": ("SSL_CERT_DIR", _text),
}
LIMITER: Variables = {
    "per_minute": ("RATE_LIMIT_PER_MINUTE", _int),
    "window_seconds": ("RATE_LIMIT_WINDOW_SECONDS", _decimal),
    "trade_wait_seconds": ("RATE_LIMIT_TRADE_WAIT_SECONDS", _decimal),
    "read_wait_seconds": ("RATE_LIMIT_READ_WAIT_SECONDS", _decimal),
    "guard_seconds": ("RATE_LIMIT_GUARD_SECONDS", _decimal),
    "store_timeout_seconds": ("RATE_LIMIT_STORE_TIMEOUT_SECONDS", _decimal),
    "mode": ("RATE_LIMIT_MODE", _mode),
    "max_instances": ("MAX_INSTANCES", _int),
    "shards": ("RATE_LIMIT_SHARDS", _int),
}


def _read(env: Mapping[str, str], variables: Variables) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (variable, parse) in variables.items():
        raw = env.get(variable)
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)
        except (ValueError, InvalidOperation) as exc:
            raise ConfigError(f"{variable} has an invalid value") from exc
    return values
