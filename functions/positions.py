"""Open positions and closing one."""

from __future__ import annotations

from functions._edge import Reply
from functions._http import Call, endpoint
from functions.inputs import CloseSize, NoInput
from shared.errors import BadRequest
from shared.models import ClosePositionResult, Position
from shared.orders.exits import CloseUnresolved


@endpoint("list_positions")
def list_positions(call: Call[NoInput, NoInput]) -> list[Position]:
    return call.gateway.account.positions()


@endpoint("close_position")
def close_position(call: Call[CloseSize, CloseSize]) -> ClosePositionResult | Reply:
    """All of the position, or `qty` shares, or `percentage`, from the body or else the query. A close
    the broker took without answering in time is 202 `unresolved`, settled later."""
    qty = call.body.qty if call.body.qty is not None else call.query.qty
    percentage = call.body.percentage if call.body.percentage is not None else call.query.percentage
    if qty is not None and percentage is not None:
        raise BadRequest("give qty or percentage, not both", reason="invalid_close")
    symbol = call.params["symbol"]
    call.caller.require_symbol(symbol)
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
        return Reply(body, 202)
