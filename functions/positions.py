"""Open positions and closing one."""

from __future__ import annotations

from functions._http import Call, endpoint
from shared.errors import BadRequest
from shared.models import ClosePositionResult, Position


@endpoint("list_positions")
def list_positions(call: Call) -> list[Position]:
    return call.gateway.broker.positions()


@endpoint("close_position")
def close_position(call: Call) -> ClosePositionResult:
    qty = call.body.get("qty", call.query.get("qty"))
    percentage = call.body.get("percentage", call.query.get("percentage"))
    for name, value in (("qty", qty), ("percentage", percentage)):
        if value is not None and not _positive_number(value):
            raise BadRequest(f"{name} must be a positive number", reason=f"invalid_{name}")
    return call.gateway.exits.close(
        call.params["symbol"],
        call.caller,
        call.request_id,
        qty=None if qty is None else str(qty),
        percentage=None if percentage is None else str(percentage),
    )


def _positive_number(value: object) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return False
