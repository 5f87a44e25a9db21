"""Response models of the public API: the seed's field names and JSON types; and `Model`, the base of
every model of the engine.

Inside the engine amounts are `Decimal` and times aware `datetime`; only their JSON form (the edge)
turns them into the seed's types: decimals as plain strings, times as RFC 3339 strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, WithJsonSchema


class Model(BaseModel):
    """Every model of the engine. Its validator and serializer are built on first use, not at import: an
    entry point loads every module but needs a few models, and a cold start pays for those alone."""

    model_config = ConfigDict(defer_build=True)


class ApiModel(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Amount = Annotated[
    Decimal,
    PlainSerializer(_plain, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "description": "a decimal number"}, mode="serialization"),
]
Time = Annotated[
    datetime,
    AfterValidator(_aware),
    PlainSerializer(_rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def _dec(value: Any) -> Decimal | None:
    """An Alpaca decimal (a string, or a JSON number) as an exact Decimal; None when left out."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _amount(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    """A decimal that is always present: `default` when Alpaca leaves it out."""
    found = _dec(value)
    return default if found is None else found


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
    buying_power: Amount
    regt_buying_power: Amount
    daytrading_buying_power: Amount
    cash: Amount
    portfolio_value: Amount
    pattern_day_trader: bool = False
    trading_blocked: bool = False
    transfers_blocked: bool = False
    account_blocked: bool = False
    created_at: Time | None = None
    trade_suspended_by_user: bool = False
    multiplier: Amount
    shorting_enabled: bool = False
    equity: Amount
    last_equity: Amount
    long_market_value: Amount
    short_market_value: Amount
    initial_margin: Amount
    maintenance_margin: Amount
    last_maintenance_margin: Amount
    sma: Amount
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
            multiplier=_amount(raw.get("multiplier"), Decimal(1)),
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
    qty: Amount
    qty_available: Amount | None = None
    avg_entry_price: Amount | None = None
    side: str
    market_value: Amount
    cost_basis: Amount
    unrealized_pl: Amount
    unrealized_plpc: Amount
    unrealized_intraday_pl: Amount
    unrealized_intraday_plpc: Amount
    current_price: Amount
    lastday_price: Amount
    change_today: Amount

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
    created_at: Time | None = None
    updated_at: Time | None = None
    submitted_at: Time | None = None
    filled_at: Time | None = None
    expired_at: Time | None = None
    canceled_at: Time | None = None
    failed_at: Time | None = None
    replaced_at: Time | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    asset_id: str | None = None
    symbol: str
    asset_class: str | None = None
    notional: Amount | None = None
    qty: Amount | None = None
    filled_qty: Amount = Decimal(0)
    filled_avg_price: Amount | None = None
    order_class: str = "simple"
    order_type: str
    type: str
    side: str
    position_intent: str | None = None
    time_in_force: str
    limit_price: Amount | None = None
    stop_price: Amount | None = None
    status: str
    extended_hours: bool = False
    legs: list[Order] | None = None
    trail_percent: Amount | None = None
    trail_price: Amount | None = None
    hwm: Amount | None = None

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
    quantity: Amount | None
    order_type: str
    status: str
    created_at: Time | None

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
    canceled_at: Time | None = None

    @classmethod
    def from_order(cls, order: Order) -> CancelResult:
        return cls(id=order.id, status=order.status, canceled_at=order.canceled_at)


class Trade(ApiModel):
    id: str
    order_id: str
    client_order_id: str
    symbol: str
    asset_class: str | None
    notional: Amount
    qty: Amount | None
    filled_qty: Amount
    filled_avg_price: Amount
    order_class: str
    order_type: str
    type: str
    side: str
    time_in_force: str
    status: str
    created_at: Time | None
    filled_at: Time | None

    @classmethod
    def from_order(cls, order: Order) -> Trade:
        price = order.filled_avg_price or Decimal(0)
        value = (order.filled_qty * price).quantize(Decimal("0.01"))
        same = order.model_dump(include=set(cls.model_fields) - {"notional", "filled_avg_price"})
        return cls(**same, order_id=order.id, notional=value, filled_avg_price=price)


class MarketClock(ApiModel):
    timestamp: Time
    is_open: bool
    next_open: Time
    next_close: Time


class GatewayConfig(ApiModel):
    base_url: str
    data_url: str
    api_key_configured: bool
    secret_key_configured: bool
    trading_mode: str
    rate_limit_per_minute: int
    rate_limit_window_seconds: Amount
