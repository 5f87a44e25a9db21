"""Bars of every Alpaca timeframe, from the tape: intraday bars on the minute grid, exact; daily,
weekly and monthly bars on the market's calendar (Eastern for stocks, Central for crypto), from days."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from sandbox.assets import Asset
from sandbox.clock import CENTRAL, EASTERN
from sandbox.market import minute_of, minute_start
from sandbox.tape import Bar, day_minutes, minute_bar, session_minutes

TIMEFRAME = re.compile(r"^([1-9]\d*)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
UNITS = {"T": "Min", "H": "Hour", "D": "Day", "W": "Week", "M": "Month"}
AMOUNTS: dict[str, tuple[int, ...]] = {
    "Min": tuple(range(1, 60)),
    "Hour": tuple(range(1, 24)),
    "Day": (1,),
    "Week": (1,),
    "Month": (1, 2, 3, 4, 6, 12),
}
# A day's bar comes from an even sample of this many of its minutes, so years of daily bars stay cheap:
# open and close are exact, high and low come from the sample, volume and trade count are scaled up.
DAY_SAMPLES = 80


@dataclass(frozen=True)
class Timeframe:
    amount: int
    unit: str

    @property
    def intraday(self) -> bool:
        return self.unit in ("Min", "Hour")

    @property
    def minutes(self) -> int:
        return self.amount * (60 if self.unit == "Hour" else 1)


def parse_timeframe(text: str) -> Timeframe | None:
    """`[1-59]Min|T`, `[1-23]Hour|H`, `1Day|D`, `1Week|W` or `[1,2,3,4,6,12]Month|M`; None otherwise."""
    match = TIMEFRAME.match(text)
    if match is None:
        return None
    amount, unit = int(match.group(1)), UNITS.get(match.group(2), match.group(2))
    return Timeframe(amount, unit) if amount in AMOUNTS[unit] else None


def series(
    asset: Asset, timeframe: Timeframe, start: datetime, end: datetime, cutoff: datetime, reverse: bool
) -> Iterator[Bar]:
    """Bars whose timestamp lies in [start, end], holding the trades printed by `cutoff`."""
    if timeframe.intraday:
        return _intraday(asset, timeframe.minutes, start, end, cutoff, reverse)
    return _calendar(asset, timeframe, start, end, cutoff, reverse)


def combine(at: datetime, parts: list[Bar]) -> Bar:
    volume = sum((b.volume for b in parts), Decimal(0))
    return Bar(
        at=at,
        open=parts[0].open,
        high=max(b.high for b in parts),
        low=min(b.low for b in parts),
        close=parts[-1].close,
        volume=volume,
        count=sum(b.count for b in parts),
        vwap=sum((b.vwap * b.volume for b in parts), Decimal(0)) / volume,
    )


def _intraday(
    asset: Asset, width: int, start: datetime, end: datetime, cutoff: datetime, reverse: bool
) -> Iterator[Bar]:
    first = minute_of(start) + (0 if minute_start(minute_of(start)) == start else 1)
    lo = -(-first // width) * width
    hi = min(minute_of(end) // width * width + width - 1, minute_of(cutoff))
    for key, group in itertools.groupby(session_minutes(asset, lo, hi, reverse), key=lambda m: m // width):
        parts = [bar for minute in sorted(group) if (bar := minute_bar(asset, minute, cutoff)) is not None]
        if parts:
            yield combine(minute_start(key * width), parts)


def _calendar(
    asset: Asset, timeframe: Timeframe, start: datetime, end: datetime, cutoff: datetime, reverse: bool
) -> Iterator[Bar]:
    zone = CENTRAL if asset.is_crypto else EASTERN
    first = _bucket_start(timeframe, start.astimezone(zone).date())
    after = _next_bucket(timeframe, _bucket_start(timeframe, end.astimezone(zone).date()))
    span = (after - first).days
    days = (first + timedelta(days=offset) for offset in (range(span)[::-1] if reverse else range(span)))
    for _, group in itertools.groupby(days, key=_bucket(timeframe)):
        trading = [day for day in sorted(group) if day_minutes(asset, day) is not None]
        if not trading:
            continue
        at = datetime.combine(trading[0], datetime.min.time(), zone)
        if not start <= at <= end:
            continue
        parts = [bar for day in trading if (bar := _day(asset, day, cutoff)) is not None]
        if parts:
            yield combine(at, parts)


def _day(asset: Asset, day: date, cutoff: datetime) -> Bar | None:
    span = day_minutes(asset, day)
    if span is None:
        return None
    if span.stop <= minute_of(cutoff):  # every minute of the day has printed all its trades
        return _complete_day(asset, day)
    return _sampled(asset, [m for m in span if m <= minute_of(cutoff)], cutoff)


@lru_cache(maxsize=16384)
def _complete_day(asset: Asset, day: date) -> Bar | None:
    span = day_minutes(asset, day)
    return _sampled(asset, list(span), None) if span is not None else None


def _sampled(asset: Asset, minutes: list[int], cutoff: datetime | None) -> Bar | None:
    if not minutes:
        return None
    stride = -(-len(minutes) // DAY_SAMPLES)
    sample = minutes[::stride]
    if sample[-1] != minutes[-1]:
        sample.append(minutes[-1])
    parts = [bar for minute in sample if (bar := minute_bar(asset, minute, cutoff)) is not None]
    if not parts:
        return None
    bar = combine(minute_start(minutes[0]), parts)
    factor = Decimal(len(minutes)) / len(sample)
    volume = (bar.volume * factor).quantize(Decimal("0.0001") if asset.is_crypto else Decimal(1))
    return Bar(bar.at, bar.open, bar.high, bar.low, bar.close, volume, int(bar.count * factor), bar.vwap)


def _bucket(timeframe: Timeframe) -> Callable[[date], Hashable]:
    if timeframe.unit == "Week":
        return lambda day: day.isocalendar()[:2]
    if timeframe.unit == "Month":
        return lambda day: (day.year, (day.month - 1) // timeframe.amount)
    return lambda day: day


def _bucket_start(timeframe: Timeframe, day: date) -> date:
    if timeframe.unit == "Week":
        return day - timedelta(days=day.weekday())
    if timeframe.unit == "Month":
        return date(day.year, (day.month - 1) // timeframe.amount * timeframe.amount + 1, 1)
    return day


def _next_bucket(timeframe: Timeframe, first: date) -> date:
    if timeframe.unit == "Week":
        return first + timedelta(days=7)
    if timeframe.unit == "Month":
        month = first.month - 1 + timeframe.amount
        return date(first.year + month // 12, month % 12 + 1, 1)
    return first + timedelta(days=1)
