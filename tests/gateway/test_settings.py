"""Settings from the environment: every field has one variable and one default, bad values are clear."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from shared.config import LIMITER, TOP_LEVEL, LimiterSettings, Settings
from shared.errors import ConfigError


def test_every_setting_is_fed_by_exactly_one_variable() -> None:
    """No field without its variable, no variable without its field."""
    assert {f.name for f in dataclasses.fields(Settings)} - {"limiter"} == set(TOP_LEVEL)
    assert {f.name for f in dataclasses.fields(LimiterSettings)} == set(LIMITER)


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    """The README's defaults: 190 per 60 s, the shared Firestore limiter, paper trading."""
    settings = Settings.from_mapping({})
    limiter = settings.limiter
    assert (limiter.per_minute, limiter.window_seconds, limiter.mode) == (190, Decimal("60"), "firestore")
    assert settings.trading_mode == "paper"


def test_limiter_variables_fill_the_limiter_group() -> None:
    """RATE_LIMIT_* and MAX_INSTANCES land in `settings.limiter`."""
    env = {"RATE_LIMIT_PER_MINUTE": "20", "RATE_LIMIT_WINDOW_SECONDS": "6", "RATE_LIMIT_MODE": "LOCAL"}
    limiter = Settings.from_mapping({**env, "MAX_INSTANCES": "4"}).limiter
    assert (limiter.per_minute, limiter.window_seconds, limiter.mode, limiter.max_instances) == (
        20,
        Decimal("6"),
        "local",
        4,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RATE_LIMIT_MODE", "redis"), ("MAX_BODY_BYTES", "lots"), ("RATE_LIMIT_WINDOW_SECONDS", "NaN")],
)
def test_a_malformed_value_is_a_configuration_error_naming_its_variable(variable: str, value: str) -> None:
    """The error says which variable is wrong, never its value."""
    with pytest.raises(ConfigError, match=variable) as caught:
        Settings.from_mapping({variable: value})
    assert value not in caught.value.message


@pytest.mark.parametrize("shards", ["0", "3", "9"])
def test_a_shard_count_that_does_not_split_the_budget_evenly_is_refused(shards: str) -> None:
    """1 to 8 shards, each with an equal whole part of the budget (190 splits into 1, 2 or 5)."""
    with pytest.raises(ConfigError, match="RATE_LIMIT_SHARDS"):
        Settings.from_mapping({"RATE_LIMIT_SHARDS": shards})


def test_the_limiter_splits_its_budget_over_its_shards() -> None:
    from shared.clock import SystemClock
    from shared.limits.slots import limiter_from_settings

    settings = Settings.from_mapping({"RATE_LIMIT_SHARDS": "2"})
    limiter = limiter_from_settings(settings, db=None, clock=SystemClock())
    assert (limiter.schedule.budget, limiter.shards) == (95, 2)  # type: ignore[attr-defined]
