"""Orders: list, place, one by id, cancel, and the account's recent trades."""

from __future__ import annotations

from functions._edge import Reply
from functions._http import Call, endpoint
from functions.inputs import NoInput, OrdersQuery, TradesQuery
from shared.models import CancelResult, Order, Trade
from shared.orders.request import OrderRequest


@endpoint("list_orders")
def list_orders(call: Call[NoInput, OrdersQuery]) -> list[Order]:
    return call.gateway.account.orders(call.query.status, call.query.limit)


@endpoint("place_order")
def place_order(call: Call[OrderRequest, NoInput]) -> Reply:
    """At most once per idempotency key; a repeat answers the stored outcome, `Idempotent-Replayed: true`."""
    call.caller.require_symbol(call.body.symbol)
    outcome = call.gateway.desk.place(
        call.body,
        caller=call.caller,
        request_id=call.request_id,
        idempotency_key=call.headers.get("idempotency-key"),
    )
    return Reply(outcome.body, outcome.status, outcome.headers())


@endpoint("get_order")
def get_order(call: Call[NoInput, NoInput]) -> Order:
    return call.gateway.account.order(call.params["order_id"])


@endpoint("cancel_order")
def cancel_order(call: Call[NoInput, NoInput]) -> CancelResult:
    return call.gateway.exits.cancel(call.params["order_id"], call.caller, call.request_id)


@endpoint("list_trades")
def list_trades(call: Call[NoInput, TradesQuery]) -> list[Trade]:
    return call.gateway.account.trades(call.query.limit)
