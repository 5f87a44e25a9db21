"""The Order record and its Alpaca JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.assets import Asset
from sandbox.clock import rfc3339
from sandbox.decimals import dec_str, opt_str

OPEN_STATUSES = frozenset(
    {"new", "accepted", "pending_new", "partially_filled", "held", "done_for_day", "pending_cancel"}
)


@dataclass
class Order:
    id: str
    seq: int
    account_key: str
    client_order_id: str
    asset: Asset
    symbol: str
    side: str
    type: str
    time_in_force: str
    order_class: str
    qty: Decimal | None
    notional: Decimal | None
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    extended_hours: bool = False
    status: str = "new"
    position_intent: str | None = None
    updated_at: datetime | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    expires_at: datetime | None = None
    parent_id: str | None = None
    leg_ids: list[str] = field(default_factory=list)
    triggered: bool = False
    liquidity_used: tuple[int, Decimal] | None = None  # (minute, qty filled in it) under a liquidity limit

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def root_id(self) -> str:
        return self.parent_id or self.id

    def remaining_qty(self, price: Decimal) -> Decimal:
        """Unfilled quantity; notional orders are converted at `price`."""
        if self.qty is not None:
            return self.qty - self.filled_qty
        assert self.notional is not None
        return (self.notional / price).quantize(Decimal("0.000000001")) if price > 0 else Decimal(0)

    def touch(self, moment: datetime) -> None:
        self.updated_at = moment

    def to_json(self, legs: list[Order] | None = None) -> dict[str, Any]:
        ts = rfc3339
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": ts(self.created_at),
            "updated_at": ts(self.updated_at or self.created_at),
            "submitted_at": ts(self.created_at),
            "filled_at": ts(self.filled_at) if self.filled_at else None,
            "expired_at": ts(self.expired_at) if self.expired_at else None,
            "expires_at": ts(self.expires_at) if self.expires_at else None,
            "canceled_at": ts(self.canceled_at) if self.canceled_at else None,
            "failed_at": ts(self.failed_at) if self.failed_at else None,
            "replaced_at": ts(self.replaced_at) if self.replaced_at else None,
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": self.asset.id,
            "symbol": self.symbol,
            "asset_class": self.asset.asset_class,
            "notional": opt_str(self.notional),
            "qty": opt_str(self.qty),
            "filled_qty": dec_str(self.filled_qty),
            "filled_avg_price": opt_str(self.filled_avg_price),
            "order_class": "" if self.order_class == "simple" else self.order_class,
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": self.position_intent,
            "time_in_force": self.time_in_force,
            "limit_price": opt_str(self.limit_price),
            "stop_price": opt_str(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": [leg.to_json() for leg in legs] if legs is not None else None,
            "trail_percent": opt_str(self.trail_percent),
            "trail_price": opt_str(self.trail_price),
            "hwm": opt_str(self.hwm),
            "subtag": None,
            "source": None,
        }
