"""The flatten's pure decisions: when it acts (Alpaca's clock and calendar against the lead time), the
ids of its liquidation orders, the order that closes a position, and the end of its reducing state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from shared.clock import EASTERN
from shared.config import Settings
from shared.eod.liquidation import compact_symbol, liquidation_order
from shared.eod.session import Session, decide, liquidation_id, scheduled_tag
from shared.errors import ConfigError
from shared.risk.settings import RiskSettings, TradingState


def clock(now: str, *, is_open: bool, next_close: str, next_open: str) -> Session:
    return Session.from_clock(
        {"timestamp": now, "is_open": is_open, "next_open": next_open, "next_close": next_close}
    )


REGULAR = {"next_close": "2026-11-17T16:00:00-05:00", "next_open": "2026-11-18T09:30:00-05:00"}
EARLY = {"next_close": "2026-11-27T13:00:00-05:00", "next_open": "2026-11-30T09:30:00-05:00"}


@pytest.mark.parametrize(
    ("now", "times", "skipped"),
    [
        ("2026-11-17T15:45:00-05:00", REGULAR, "too_early"),
        ("2026-11-17T15:49:59-05:00", REGULAR, "too_early"),
        ("2026-11-17T15:50:00-05:00", REGULAR, None),
        ("2026-11-17T15:59:30-05:00", REGULAR, None),
        ("2026-11-27T12:45:00-05:00", EARLY, "too_early"),
        ("2026-11-27T12:50:00-05:00", EARLY, None),
        ("2026-11-27T12:52:00-05:00", EARLY, None),
    ],
)
def test_open_market_acts_only_inside_the_lead_time(
    now: str, times: dict[str, str], skipped: str | None
) -> None:
    """With a 10-minute lead a 16:00 close acts from 15:50 and a 13:00 close from 12:50."""
    assert decide(clock(now, is_open=True, **times), 10, None).skipped == skipped


def test_closed_market_is_told_apart_by_the_calendar() -> None:
    """No calendar day today: a weekend or a holiday; a calendar day while closed: outside the session."""
    thanksgiving = clock("2026-11-26T15:52:00-05:00", is_open=False, **EARLY)
    saturday = clock("2026-11-28T15:52:00-05:00", is_open=False, **EARLY)
    evening = clock("2026-11-17T18:00:00-05:00", is_open=False, **REGULAR)
    day: list[dict[str, Any]] = [{"date": "2026-11-17", "open": "09:30", "close": "16:00"}]
    assert decide(thanksgiving, 10, []).skipped == "holiday"
    assert decide(saturday, 10, []).skipped == "weekend"
    assert decide(evening, 10, day).skipped == "market_closed"
    assert decide(evening, 10, None).skipped == "market_closed"


def test_session_date_is_the_date_of_the_close() -> None:
    session = clock("2026-11-27T12:52:00-05:00", is_open=True, **EARLY)
    assert session.closing_date.isoformat() == "2026-11-27"
    assert scheduled_tag(session.closing_date) == "eod-20261127"


def test_liquidation_ids_are_deterministic_and_valid_client_order_ids() -> None:
    """The same session, symbol and attempt give the same id; a pair's slash is dropped."""
    assert liquidation_id("eod-20261127", "AAPL", 1) == liquidation_id("eod-20261127", "aapl", 1)
    assert liquidation_id("eod-20261127", "BRK.B", 2) == "eod-20261127-BRK.B-2"
    assert liquidation_id("eod-20261127", "BTC/USD", 1) == "eod-20261127-BTCUSD-1"
    assert liquidation_id("eod-20261127", "AAPL", 1) != liquidation_id("eod-20261130", "AAPL", 1)


@pytest.mark.parametrize(
    ("position", "side", "qty", "tif"),
    [
        ({"symbol": "AAPL", "qty": "10", "side": "long", "asset_class": "us_equity"}, "sell", "10", "day"),
        ({"symbol": "F", "qty": "-30", "side": "short", "asset_class": "us_equity"}, "buy", "30", "day"),
        (
            {"symbol": "AAPL", "qty": "0.500", "side": "long", "asset_class": "us_equity"},
            "sell",
            "0.5",
            "day",
        ),
        ({"symbol": "BTCUSD", "qty": "0.01", "side": "long", "asset_class": "crypto"}, "sell", "0.01", "gtc"),
    ],
)
def test_liquidation_order_takes_the_position_to_zero(
    position: dict[str, Any], side: str, qty: str, tif: str
) -> None:
    order = liquidation_order(position, "eod-x-1")
    assert (order["side"], order["qty"], order["time_in_force"], order["type"]) == (side, qty, tif, "market")
    assert order["client_order_id"] == "eod-x-1"


def test_position_and_order_symbols_compare_in_one_spelling() -> None:
    assert compact_symbol("BTC/USD") == compact_symbol("BTCUSD") == "BTCUSD"


def test_reducing_state_of_a_flatten_reads_as_active_from_the_next_open() -> None:
    """`reactivate_at` ends the reducing state; without it (set by hand) reducing stays."""
    opens = datetime(2026, 11, 30, 9, 30, tzinfo=EASTERN)
    flattened = RiskSettings(trading_state=TradingState.REDUCING, reactivate_at=opens.isoformat())
    assert flattened.effective(opens.timestamp() - 1).trading_state == TradingState.REDUCING
    assert flattened.effective(opens.timestamp()).trading_state == TradingState.ACTIVE
    by_hand = RiskSettings(trading_state=TradingState.REDUCING)
    assert by_hand.effective(opens.timestamp() + 86400).trading_state == TradingState.REDUCING


@pytest.mark.parametrize(
    "env",
    [
        {"FLATTEN_REACTIVATE": "tomorrow"},
        {"FLATTEN_ASSET_CLASSES": "us_equity,stocks"},
        {"FLATTEN_DEADLINE_SECONDS": "0"},
        {"FLATTEN_LEAD_MINUTES": "0"},
    ],
)
def test_flatten_settings_refuse_values_that_cannot_work(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_mapping(env)


def test_flatten_settings_defaults() -> None:
    settings = Settings.from_mapping({})
    assert (settings.flatten_deadline_seconds, settings.flatten_reactivate) == (120.0, "next_open")
    assert Settings.from_mapping({"FLATTEN_REACTIVATE": "Manual"}).flatten_reactivate == "manual"
