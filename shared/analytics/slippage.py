"""Slippage against the arrival price, in basis points, signed so that positive is worse for us:
a buy filled above its arrival price, or a sell filled below it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared.analytics.stats import median, percentile
from shared.models import Amount, Model

BPS = Decimal(10000)
PLACES = Decimal("0.01")


def slippage_bps(side: str, arrival: Decimal, filled_avg: Decimal) -> Decimal:
    """(fill - arrival) / arrival in bps for a buy; the opposite sign for a sell."""
    if arrival <= 0:
        raise ValueError("the arrival price must be positive")
    moved = (filled_avg - arrival) / arrival * BPS
    return moved if side == "buy" else -moved


@dataclass(frozen=True)
class Sample:
    bps: Decimal
    notional: Decimal  # filled qty times average price: the weight


class SlippageStats(Model):
    """Over the orders with a fill and an arrival price; null when there are none."""

    count: int
    mean: Amount | None = None
    median: Amount | None = None
    p95: Amount | None = None
    notional_weighted_mean: Amount | None = None

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> SlippageStats:
        if not samples:
            return cls(count=0)
        values = [s.bps for s in samples]
        weight = sum((s.notional for s in samples), Decimal(0))
        weighted = sum((s.bps * s.notional for s in samples), Decimal(0)) / weight if weight else None

        def rounded(value: Decimal | None) -> Decimal | None:
            return None if value is None else value.quantize(PLACES)

        return cls(
            count=len(values),
            mean=rounded(sum(values, Decimal(0)) / len(values)),
            median=rounded(median(values)),
            p95=rounded(percentile(values, 95)),
            notional_weighted_mean=rounded(weighted),
        )
