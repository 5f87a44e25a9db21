"""Prices: a deterministic bounded walk per symbol and minute, pinned overrides, bid and ask."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache

from sandbox.assets import Asset
from sandbox.decimals import round_price, tick

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# (knot spacing in minutes, amplitude as a fraction of the base price): slow trend to fast jitter.
_COMPONENTS = ((4320, 0.03), (240, 0.012), (15, 0.004), (1, 0.001))


@dataclass(frozen=True)
class Quote:
    bid: Decimal
    ask: Decimal
    last: Decimal
    at: datetime


def minute_of(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def minute_start(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


@lru_cache(maxsize=262144)
def _unit(symbol: str, scale: int, knot: int) -> float:
    """A pseudo-random value in [-1, 1], fixed for (symbol, scale, knot)."""
    digest = hashlib.blake2b(f"{symbol}|{scale}|{knot}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") % 20001 - 10000) / 10000


@lru_cache(maxsize=65536)
def walk(symbol: str, base: Decimal, minute: int) -> Decimal:
    """The walk's price for `symbol` during `minute`: base times (1 + interpolated noise), within ~5%.

    Floats keep market-data ranges cheap; IEEE arithmetic is deterministic, and prices are rounded to
    the tick afterwards, so the result is the same on every run and machine."""
    drift = 0.0
    for scale, amplitude in _COMPONENTS:
        knot, offset = divmod(minute, scale)
        left, right = _unit(symbol, scale, knot), _unit(symbol, scale, knot + 1)
        drift += amplitude * (left + (right - left) * offset / scale)
    return Decimal(repr(float(base) * (1 + drift)))


class Market:
    """Quotes for every asset at any instant; pinned prices override the walk until reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[str, Decimal] = {}

    def reset(self) -> None:
        with self._lock:
            self._pins.clear()

    def pin(self, asset: Asset, price: Decimal) -> None:
        with self._lock:
            self._pins[asset.symbol] = price

    def pinned(self, asset: Asset) -> Decimal | None:
        return self._pins.get(asset.symbol)

    def price(self, asset: Asset, moment: datetime) -> Decimal:
        pinned = self._pins.get(asset.symbol)
        if pinned is not None:
            return pinned
        return walk_price(asset, minute_of(moment))

    def walk_price(self, asset: Asset, minute: int) -> Decimal:
        return walk_price(asset, minute)

    def round(self, asset: Asset, price: Decimal) -> Decimal:
        return round_for(asset, price)

    def quote(self, asset: Asset, moment: datetime) -> Quote:
        last = self.price(asset, moment)
        bid, ask = spread(asset, last)
        at = minute_start(minute_of(moment)) if self._pins.get(asset.symbol) is None else moment
        return Quote(bid=bid, ask=ask, last=last, at=at)

    def walk_quote(self, asset: Asset, minute: int) -> Quote:
        """The walk's quote at the start of `minute`, pins ignored: what market-data history shows."""
        return walk_quote(asset, minute)


def round_for(asset: Asset, price: Decimal) -> Decimal:
    """A price on the asset's tick: its price increment for crypto, a cent (or 1/100 cent) for stocks."""
    if asset.is_crypto and asset.price_increment is not None:
        return price.quantize(asset.price_increment, rounding=ROUND_HALF_UP)
    return round_price(price)


def walk_price(asset: Asset, minute: int) -> Decimal:
    return round_for(asset, walk(asset.symbol, asset.base_price, minute))


@lru_cache(maxsize=65536)
def walk_quote(asset: Asset, minute: int) -> Quote:
    last = walk_price(asset, minute)
    bid, ask = spread(asset, last)
    return Quote(bid=bid, ask=ask, last=last, at=minute_start(minute))


def spread(asset: Asset, last: Decimal) -> tuple[Decimal, Decimal]:
    """Bid and ask around `last`: a few cents wide for typical stock prices, one tick for penny stocks,
    0.05% either side for crypto."""
    if asset.is_crypto:
        step = asset.price_increment or Decimal("0.01")
        half = max(step, (last * Decimal("0.0005")).quantize(step, rounding=ROUND_CEILING))
        return max(step, last - half), last + half
    step = tick(last)
    half = max(step, (last * Decimal("0.0001")).quantize(step, rounding=ROUND_HALF_UP))
    return max(step, last - half), last + half
