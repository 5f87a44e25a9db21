"""Response models of the public API: the seed's field names and JSON types, decimals as strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _dec(value: Any, default: str | None = None) -> str | None:
    """Alpaca decimals stay strings; numbers are turned into exact decimal strings."""
    if value is None or value == "":
        return default
    return str(Decimal(str(value)))


def _amount(value: Any, default: str = "0") -> str:
    """A decimal that is always present: `default` when Alpaca leaves it out."""
    return _dec(value, default) or default


class ErrorBody(ApiModel):
    error: str
    message: str
    code: int
    request_id: str | None = None
    retry_after: float | None = None
    upstream_code: int | None = None


class Account(ApiModel):
    account_id: str
    account_number: str | None = None
    status: str
    currency: str = "USD"
    buying_power: str
    regt_buying_power: str
    daytrading_buying_power: str
    cash: str
    portfolio_value: str
    pattern_day_trader: bool = False
    trading_blocked: bool = False
    transfers_blocked: bool = False
    account_blocked: bool = False
    created_at: str | None = None
    trade_suspended_by_user: bool = False
    multiplier: str
    shorting_enabled: bool = False
    equity: str
    last_equity: str
    long_market_value: str
    short_market_value: str
    initial_margin: str
    maintenance_margin: str
    last_maintenance_margin: str
    sma: str
    daytrade_count: int = 0

    @classmethod
    def from_alpaca(cls, raw: dict[str, Any]) -> Account:
        """Alpaca's account, with the fields it has since deprecated defaulted when it leaves them out."""
        equity = _amount(raw.get("equity"))
        money: dict[str, Any] = {name: _amount(raw.get(name)) for name in _ACCOUNT_MONEY}
        flags: dict[str, Any] = {name: bool(raw.get(name) or False) for name in _ACCOUNT_FLAGS}
        return cls(
            **money,
            **flags,
            account_id=str(raw["id"]),
            account_number=raw.get("account_number"),
            status=str(raw.get("status") or "ACTIVE"),
            currency=str(raw.get("currency") or "USD"),
            portfolio_value=_amount(raw.get("portfolio_value"), equity),
            created_at=raw.get("created_at"),
            multiplier=str(raw.get("multiplier") or "1"),
            equity=equity,
            last_equity=_amount(raw.get("last_equity"), equity),
            daytrade_count=int(raw.get("daytrade_count") or 0),
        )


_ACCOUNT_MONEY = (
    "buying_power",
    "regt_buying_power",
    "daytrading_buying_power",
    "cash",
    "long_market_value",
    "short_market_value",
    "initial_margin",
    "maintenance_margin",
    "last_maintenance_margin",
    "sma",
)
_ACCOUNT_FLAGS = (
    "pattern_day_trader",
    "trading_blocked",
    "transfers_blocked",
    "account_blocked",
    "trade_suspended_by_user",
    "shorting_enabled",
)


class Position(ApiModel):
    asset_id: str
    symbol: str
    exchange: str
    asset_class: str
    qty: str
    qty_available: str | None = None
    avg_entry_price: str | None = None
    side: str
    market_value: str
    cost_basis: str
    unrealized_pl: str
    unrealized_plpc: str
    unrealized_intraday_pl: str
    unrealized_intraday_plpc: str
    current_price: str
    lastday_price: str
    change_today: str

    @classmethod
    def from_alpaca(cls, raw: dict[str, Any]) -> Position:
        fields = {
            name: _amount(raw.get(name))
            for name in (
                "qty",
                "market_value",
                "cost_basis",
                "unrealized_pl",
                "unrealized_plpc",
                "unrealized_intraday_pl",
                "unrealized_intraday_plpc",
                "current_price",
                "lastday_price",
                "change_today",
            )
        }
        return cls(
            asset_id=str(raw.get("asset_id") or ""),
            symbol=str(raw["symbol"]),
            exchange=str(raw.get("exchange") or ""),
            asset_class=str(raw.get("asset_class") or "us_equity"),
            qty_available=_dec(raw.get("qty_available")),
            avg_entry_price=_dec(raw.get("avg_entry_price")),
            side=str(raw.get("side") or "long"),
            **fields,
        )


_ORDER_TIMESTAMPS = (
    "created_at",
    "updated_at",
    "submitted_at",
    "filled_at",
    "expired_at",
    "canceled_at",
    "failed_at",
    "replaced_at",
)


class Order(ApiModel):
    id: str
    client_order_id: str
    created_at: str | None = None
    updated_at: str | None = None
    submitted_at: str | None = None
    filled_at: str | None = None
    expired_at: str | None = None
    canceled_at: str | None = None
    failed_at: str | None = None
    replaced_at: str | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    asset_id: str | None = None
    symbol: str
    asset_class: str | None = None
    notional: str | None = None
    qty: str | None = None
    filled_qty: str = "0"
    filled_avg_price: str | None = None
    order_class: str = "simple"
    order_type: str
    type: str
    side: str
    position_intent: str | None = None
    time_in_force: str
    limit_price: str | None = None
    stop_price: str | None = None
    status: str
    extended_hours: bool = False
    legs: list[Order] | None = None
    trail_percent: str | None = None
    trail_price: str | None = None
    hwm: str | None = None

    @classmethod
    def from_alpaca(cls, raw: dict[str, Any]) -> Order:
        order_type = str(raw.get("type") or raw.get("order_type") or "market")
        legs = raw.get("legs")
        return cls(
            id=str(raw["id"]),
            client_order_id=str(raw.get("client_order_id") or ""),
            **{name: raw.get(name) for name in _ORDER_TIMESTAMPS},
            replaced_by=raw.get("replaced_by"),
            replaces=raw.get("replaces"),
            asset_id=raw.get("asset_id"),
            symbol=str(raw.get("symbol") or ""),
            asset_class=raw.get("asset_class"),
            notional=_dec(raw.get("notional")),
            qty=_dec(raw.get("qty")),
            filled_qty=_amount(raw.get("filled_qty")),
            filled_avg_price=_dec(raw.get("filled_avg_price")),
            order_class=str(raw.get("order_class") or "simple"),
            order_type=order_type,
            type=order_type,
            side=str(raw.get("side") or ""),
            position_intent=raw.get("position_intent"),
            time_in_force=str(raw.get("time_in_force") or "day"),
            limit_price=_dec(raw.get("limit_price")),
            stop_price=_dec(raw.get("stop_price")),
            status=str(raw.get("status") or "new"),
            extended_hours=bool(raw.get("extended_hours") or False),
            legs=[cls.from_alpaca(leg) for leg in legs] if legs else None,
            trail_percent=_dec(raw.get("trail_percent")),
            trail_price=_dec(raw.get("trail_price")),
            hwm=_dec(raw.get("hwm")),
        )


class ClosePositionResult(ApiModel):
    order_id: str
    client_order_id: str | None = None
    symbol: str
    side: str
    quantity: str | None
    order_type: str
    status: str
    created_at: str | None

    @classmethod
    def from_order(cls, order: Order) -> ClosePositionResult:
        return cls(
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=order.qty,
            order_type=order.type,
            status=order.status,
            created_at=order.created_at,
        )


class CancelResult(ApiModel):
    id: str
    status: str
    canceled_at: str | None = None

    @classmethod
    def from_order(cls, order: Order) -> CancelResult:
        return cls(id=order.id, status=order.status, canceled_at=order.canceled_at)


class Trade(ApiModel):
    id: str
    order_id: str
    client_order_id: str
    symbol: str
    asset_class: str | None
    notional: str
    qty: str | None
    filled_qty: str
    filled_avg_price: str
    order_class: str
    order_type: str
    type: str
    side: str
    time_in_force: str
    status: str
    created_at: str | None
    filled_at: str | None

    @classmethod
    def from_order(cls, order: Order) -> Trade:
        price = Decimal(order.filled_avg_price or "0")
        value = (Decimal(order.filled_qty) * price).quantize(Decimal("0.01"))
        same = order.model_dump(include=set(cls.model_fields) - {"notional", "filled_avg_price"})
        return cls(**same, order_id=order.id, notional=str(value), filled_avg_price=str(price))


class MarketClock(ApiModel):
    timestamp: str
    is_open: bool
    next_open: str
    next_close: str


class GatewayConfig(ApiModel):
    base_url: str
    data_url: str
    api_key_configured: bool
    secret_key_configured: bool
    trading_mode: str
    rate_limit_per_minute: int
    rate_limit_window_seconds: str
