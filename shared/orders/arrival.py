"""The arrival price of an order: the quote mid when the gateway received it, or its limit price.

Read by the order sync from the historical quotes up to that second, never on the order path.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from shared.alpaca.client import AlpacaClient
from shared.errors import GatewayError
from shared.orders.fills import time_key
from shared.orders.record import OrderRecord

LIMIT_TYPES = frozenset({"limit", "stop_limit"})
QUOTE_LOOKBACK = timedelta(minutes=1)  # the prevailing quote: the last one at or before the second


class ArrivalPrices:
    def __init__(self, alpaca: AlpacaClient) -> None:
        self._alpaca = alpaca

    def of(self, record: OrderRecord) -> dict[str, Any]:
        """`arrival_price` and `arrival_source` for a record, or {} when no quote is to be had."""
        request = record.request
        if request.get("type") in LIMIT_TYPES and request.get("limit_price") is not None:
            return {"arrival_price": str(request["limit_price"]), "arrival_source": "limit_price"}
        if record.received_at is None:
            return {}
        second = record.received_at.replace(microsecond=0) + timedelta(seconds=1)
        try:
            quote = self._alpaca.quote_before(
                record.symbol,
                end=time_key(second),
                start=time_key(second - QUOTE_LOOKBACK),
                crypto="/" in record.symbol,
            )
        except GatewayError:
            return {}  # no quote now: a later run tries again
        bid, ask = Decimal(str(quote.get("bp") or 0)), Decimal(str(quote.get("ap") or 0))
        if bid <= 0 or ask <= 0:
            return {}
        return {"arrival_price": str((bid + ask) / 2), "arrival_source": "quote_mid"}
