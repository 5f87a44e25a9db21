"""NYSE trading calendar computed by rule: holidays, early closes, sessions and their boundaries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache

from sandbox.clock import EASTERN as EASTERN

REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)
PRE_OPEN = time(4, 0)
POST_CLOSE = time(20, 0)
# Closures announced ad hoc (national days of mourning) that no rule can derive.
SPECIAL_CLOSURES = {date(2018, 12, 5), date(2025, 1, 9)}
T_PLUS_1_FROM = date(2024, 5, 28)


class Session(Enum):
    CLOSED = "closed"
    PRE = "pre"
    REGULAR = "regular"
    POST = "post"


@dataclass(frozen=True)
class TradingDay:
    day: date
    open: datetime
    close: datetime
    session_open: datetime
    session_close: datetime


def _easter(year: int) -> date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Saturday holidays move to Friday, Sunday holidays to Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def holidays(year: int) -> frozenset[date]:
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    # NYSE does not observe New Year's Day on the preceding Friday (it would fall in the old year).
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:
        days.add(_observed(new_year))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))
    days |= {d for d in SPECIAL_CLOSURES if d.year == year}
    return frozenset(days)


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def _early_close(day: date) -> bool:
    thanksgiving = _nth_weekday(day.year, 11, 3, 4)
    candidates = {date(day.year, 7, 3), thanksgiving + timedelta(days=1), date(day.year, 12, 24)}
    return day in candidates


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=EASTERN).astimezone(UTC)


@lru_cache(maxsize=65536)
def trading_day(day: date) -> TradingDay | None:
    if not is_trading_day(day):
        return None
    close = EARLY_CLOSE if _early_close(day) else REGULAR_CLOSE
    return TradingDay(day, _at(day, REGULAR_OPEN), _at(day, close), _at(day, PRE_OPEN), _at(day, POST_CLOSE))


def next_trading_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_trading_day(day):
        day += timedelta(days=1)
    return day


def previous_trading_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def settlement_date(day: date) -> date:
    settled = next_trading_day(day)
    return settled if day >= T_PLUS_1_FROM else next_trading_day(settled)


def eastern_date(moment: datetime) -> date:
    return moment.astimezone(EASTERN).date()


def session_at(moment: datetime) -> Session:
    today = trading_day(eastern_date(moment))
    if today is None or moment < today.session_open or moment >= today.session_close:
        return Session.CLOSED
    if moment < today.open:
        return Session.PRE
    if moment < today.close:
        return Session.REGULAR
    return Session.POST


def is_open(moment: datetime) -> bool:
    return session_at(moment) is Session.REGULAR


def next_open(moment: datetime) -> datetime:
    """The next regular open strictly after `moment`."""
    return _upcoming(moment, lambda day: day.open)


def next_close(moment: datetime) -> datetime:
    """The close of the current session, or of the next one when the market is not open."""
    return _upcoming(moment, lambda day: day.close)


def _upcoming(moment: datetime, edge: Callable[[TradingDay], datetime]) -> datetime:
    """`edge` of today's session if it is still ahead of `moment`, else of the next trading day."""
    day = eastern_date(moment)
    today = trading_day(day)
    if today is not None and moment < edge(today):
        return edge(today)
    found = trading_day(next_trading_day(day))
    assert found is not None
    return edge(found)


def last_close(moment: datetime) -> datetime:
    """The most recent regular close at or before `moment`."""
    day = eastern_date(moment)
    today = trading_day(day)
    if today is not None and moment >= today.close:
        return today.close
    found = trading_day(previous_trading_day(day))
    assert found is not None
    return found.close


def next_boundary(moment: datetime) -> datetime:
    """The next session change (04:00, open, close, 20:00 ET) strictly after `moment`."""
    day = eastern_date(moment)
    for offset in range(0, 12):
        found = trading_day(day + timedelta(days=offset))
        if found is None:
            continue
        for edge in (found.session_open, found.open, found.close, found.session_close):
            if edge > moment:
                return edge
    return moment + timedelta(days=7)


def day_order_expiry(submitted: datetime, extended: bool) -> datetime:
    """When a DAY order submitted at `submitted` expires: the end of its (extended) session."""
    day = eastern_date(submitted)
    for offset in range(0, 12):
        found = trading_day(day + timedelta(days=offset))
        if found is None:
            continue
        end = found.session_close if extended else found.close
        if end > submitted:
            return end
    return submitted + timedelta(days=1)
