"""The order a caller asks for, parsed and checked against Alpaca's rules before any upstream call."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    OPG = "opg"
    CLS = "cls"
    IOC = "ioc"
    FOK = "fok"


class OrderRequest(BaseModel):
    """POST /orders. Decimals may arrive as strings or numbers and are kept exact."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    symbol: str = Field(min_length=1, max_length=32)
    qty: Decimal | None = None
    notional: Decimal | None = None
    side: Side
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()

    @model_validator(mode="after")
    def _rules(self) -> OrderRequest:
        if (self.qty is None) == (self.notional is None):
            raise ValueError("exactly one of qty or notional is required")
        if self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise ValueError(f"limit_price is required for {self.type.value} orders")
        if self.type in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise ValueError(f"stop_price is required for {self.type.value} orders")
        return self

    def to_alpaca(self) -> dict[str, Any]:
        """The JSON body for POST /v2/orders: decimals as strings, unset fields left out."""
        body = self.model_dump(mode="json", exclude_none=True)
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in body.items()}
