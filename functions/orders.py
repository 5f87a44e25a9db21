"""Orders: list, place, cancel, and the account's recent trades."""

from __future__ import annotations

from typing import Any

from functions._http import Call, endpoint
from shared.models import CancelResult, Order, Trade

TRADES_DEFAULT_LIMIT = 20
ORDERS_MAX_LIMIT = 500  # Alpaca's own maximum; larger asks are capped, not refused


@endpoint("list_orders")
def list_orders(call: Call) -> list[Order]:
    limit = min(call.int_query("limit", ORDERS_MAX_LIMIT), ORDERS_MAX_LIMIT)
    return call.gateway.broker.orders(call.query.get("status", "open"), limit)


@endpoint("place_order")
def place_order(call: Call) -> tuple[dict[str, Any], int, dict[str, str]]:
    """At most once per idempotency key; a repeat answers the stored outcome, `Idempotent-Replayed: true`."""
    outcome = call.gateway.desk.place(
        call.body,
        caller=call.caller,
        request_id=call.request_id,
        idempotency_key=call.headers.get("idempotency-key"),
    )
    return outcome.body, outcome.status, outcome.headers()


@endpoint("get_order")
def get_order(call: Call) -> Order:
    return call.gateway.broker.order(call.params["order_id"])


@endpoint("cancel_order")
def cancel_order(call: Call) -> CancelResult:
    return call.gateway.exits.cancel(call.params["order_id"], call.caller, call.request_id)


@endpoint("list_trades")
def list_trades(call: Call) -> list[Trade]:
    return call.gateway.broker.trades(call.int_query("limit", TRADES_DEFAULT_LIMIT))
