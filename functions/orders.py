"""Orders: list, place, cancel, and the account's recent trades."""

from __future__ import annotations

from functions._http import Call, endpoint
from shared.errors import BadRequest
from shared.models import CancelResult, Order, Trade
from shared.order_request import OrderRequest

TRADES_DEFAULT_LIMIT = 20


def _int_query(call: Call, name: str, default: int | None) -> int | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer", reason=f"invalid_{name}") from exc
    if value < 1:
        raise BadRequest(f"{name} must be at least 1", reason=f"invalid_{name}")
    return value


@endpoint("list_orders")
def list_orders(call: Call) -> list[Order]:
    limit = _int_query(call, "limit", None)
    return call.gateway.broker.orders(call.query.get("status", "open"), min(limit or 500, 500))


@endpoint("place_order")
def place_order(call: Call) -> Order:
    return call.gateway.broker.place_order(OrderRequest.model_validate(call.body))


@endpoint("cancel_order")
def cancel_order(call: Call) -> CancelResult:
    return call.gateway.broker.cancel_order(call.params["order_id"])


@endpoint("list_trades")
def list_trades(call: Call) -> list[Trade]:
    return call.gateway.broker.trades(_int_query(call, "limit", TRADES_DEFAULT_LIMIT) or TRADES_DEFAULT_LIMIT)
