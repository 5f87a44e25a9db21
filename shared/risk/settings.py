"""Live risk settings (`settings/risk`): the trading state, the limits and the trading window."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)

from shared.clock import EASTERN
from shared.models import Model

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A time of day in the window, 24-hour US Eastern: answered as HH:MM; HH:MM:SS is accepted too (documents
# written before times were minutes, and callers echoing them), its seconds dropped: windows are in minutes.
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
HHMM_INPUT_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
# Limits are answered and stored in plain notation ("100", "0.5"), never with an exponent ("1E+2"). Their
# bounds keep that form short: below 10^18, at most 9 decimal places.
AMOUNT_PATTERN = r"^[0-9]{1,18}(\.[0-9]{1,9})?$"
AMOUNT_BELOW = Decimal("1e18")
AMOUNT_PLACES = 9
INT64_MAX = 2**63 - 1  # Firestore stores integers as signed 64-bit


class TradingState(StrEnum):
    ACTIVE = "active"  # everything the other checks allow
    REDUCING = "reducing"  # only orders that shrink a position, plus cancels and closes
    HALTED = "halted"  # only cancels: the kill switch


def _window_time(value: Any) -> time:
    """HH:MM or HH:MM:SS (or a naive `time`) to a time of day to the minute; anything else is a 400."""
    if isinstance(value, time) and value.tzinfo is None:
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str) and re.fullmatch(HHMM_INPUT_PATTERN, value):
        return time(int(value[:2]), int(value[3:5]))
    raise ValueError("must be a 24-hour time of day in US Eastern time as HH:MM, for example 09:30")


def _hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


WindowTime = Annotated[
    time,
    PlainValidator(_window_time),
    PlainSerializer(_hhmm, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": HHMM_INPUT_PATTERN,
            "description": "24-hour US Eastern time, HH:MM (HH:MM:SS accepted; seconds are dropped)",
        },
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "string", "pattern": HHMM_PATTERN, "description": "24-hour US Eastern time, HH:MM"},
        mode="serialization",
    ),
]


def _plain(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -AMOUNT_PLACES:  # validated: only zeros lie past the 9th
        value = value.quantize(Decimal(1).scaleb(-AMOUNT_PLACES))
    return format(value, "f")


Amount = Annotated[
    Decimal,
    Field(gt=0, lt=AMOUNT_BELOW, decimal_places=AMOUNT_PLACES),
    PlainSerializer(_plain, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}, mode="serialization"),
]
Days = Annotated[
    tuple[str, ...],
    WithJsonSchema(
        {"type": "array", "items": {"type": "string", "enum": list(WEEKDAYS)}}, mode="serialization"
    ),
]
Stamp = Annotated[str | None, Field(json_schema_extra={"readOnly": True})]  # set by every change


class TradingWindow(Model):
    """Hours in US Eastern time when new exposure may be taken; exits and cancels pass at any time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The schema's default in both modes is the answered form, HH:MM (validation mode would say HH:MM:SS).
    start: WindowTime = Field(default=time(9, 30), json_schema_extra={"default": "09:30"})
    end: WindowTime = Field(default=time(16, 0), json_schema_extra={"default": "16:00"})
    days: Days = WEEKDAYS[:5]  # any spelling whose first 3 letters name a day ("Monday"), answered as "mon"

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        days = tuple(d.strip().lower()[:3] for d in value)
        if not set(days) <= set(WEEKDAYS):
            raise ValueError(f"days must be among {', '.join(WEEKDAYS)}")
        return days

    def contains(self, epoch: float) -> bool:
        local = datetime.fromtimestamp(epoch, EASTERN)
        if WEEKDAYS[local.weekday()] not in self.days:
            return False
        now = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end  # a window across midnight


class RiskSettings(Model):
    """The document `settings/risk`. Unset limits do not apply; an empty allowlist allows every symbol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trading_state: TradingState = TradingState.ACTIVE
    symbol_allowlist: tuple[str, ...] = ()
    symbol_denylist: tuple[str, ...] = ()
    allowed_asset_classes: tuple[str, ...] = ()
    max_order_notional: Amount | None = None
    max_position_notional: Amount | None = None
    trading_window: TradingWindow | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=INT64_MAX)
    updated_at: Stamp = None  # a PUT cannot set these two: every change sets them
    updated_by: Stamp = None
    # Set by the end-of-day flatten with `reducing`: the next session's open (RFC 3339), from which the
    # state reads as active again. A PUT of trading_state clears it.
    reactivate_at: Stamp = None

    def effective(self, now: float) -> RiskSettings:
        """These settings as they apply at `now`: a flatten's reducing state ends at `reactivate_at`."""
        if self.trading_state != TradingState.REDUCING or not self.reactivate_at:
            return self
        try:
            ends = datetime.fromisoformat(self.reactivate_at).timestamp()
        except ValueError:
            return self  # not a time: the state stays as it is written
        if ends > now:
            return self
        return self.model_copy(update={"trading_state": TradingState.ACTIVE, "reactivate_at": None})

    @field_validator("symbol_allowlist", "symbol_denylist")
    @classmethod
    def _symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({s.strip().upper() for s in value if s.strip()}))

    @field_validator("allowed_asset_classes")
    @classmethod
    def _classes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {"us_equity", "us_option", "crypto"}
        if not set(value) <= known:
            raise ValueError(f"asset classes must be among {', '.join(sorted(known))}")
        return value

    def stored(self) -> dict[str, Any]:
        """The Firestore form, which is also the answer: decimals as plain strings, times as HH:MM."""
        return self.model_dump(mode="json")


class RiskChange(Model):
    """PUT /risk: the fields to change (null clears one); a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trading_state: TradingState | None = None
    symbol_allowlist: tuple[str, ...] | None = None
    symbol_denylist: tuple[str, ...] | None = None
    allowed_asset_classes: tuple[str, ...] | None = None
    max_order_notional: Amount | None = None
    max_position_notional: Amount | None = None
    trading_window: TradingWindow | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=INT64_MAX)

    def changes(self) -> dict[str, Any]:
        """What the caller sent, in the stored form, explicit nulls included."""
        return self.model_dump(mode="json", exclude_unset=True)
