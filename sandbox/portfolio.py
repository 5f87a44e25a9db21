"""An account's cash, positions, configuration and fill activities, and the fill bookkeeping."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.assets import Asset
from sandbox.clock import rfc3339
from sandbox.decimals import CENT, dec_str

PriceOf = Callable[[Asset], Decimal]


@dataclass(frozen=True)
class AccountSpec:
    key: str
    secret: str
    cash: Decimal = Decimal(100000)
    multiplier: str = "4"
    shorting_enabled: bool = True


@dataclass
class Position:
    asset: Asset
    qty: Decimal = Decimal(0)
    avg_entry_price: Decimal = Decimal(0)


@dataclass
class Activity:
    id: str
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    at: datetime
    kind: str
    order_status: str

    def to_json(self, account_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": account_id,
            "activity_type": "FILL",
            "transaction_time": rfc3339(self.at),
            "type": self.kind,
            "price": dec_str(self.price),
            "qty": dec_str(self.qty),
            "side": self.side,
            "symbol": self.symbol,
            "leaves_qty": dec_str(self.leaves_qty),
            "order_id": self.order_id,
            "cum_qty": dec_str(self.cum_qty),
            "order_status": self.order_status,
            # Null for trade activities (per the spec); it also tells the oneOf schemas apart.
            "created_at": None,
        }


def default_configuration(multiplier: str) -> dict[str, Any]:
    return {
        "dtbp_check": "entry",
        "trade_confirm_email": "all",
        "suspend_trade": False,
        "no_shorting": False,
        "fractional_trading": True,
        "max_margin_multiplier": multiplier,
        "max_options_trading_level": 3,
        "pdt_check": "entry",
        "ptp_no_exception_entry": False,
        "disable_overnight_trading": False,
    }


@dataclass
class Account:
    spec: AccountSpec
    created_at: datetime
    cash: Decimal = Decimal(0)
    positions: dict[str, Position] = field(default_factory=dict)
    activities: list[Activity] = field(default_factory=list)
    configuration: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cash = self.spec.cash
        self.configuration = default_configuration(self.spec.multiplier)

    @property
    def id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-account:{self.spec.key}"))

    @property
    def number(self) -> str:
        return "PA" + str(uuid.uuid5(uuid.NAMESPACE_DNS, self.spec.key).int)[:10].upper()

    def position_qty(self, asset: Asset) -> Decimal:
        position = self.positions.get(asset.symbol)
        return position.qty if position else Decimal(0)

    def apply_fill(self, asset: Asset, side: str, qty: Decimal, price: Decimal) -> Decimal:
        """Moves cash and the position for one execution; returns the signed position afterwards."""
        signed = qty if side == "buy" else -qty
        position = self.positions.setdefault(asset.symbol, Position(asset))
        old = position.qty
        new = old + signed
        if old == 0 or (old > 0) == (signed > 0):
            position.avg_entry_price = (abs(old) * position.avg_entry_price + qty * price) / abs(new)
        elif new != 0 and (new > 0) != (old > 0):
            position.avg_entry_price = price  # crossed through zero: the remainder opened at this price
        position.qty = new
        self.cash -= signed * price
        if new == 0:
            del self.positions[asset.symbol]
        return new

    def market_values(self, price_of: PriceOf) -> tuple[Decimal, Decimal]:
        long_value = short_value = Decimal(0)
        for position in self.positions.values():
            value = position.qty * price_of(position.asset)
            if position.qty > 0:
                long_value += value
            else:
                short_value += value
        return long_value, short_value

    def equity(self, price_of: PriceOf) -> Decimal:
        long_value, short_value = self.market_values(price_of)
        return self.cash + long_value + short_value

    def multiplier(self, equity: Decimal) -> Decimal:
        """Margin multiplier in force: the configured cap, and 1x below $2,000 of equity."""
        if equity < 2000:
            return Decimal(1)
        configured = Decimal(str(self.configuration.get("max_margin_multiplier") or self.spec.multiplier))
        return min(Decimal(self.spec.multiplier), configured)

    def buying_power(self, price_of: PriceOf, reserved: Decimal) -> Decimal:
        """Equity times the multiplier, less the gross position value and open-order reservations."""
        long_value, short_value = self.market_values(price_of)
        equity = self.cash + long_value + short_value
        gross = long_value - short_value
        return max(Decimal(0), equity * self.multiplier(equity) - gross - reserved).quantize(CENT)

    def non_marginable_buying_power(self, reserved: Decimal) -> Decimal:
        return max(Decimal(0), self.cash - reserved).quantize(CENT)
