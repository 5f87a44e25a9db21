"""Latency phases of an order from its record's timings: received, claimed, sent, acknowledged, first
fill, last fill. The fill times are Alpaca's clock; the others the gateway's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.analytics.stats import percentile
from shared.models import Model

# phase -> (from timing, to timing); `requested_at` is when the claim was made.
PHASES: dict[str, tuple[str, str]] = {
    "received_to_claimed": ("received_at", "requested_at"),
    "claimed_to_sent": ("requested_at", "sent_at"),
    "sent_to_acknowledged": ("sent_at", "acknowledged_at"),
    "acknowledged_to_first_fill": ("acknowledged_at", "first_fill_at"),
    "first_fill_to_last_fill": ("first_fill_at", "last_fill_at"),
}


class Phase(Model):
    """Milliseconds."""

    count: int
    p50: float | None = None
    p95: float | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> Phase:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return cls(count=len(values), p50=ms(percentile(values, 50)), p95=ms(percentile(values, 95)))


def phase_ms(record: Mapping[str, Any]) -> dict[str, float]:
    """Each phase the record has both timings of, in milliseconds (a negative span is left out)."""
    found: dict[str, float] = {}
    for name, (start, end) in PHASES.items():
        a, b = record.get(start), record.get(end)
        if isinstance(a, datetime) and isinstance(b, datetime):
            span = (b - a).total_seconds() * 1000
            if span >= 0:
                found[name] = span
    return found
