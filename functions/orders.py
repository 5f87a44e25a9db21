"""Orders: list, place, cancel, and the account's recent trades."""

from __future__ import annotations

from typing import Any

from functions._http import Call, endpoint
from shared.errors import BadRequest
from shared.models import CancelResult, Order, Trade

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
    return call.gateway.broker.trades(_int_query(call, "limit", TRADES_DEFAULT_LIMIT) or TRADES_DEFAULT_LIMIT)
