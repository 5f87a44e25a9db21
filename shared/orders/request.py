"""The order a caller asks for, parsed and checked against Alpaca's rules before any upstream call."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, PrivateAttr, field_validator, model_validator

from shared.decimals import Notional, Percent, Price, Quantity
from shared.identifiers import Symbol
from shared.models import Model
from shared.orders.rules import RULES, asset_class_of, check_client_order_id, check_price


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


class OrderClass(StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"


class PositionIntent(StrEnum):
    BUY_TO_OPEN = "buy_to_open"
    BUY_TO_CLOSE = "buy_to_close"
    SELL_TO_OPEN = "sell_to_open"
    SELL_TO_CLOSE = "sell_to_close"


class _Part(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TakeProfit(_Part):
    limit_price: Price

    @model_validator(mode="after")
    def _tick(self) -> TakeProfit:
        check_price("take_profit.limit_price", self.limit_price)
        return self


class StopLoss(_Part):
    stop_price: Price
    limit_price: Price | None = None

    @model_validator(mode="after")
    def _tick(self) -> StopLoss:
        check_price("stop_loss.stop_price", self.stop_price)
        check_price("stop_loss.limit_price", self.limit_price)
        return self


class OrderRequest(Model):
    """POST /orders. Decimals may arrive as strings or numbers and are kept exact."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    symbol: Symbol
    qty: Quantity | None = None
    notional: Notional | None = None
    side: Side
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    order_class: OrderClass = OrderClass.SIMPLE
    limit_price: Price | None = None
    stop_price: Price | None = None
    trail_price: Price | None = None
    trail_percent: Percent | None = None
    extended_hours: bool = False
    client_order_id: str | None = None
    position_intent: PositionIntent | None = None
    take_profit: TakeProfit | None = None
    stop_loss: StopLoss | None = None

    @field_validator("client_order_id")
    @classmethod
    def _client_order_id(cls, value: str | None) -> str | None:
        if value is not None:
            check_client_order_id(value)
        return value

    _asset_class: str | None = PrivateAttr(default=None)
    _asset_symbol: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _rules(self) -> OrderRequest:
        for rule in RULES:
            rule(self)
        return self

    @property
    def asset_class(self) -> str | None:
        """The asset's class once known (`for_asset`), else what the symbol's shape tells, if anything."""
        return self._asset_class or asset_class_of(self.symbol)

    @property
    def asset_symbol(self) -> str:
        """The asset's own symbol once known (`BTC/USD` for an order on `BTCUSD`), else the order's."""
        return self._asset_symbol or self.symbol

    def for_asset(self, asset_class: str, asset_symbol: str) -> OrderRequest:
        """This order with its asset known, checked again by the rules that depend on its class.
        Raises PydanticCustomError, as validation does."""
        order = self.model_copy()
        order._asset_class, order._asset_symbol = asset_class, asset_symbol
        for rule in RULES:
            rule(order)
        return order

    @property
    def is_fractional(self) -> bool:
        return self.notional is not None or (self.qty is not None and self.qty != self.qty.to_integral())

    def with_client_order_id(self, key: str) -> OrderRequest:
        return self.model_copy(update={"client_order_id": key})

    def to_alpaca(self) -> dict[str, Any]:
        """The JSON body for POST /v2/orders: decimals as strings, unset fields left out."""
        body = self.model_dump(mode="json", exclude_none=True)
        if not self.extended_hours:
            body.pop("extended_hours", None)
        if self.order_class == OrderClass.SIMPLE:
            body.pop("order_class", None)
        return body

    def fingerprint(self) -> str:
        """What the order asks for, without its id: a repeated key must repeat the same order."""
        body = self.to_alpaca()
        body.pop("client_order_id", None)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
