"""Settings: a frozen value built once from a mapping; the only reader of the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlparse

from shared.errors import ConfigError

PAPER_HOSTS = frozenset({"paper-api.alpaca.markets"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer") from exc


def _decimal(env: Mapping[str, str], name: str, default: str) -> Decimal:
    raw = env.get(name) or default
    try:
        return Decimal(raw)
    except ArithmeticError as exc:
        raise ConfigError(f"{name} must be a number") from exc


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
    rate_limit_per_minute: int = 190
    rate_limit_window_seconds: Decimal = Decimal("60")
    rate_limit_trade_wait_seconds: Decimal = Decimal("2")
    rate_limit_read_wait_seconds: Decimal = Decimal("0.5")
    rate_limit_guard_seconds: Decimal = Decimal("0.25")
    rate_limit_store_timeout_seconds: Decimal = Decimal("1.5")
    rate_limit_mode: str = "firestore"
    max_instances: int = 10
    flatten_lead_minutes: int = 10
    flatten_asset_classes: tuple[str, ...] = ("us_equity",)
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 8.0
    max_body_bytes: int = 64 * 1024
    cors_origins: tuple[str, ...] = ("*",)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        def text(name: str, default: str) -> str:
            return env.get(name) or default

        settings = cls(
            alpaca_base_url=text("ALPACA_BASE_URL", cls.alpaca_base_url).rstrip("/"),
            alpaca_data_url=text("ALPACA_DATA_URL", cls.alpaca_data_url).rstrip("/"),
            alpaca_api_key=env.get("ALPACA_API_KEY") or None,
            alpaca_secret_key=env.get("ALPACA_SECRET_KEY") or None,
            alpaca_api_key_secret=text("ALPACA_API_KEY_SECRET", cls.alpaca_api_key_secret),
            alpaca_secret_key_secret=text("ALPACA_SECRET_KEY_SECRET", cls.alpaca_secret_key_secret),
            allow_live_trading=_flag(env.get("ALLOW_LIVE_TRADING")),
            google_cloud_project=env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT") or None,
            firestore_emulator_host=env.get("FIRESTORE_EMULATOR_HOST") or None,
            secret_manager_endpoint=env.get("SECRET_MANAGER_ENDPOINT") or None,
            secrets_ttl_seconds=float(_int(env, "SECRETS_TTL_SECONDS", 300)),
            callers_secret=text("GATEWAY_CALLERS_SECRET", cls.callers_secret),
            callers_json=env.get("GATEWAY_CALLERS") or None,
            dev_token=env.get("GATEWAY_DEV_TOKEN") or None,
            rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
            rate_limit_window_seconds=_decimal(env, "RATE_LIMIT_WINDOW_SECONDS", "60"),
            rate_limit_trade_wait_seconds=_decimal(env, "RATE_LIMIT_TRADE_WAIT_SECONDS", "2"),
            rate_limit_read_wait_seconds=_decimal(env, "RATE_LIMIT_READ_WAIT_SECONDS", "0.5"),
            rate_limit_guard_seconds=_decimal(env, "RATE_LIMIT_GUARD_SECONDS", "0.25"),
            rate_limit_store_timeout_seconds=_decimal(env, "RATE_LIMIT_STORE_TIMEOUT_SECONDS", "1.5"),
            rate_limit_mode=text("RATE_LIMIT_MODE", cls.rate_limit_mode).strip().lower(),
            max_instances=_int(env, "MAX_INSTANCES", cls.max_instances),
            flatten_lead_minutes=_int(env, "FLATTEN_LEAD_MINUTES", cls.flatten_lead_minutes),
            flatten_asset_classes=tuple(
                c.strip() for c in text("FLATTEN_ASSET_CLASSES", "us_equity").split(",") if c.strip()
            ),
            connect_timeout_seconds=float(_decimal(env, "ALPACA_CONNECT_TIMEOUT_SECONDS", "3")),
            read_timeout_seconds=float(_decimal(env, "ALPACA_READ_TIMEOUT_SECONDS", "8")),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", cls.max_body_bytes),
            cors_origins=tuple(o.strip() for o in text("CORS_ORIGINS", "*").split(",") if o.strip()),
        )
        settings.check()
        return settings

    @classmethod
    def from_env(cls) -> Settings:
        return cls.from_mapping(os.environ)

    @property
    def trading_mode(self) -> str:
        """`paper` for Alpaca's paper host or a local sandbox, `live` for anything else."""
        host = urlparse(self.alpaca_base_url).hostname or ""
        return "paper" if host in PAPER_HOSTS or host in LOCAL_HOSTS else "live"

    @property
    def on_emulator(self) -> bool:
        return self.firestore_emulator_host is not None

    def check(self) -> None:
        """Refuse configurations that must never run."""
        if self.trading_mode == "live" and not self.allow_live_trading:
            raise ConfigError("a non-paper ALPACA_BASE_URL needs ALLOW_LIVE_TRADING=true")
        if self.dev_token and not self.on_emulator:
            raise ConfigError("GATEWAY_DEV_TOKEN is refused unless Firestore is the emulator")
        if self.rate_limit_per_minute < 1 or self.rate_limit_window_seconds <= 0:
            raise ConfigError("the rate limit budget and window must be positive")
        if self.rate_limit_mode not in {"firestore", "local"}:
            raise ConfigError("RATE_LIMIT_MODE must be firestore or local")
        if self.max_instances < 1:
            raise ConfigError("MAX_INSTANCES must be at least 1")
