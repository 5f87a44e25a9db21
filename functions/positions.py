"""Open positions and closing one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic_core import PydanticCustomError

from functions._http import Call, endpoint
from shared.decimals import PERCENT_MAX, QTY_MAX, parse_decimal
from shared.errors import BadRequest
from shared.models import ClosePositionResult, Position
from shared.orders.exits import CloseUnresolved


@endpoint("list_positions")
def list_positions(call: Call) -> list[Position]:
    return call.gateway.broker.positions()


@endpoint("close_position")
def close_position(call: Call) -> ClosePositionResult | tuple[dict[str, Any], int]:
    """All of the position, or `qty` shares, or `percentage` (0 < p <= 100), from the body or the query.
    A close the broker took without answering in time is 202 `unresolved`, settled later."""
    qty = _amount(call, "qty", QTY_MAX)
    percentage = _amount(call, "percentage", PERCENT_MAX)
    if qty is not None and percentage is not None:
        raise BadRequest("give qty or percentage, not both", reason="invalid_close")
    symbol = call.params["symbol"]
    try:
        return call.gateway.exits.close(
            symbol,
            call.caller,
            call.request_id,
            qty=None if qty is None else format(qty, "f"),
            percentage=None if percentage is None else format(percentage, "f"),
        )
    except CloseUnresolved as open_close:
        body = {
            "status": "unresolved",
            "symbol": symbol,
            "close_id": open_close.close_id,
            "message": "the broker took the close but did not answer in time; it is recorded and "
            "settled by finding its liquidation order (see GET /orders)",
            "request_id": call.request_id,
        }
        return body, 202


def _amount(call: Call, name: str, maximum: Decimal) -> Decimal | None:
    """A positive decimal from the body, else the query; 400 `invalid_<name>` otherwise."""
    raw = call.body.get(name, call.query.get(name))
    if raw is None:
        return None
    try:
        value = parse_decimal(raw, maximum)
    except PydanticCustomError as exc:
        raise BadRequest(f"{name}: {exc.message()}", reason=f"invalid_{name}") from exc
    if value <= 0:
        raise BadRequest(f"{name} must be greater than 0", reason=f"invalid_{name}")
    return value.normalize()
