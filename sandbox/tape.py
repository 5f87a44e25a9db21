"""The deterministic market tape: every session minute's quote, its trades and its one-minute bar,
all derived from the price walk, so market data and fills agree."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from sandbox import calendar
from sandbox.assets import Asset
from sandbox.clock import CENTRAL
from sandbox.market import minute_of, minute_start, walk_quote

MAX_TRADES = 3  # trades per minute, at most; the last one prints at the minute's walk price
SLOT_MS = 20_000  # trade j of a minute happens within [j * SLOT_MS, j * SLOT_MS + 4096) ms


@dataclass(frozen=True)
class Trade:
    at: datetime
    price: Decimal
    size: Decimal
    id: int
    taker: str  # "B" when a buyer lifted the ask, "S" when a seller hit the bid


@dataclass(frozen=True)
class Bar:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    count: int
    vwap: Decimal


def _bits(symbol: str, minute: int) -> int:
    digest = hashlib.blake2b(f"{symbol}|tape|{minute}".encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


def _size(asset: Asset, bits: int) -> Decimal:
    """Whole shares for stocks (1 to 500), up to half a coin in 1/10000 steps for crypto."""
    if asset.is_crypto:
        return Decimal(1 + bits % 5000) / 10000
    return Decimal(1 + bits % 500)


def quote_sizes(asset: Asset, minute: int) -> tuple[Decimal, Decimal]:
    bits = _bits(asset.symbol, minute) >> 96
    return _size(asset, bits), _size(asset, bits >> 16)


@lru_cache(maxsize=65536)
def trades(asset: Asset, minute: int) -> tuple[Trade, ...]:
    """The minute's trades, oldest first: at the bid or the ask, and the last at the walk price."""
    quote = walk_quote(asset, minute)
    bits = _bits(asset.symbol, minute)
    count = 1 + bits % MAX_TRADES
    result = []
    for j in range(count):
        chunk = bits >> (8 + 24 * j)
        buyer = bool(chunk & 1)
        price = quote.last if j == count - 1 else (quote.ask if buyer else quote.bid)
        at = quote.at + timedelta(milliseconds=j * SLOT_MS + (chunk >> 1) % 4096)
        result.append(
            Trade(at, price, _size(asset, chunk >> 13), minute * MAX_TRADES + j, "B" if buyer else "S")
        )
    return tuple(result)


def minute_bar(asset: Asset, minute: int, cutoff: datetime | None = None) -> Bar | None:
    """The one-minute bar of the trades printed by `cutoff`; None when there are none yet."""
    printed = trades(asset, minute)
    if cutoff is None or printed[-1].at <= cutoff:
        return _full_bar(asset, minute)
    return _bar_of(minute, [t for t in printed if t.at <= cutoff])


@lru_cache(maxsize=65536)
def _full_bar(asset: Asset, minute: int) -> Bar | None:
    return _bar_of(minute, list(trades(asset, minute)))


def _bar_of(minute: int, printed: list[Trade]) -> Bar | None:
    if not printed:
        return None
    volume = sum((t.size for t in printed), Decimal(0))
    return Bar(
        at=minute_start(minute),
        open=printed[0].price,
        high=max(t.price for t in printed),
        low=min(t.price for t in printed),
        close=printed[-1].price,
        volume=volume,
        count=len(printed),
        vwap=sum((t.price * t.size for t in printed), Decimal(0)) / volume,
    )


def _day_ranges(asset: Asset, first: int, last: int, reverse: bool) -> Iterator[range]:
    """The asset's session minutes in [first, last], one range per trading day (all time for crypto)."""
    if asset.is_crypto:
        yield range(first, last + 1)
        return
    start_day, end_day = calendar.eastern_date(minute_start(first)), calendar.eastern_date(minute_start(last))
    days = (end_day - start_day).days
    for offset in range(days, -1, -1) if reverse else range(days + 1):
        found = calendar.trading_day(start_day + timedelta(days=offset))
        if found is not None:
            lo = max(first, minute_of(found.session_open))
            hi = min(last, minute_of(found.session_close) - 1)
            if lo <= hi:
                yield range(lo, hi + 1)


def session_minutes(asset: Asset, first: int, last: int, reverse: bool = False) -> Iterator[int]:
    """Minutes with trading in [first, last]: every minute for crypto, 04:00-20:00 ET of trading days
    for stocks."""
    for span in _day_ranges(asset, first, last, reverse):
        yield from reversed(span) if reverse else span


def last_trade(asset: Asset, moment: datetime) -> Trade | None:
    """The latest trade printed at or before `moment` (up to two weeks back, across closed days)."""
    for minute in _recent_minutes(asset, moment):
        printed = [t for t in trades(asset, minute) if t.at <= moment]
        if printed:
            return printed[-1]
    return None


def last_minute_bar(asset: Asset, moment: datetime) -> Bar | None:
    """The bar of the latest minute with a trade at or before `moment`."""
    for minute in _recent_minutes(asset, moment):
        bar = minute_bar(asset, minute, moment)
        if bar is not None:
            return bar
    return None


def _recent_minutes(asset: Asset, moment: datetime) -> Iterator[int]:
    now = minute_of(moment)
    return session_minutes(asset, now - 14 * 1440, now, reverse=True)


def day_minutes(asset: Asset, day: date) -> range | None:
    """The minutes a daily bar covers: the regular session for stocks, the Central-time day for crypto."""
    if asset.is_crypto:
        midnight = datetime.combine(day, datetime.min.time(), CENTRAL)
        return range(minute_of(midnight), minute_of(midnight + timedelta(days=1)))
    found = calendar.trading_day(day)
    return range(minute_of(found.open), minute_of(found.close)) if found is not None else None
