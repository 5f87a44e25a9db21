"""An order record as the desk claims it, for tests that write records directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.orders.record import OrderRecord, OrderState
from shared.orders.store import order_doc_id

MARKET_BUY = {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market", "time_in_force": "day"}


def order_record(
    key: str, claim: str, state: OrderState, requested_at: datetime, **fields: Any
) -> OrderRecord:
    """The record of a 1-share AAPL market buy under `key`, claimed by `claim`."""
    return OrderRecord(
        order=order_doc_id(key),
        client_order_id=key,
        symbol="AAPL",
        key_source="client_order_id",
        claim=claim,
        caller="dev",
        request_id=f"req-{claim}",
        request={**MARKET_BUY, "client_order_id": key},
        fingerprint="f",
        state=state,
        requested_at=requested_at,
        **fields,
    )
