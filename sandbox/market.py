"""Prices: a deterministic bounded walk per symbol and minute, pinned overrides, quotes and bars."""

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
_COMPONENTS = (
    (4320, Decimal("0.03")),
    (240, Decimal("0.012")),
    (15, Decimal("0.004")),
    (1, Decimal("0.001")),
)


@dataclass(frozen=True)
class Quote:
    bid: Decimal
    ask: Decimal
    last: Decimal
    at: datetime

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


def minute_of(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def minute_start(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def _unit(symbol: str, scale: int, knot: int) -> Decimal:
    """A pseudo-random value in [-1, 1], fixed for (symbol, scale, knot)."""
    digest = hashlib.blake2b(f"{symbol}|{scale}|{knot}".encode(), digest_size=8).digest()
    return Decimal(int.from_bytes(digest, "big") % 20001 - 10000) / 10000


@lru_cache(maxsize=65536)
def walk(symbol: str, base: Decimal, minute: int) -> Decimal:
    """The walk's price for `symbol` during `minute`: base times (1 + interpolated noise), within ~5%."""
    drift = Decimal(0)
    for scale, amplitude in _COMPONENTS:
        knot, offset = divmod(minute, scale)
        left, right = _unit(symbol, scale, knot), _unit(symbol, scale, knot + 1)
        drift += amplitude * (left + (right - left) * offset / scale)
    return base * (1 + drift)


def volume_of(symbol: str, minute: int) -> int:
    return 100 + int((_unit(symbol, 7, minute) + 1) * 5000)


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
        return self.round(asset, walk(asset.symbol, asset.base_price, minute_of(moment)))

    def walk_price(self, asset: Asset, minute: int) -> Decimal:
        return self.round(asset, walk(asset.symbol, asset.base_price, minute))

    def round(self, asset: Asset, price: Decimal) -> Decimal:
        if asset.is_crypto and asset.price_increment is not None:
            return price.quantize(asset.price_increment, rounding=ROUND_HALF_UP)
        return round_price(price)

    def quote(self, asset: Asset, moment: datetime) -> Quote:
        last = self.price(asset, moment)
        if asset.is_crypto:
            step = asset.price_increment or Decimal("0.01")
            half = max(step, (last * Decimal("0.0005")).quantize(step, rounding=ROUND_CEILING))
            bid = max(step, last - half)
        else:
            # A few cents wide for typical prices, one tick for penny stocks.
            step = tick(last)
            half = max(step, (last * Decimal("0.0001")).quantize(step, rounding=ROUND_HALF_UP))
            bid = max(tick(last), last - half)
        at = minute_start(minute_of(moment)) if self._pins.get(asset.symbol) is None else moment
        return Quote(bid=bid, ask=last + half, last=last, at=at)
