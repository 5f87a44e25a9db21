"""Live risk settings (`settings/risk`): the model, a short per-instance cache, audited changes."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.audit import READ_RETRY, TIMEOUT_SECONDS, AuditLog, Event, firestore_errors
from shared.clock import Clock

EASTERN = ZoneInfo("America/New_York")
CACHE_SECONDS = 1.0
SETTINGS = "settings"
RISK_DOC = "risk"
RATE_COLLECTION = "order_rate"
RATE_WINDOW_SECONDS = 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TradingState(StrEnum):
    ACTIVE = "active"  # everything the other checks allow
    REDUCING = "reducing"  # only orders that shrink a position, plus cancels and closes
    HALTED = "halted"  # only cancels: the kill switch


class TradingWindow(BaseModel):
    """Hours in US Eastern time when new exposure may be taken; exits and cancels pass at any time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = time(9, 30)
    end: time = time(16, 0)
    days: tuple[str, ...] = WEEKDAYS[:5]

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


class RiskSettings(BaseModel):
    """The document `settings/risk`. Unset limits do not apply; an empty allowlist allows every symbol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trading_state: TradingState = TradingState.ACTIVE
    symbol_allowlist: tuple[str, ...] = ()
    symbol_denylist: tuple[str, ...] = ()
    allowed_asset_classes: tuple[str, ...] = ()
    max_order_notional: Decimal | None = Field(default=None, gt=0)
    max_position_notional: Decimal | None = Field(default=None, gt=0)
    trading_window: TradingWindow | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1)
    updated_at: str | None = None
    updated_by: str | None = None

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
        """The Firestore form: decimals as strings, times as HH:MM."""
        return self.model_dump(mode="json")


class RiskStore:
    """Reads `settings/risk` at most once per CACHE_SECONDS per instance, so a kill switch acts fast."""

    def __init__(self, audit: AuditLog, clock: Clock, cache_seconds: float = CACHE_SECONDS) -> None:
        self._audit = audit
        self._db = audit.db
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, RiskSettings] | None = None

    def _ref(self) -> Any:
        return self._db.collection(SETTINGS).document(RISK_DOC)

    def current(self) -> RiskSettings:
        now = self._clock.now()
        with self._lock:
            if self._cached and now - self._cached[0] < self._cache_seconds:
                return self._cached[1]
        with firestore_errors():
            snap = self._ref().get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        settings = RiskSettings.model_validate(snap.to_dict() or {}) if snap.exists else RiskSettings()
        with self._lock:
            self._cached = (now, settings)
        return settings

    def update(self, changes: dict[str, Any], caller: str, request_id: str | None = None) -> RiskSettings:
        """Merge `changes` (null clears a field) into the live settings; audited in the same commit."""
        before = self.fresh()
        merged = {**before.stored(), **changes}
        merged["updated_at"] = self._audit.now().isoformat()
        merged["updated_by"] = caller
        after = RiskSettings.model_validate(merged)
        batch = self._db.batch()
        batch.set(self._ref(), after.stored())
        event = self._audit.event(
            Event.RISK_UPDATED, caller, request_id, changes=sorted(changes), before=before.stored()
        )
        batch.create(self._audit.ref(), {**event, "after": after.stored()})
        with firestore_errors():
            batch.commit(retry=None, timeout=TIMEOUT_SECONDS)
        with self._lock:
            self._cached = None
        return after

    def fresh(self) -> RiskSettings:
        with self._lock:
            self._cached = None
        return self.current()


def rate_counter(db: Any, caller: str, epoch: float) -> tuple[Any, dict[str, Any]]:
    """The caller's order counter for the current minute, as a (ref, fetch-and-add write) pair."""
    window = int(epoch // RATE_WINDOW_SECONDS)
    name = hashlib.sha256(caller.encode()).hexdigest()[:16]
    ref = db.collection(RATE_COLLECTION).document(f"{name}-{window}")
    expires = datetime.fromtimestamp((window + 2) * RATE_WINDOW_SECONDS, EASTERN) + timedelta(hours=1)
    return ref, {"count": firestore.Increment(1), "expires_at": expires}
