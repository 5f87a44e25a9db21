"""Parsing the live risk settings (shared/risk/settings.py): what `settings/risk` and PUT /risk accept,
the form they are stored and answered in, and the trading window's hours."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shared.risk.settings import INT64_MAX, RiskChange, RiskSettings, TradingState, TradingWindow


def epoch(eastern_iso: str) -> float:
    """An instant given in US Eastern time (these dates are in EST, UTC-5)."""
    return datetime.fromisoformat(eastern_iso + "-05:00").timestamp()


def refused(model: type[RiskSettings | RiskChange | TradingWindow], **fields: Any) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(fields)


def test_empty_document_means_active_trading_without_limits() -> None:
    """No document: active, empty lists, every limit unset."""
    settings = RiskSettings()
    assert settings.trading_state is TradingState.ACTIVE
    assert settings.symbol_allowlist == settings.symbol_denylist == settings.allowed_asset_classes == ()
    assert settings.max_order_notional is None and settings.max_position_notional is None
    assert settings.trading_window is None and settings.max_orders_per_minute is None


def test_symbol_lists_are_upper_cased_deduplicated_and_sorted() -> None:
    """Blanks are dropped and spellings merged, so membership is a plain comparison."""
    settings = RiskSettings.model_validate(
        {"symbol_allowlist": [" spy", "AAPL", "aapl", " "], "symbol_denylist": ["gme"]}
    )
    assert (settings.symbol_allowlist, settings.symbol_denylist) == (("AAPL", "SPY"), ("GME",))


def test_unknown_asset_class_is_refused() -> None:
    """Only us_equity, us_option and crypto are asset classes."""
    assert RiskSettings.model_validate({"allowed_asset_classes": ["crypto"]}).allowed_asset_classes == (
        "crypto",
    )
    refused(RiskSettings, allowed_asset_classes=["futures"])


def test_unknown_field_or_trading_state_is_refused() -> None:
    """The document and a change are strict: no other keys, no other states."""
    refused(RiskSettings, max_notional="5")
    refused(RiskSettings, trading_state="paused")
    refused(RiskChange, updated_by="me")


@pytest.mark.parametrize("amount", ["0", "-1", "1e18", "0.0000000001", "NaN"])
def test_limit_outside_its_bounds_is_refused(amount: str) -> None:
    """A limit is above 0, below 10^18, with at most 9 decimal places."""
    refused(RiskSettings, max_order_notional=amount)


def test_limits_are_stored_as_plain_decimal_strings() -> None:
    """`1E+2` and `5000.50` are stored and answered as "100" and "5000.50", never with an exponent."""
    settings = RiskSettings.model_validate({"max_order_notional": "1E+2", "max_position_notional": "5000.50"})
    stored = settings.stored()
    assert (stored["max_order_notional"], stored["max_position_notional"]) == ("100", "5000.50")
    assert settings.max_order_notional == Decimal(100)


@pytest.mark.parametrize("count", [0, INT64_MAX + 1])
def test_order_rate_outside_one_to_int64_is_refused(count: int) -> None:
    """max_orders_per_minute is at least 1 and fits Firestore's 64-bit integers."""
    refused(RiskSettings, max_orders_per_minute=count)


def test_window_times_keep_minutes_and_drop_seconds() -> None:
    """HH:MM:SS is accepted with its seconds dropped; the window is stored as HH:MM."""
    window = TradingWindow.model_validate({"start": "09:35:59", "end": "15:45"})
    assert (window.start, window.end) == (time(9, 35), time(15, 45))
    assert RiskSettings(trading_window=window).stored()["trading_window"]["start"] == "09:35"


@pytest.mark.parametrize("value", ["9:30", "24:00", "09:60", "0930", "09:30 ", 930])
def test_malformed_window_time_is_refused(value: Any) -> None:
    """Times are 24-hour HH:MM (or HH:MM:SS) strings."""
    refused(TradingWindow, start=value)


def test_window_days_take_any_spelling_of_a_weekday() -> None:
    """ "Monday", " TUE" and "wed" are the days mon, tue, wed; an unknown day is refused."""
    assert TradingWindow.model_validate({"days": ["Monday", " TUE", "wed"]}).days == ("mon", "tue", "wed")
    refused(TradingWindow, days=["funday"])


def test_default_window_is_the_regular_session_on_weekdays() -> None:
    """09:30 to 16:00 Eastern, Monday to Friday; the end is not inside."""
    window = TradingWindow()
    assert window.contains(epoch("2026-11-17T09:30:00"))
    assert window.contains(epoch("2026-11-17T15:59:59"))
    assert not window.contains(epoch("2026-11-17T16:00:00"))
    assert not window.contains(epoch("2026-11-17T09:29:59"))
    assert not window.contains(epoch("2026-11-21T12:00:00")), "a Saturday"


def test_window_across_midnight_contains_both_ends_of_the_night() -> None:
    """20:00 to 04:00 holds late evening and early morning, not the afternoon."""
    window = TradingWindow.model_validate({"start": "20:00", "end": "04:00", "days": ["tue", "wed"]})
    assert window.contains(epoch("2026-11-17T23:00:00"))
    assert window.contains(epoch("2026-11-18T03:59:00"))
    assert not window.contains(epoch("2026-11-17T12:00:00"))


def test_change_names_only_the_fields_sent_with_explicit_nulls() -> None:
    """A PUT body's changes are what it sent, in stored form: a null clears, a left-out field stays."""
    change = RiskChange.model_validate({"trading_state": "halted", "max_order_notional": None})
    assert change.changes() == {"trading_state": "halted", "max_order_notional": None}
    assert RiskChange.model_validate({}).changes() == {}
