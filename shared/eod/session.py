"""When the flatten acts: Alpaca's clock and calendar read into a decision, and the deterministic
client order ids of its liquidation orders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.clock import EASTERN, parse_time

ID_UNSAFE = re.compile(r"[^A-Za-z0-9.]")


@dataclass(frozen=True)
class Session:
    """Alpaca's clock at one moment (broker time), with the session it belongs to."""

    now: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime

    @classmethod
    def from_clock(cls, raw: dict[str, Any]) -> Session:
        return cls(
            now=parse_time(str(raw["timestamp"])),
            is_open=bool(raw["is_open"]),
            next_open=parse_time(str(raw["next_open"])),
            next_close=parse_time(str(raw["next_close"])),
        )

    @property
    def today(self) -> date:
        """The exchange's calendar date now."""
        return self.now.astimezone(EASTERN).date()

    @property
    def closing_date(self) -> date:
        """The date of the session that closes next: the open session's own date while it is open."""
        return self.next_close.astimezone(EASTERN).date()

    def acts_from(self, lead_minutes: int) -> datetime:
        return self.next_close - timedelta(minutes=lead_minutes)


@dataclass(frozen=True)
class Decision:
    """Whether the scheduled flatten acts now; when it does not, `skipped` says why."""

    skipped: str | None
    session: Session

    @property
    def acts(self) -> bool:
        return self.skipped is None


def decide(session: Session, lead_minutes: int, calendar_today: list[dict[str, Any]] | None) -> Decision:
    """Act only while the market is open and the close is at most `lead_minutes` away. A closed market
    is told apart by the calendar of today (None: not asked): a weekend, a holiday, or outside hours."""
    if not session.is_open:
        if calendar_today is not None and not any(
            d.get("date") == session.today.isoformat() for d in calendar_today
        ):
            reason = "weekend" if session.today.weekday() >= 5 else "holiday"
        else:
            reason = "market_closed"
        return Decision(reason, session)
    if session.now < session.acts_from(lead_minutes):
        return Decision("too_early", session)
    return Decision(None, session)


def liquidation_id(run_tag: str, symbol: str, attempt: int) -> str:
    """The client order id of a liquidation order: the same run, symbol and attempt give the same id, so
    Alpaca refuses a second copy and a resumed run finds the first by looking it up."""
    return f"{run_tag}-{ID_UNSAFE.sub('', symbol.upper())}-{attempt}"


def scheduled_tag(session_date: date) -> str:
    """The id prefix of the scheduled flatten's orders on one session: `eod-20261127`."""
    return f"eod-{session_date:%Y%m%d}"
