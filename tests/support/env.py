"""The environment a gateway function sees in tests and benchmarks: the sandbox broker, the Firestore
emulator on one project, and the local dev token."""

from __future__ import annotations

from shared.config import Settings

DEV_TOKEN = "dev-token"
TRADING_NOW = "2026-11-17T15:00:00Z"  # Tuesday 10:00 ET, regular hours
SANDBOX_KEY = "sandbox-key"  # the sandbox's default account
SANDBOX_SECRET = "sandbox-secret"
# RATE_LIMIT_PER_MINUTE for suites that are not about the limit (they run on a generous sandbox too).
GENEROUS_BUDGET = "100000"


def gateway_env(sandbox_url: str, emulator: str, project: str, **overrides: str | None) -> dict[str, str]:
    """The sandbox's URL and keys, the emulator on `project`, the dev token; `overrides` add or replace
    variables, and None removes one."""
    env: dict[str, str | None] = {
        "ALPACA_BASE_URL": sandbox_url,
        "ALPACA_DATA_URL": sandbox_url,
        "ALPACA_API_KEY": SANDBOX_KEY,
        "ALPACA_SECRET_KEY": SANDBOX_SECRET,
        "FIRESTORE_EMULATOR_HOST": emulator,
        "GOOGLE_CLOUD_PROJECT": project,
        "GATEWAY_DEV_TOKEN": DEV_TOKEN,
        **overrides,
    }
    return {name: value for name, value in env.items() if value is not None}


def gateway_settings(sandbox_url: str, emulator: str, project: str, **overrides: str | None) -> Settings:
    """`gateway_env` read as the gateway reads its environment."""
    return Settings.from_mapping(gateway_env(sandbox_url, emulator, project, **overrides))
