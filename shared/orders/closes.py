"""Position closes whose outcome is open: the broker took the request but its answer never came back.

Alpaca answers a close with the liquidating market order it created; when that answer is lost, the
close is recorded in `closes/{id}` as `unresolved` and settled later by looking for that order: a
market order in the symbol created from shortly before the request on, and not one of ours. None
after the in-flight window means the broker never acted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.alpaca.client import AlpacaClient
from shared.audit import AuditLog, Event
from shared.clock import Clock
from shared.errors import GatewayError
from shared.firestore import (
    CLOSES,
    ORDERS,
    READ_RETRY,
    TIMEOUT_SECONDS,
    Duplicate,
    as_json,
    firestore_errors,
)
from shared.models import ClosePositionResult, Order
from shared.orders.store import order_doc_id

CLOCK_SKEW_SECONDS = 2.0  # between our clock and the broker's
IN_FLIGHT_SECONDS = 30.0  # after this, a liquidation order that has not appeared never will


class OpenCloses:
    """Records a close with a lost answer, and settles such records against the broker's orders."""

    def __init__(self, audit: AuditLog, alpaca: AlpacaClient, clock: Clock) -> None:
        self._audit = audit
        self._db = audit.db
        self._alpaca = alpaca
        self._clock = clock

    def record(self, subject: dict[str, Any], caller: str, request_id: str, error: GatewayError) -> str:
        """Keep the close open; returns its id. A failure here is logged by the caller, not raised."""
        close_id = hashlib.sha256(f"{request_id}-{subject['symbol']}".encode()).hexdigest()[:32]
        record = {
            **subject,
            "state": "unresolved",
            "caller": caller,
            "request_id": request_id,
            "requested_at": self._audit.now(),
            "reason": error.reason,
            "created_at": firestore.SERVER_TIMESTAMP,
        }
        event = self._audit.event(
            Event.POSITION_CLOSE_UNRESOLVED,
            caller,
            request_id,
            close=close_id,
            **subject,
            reason=error.reason,
        )
        batch = self._db.batch()
        batch.set(self._db.collection(CLOSES).document(close_id), record)
        batch.create(self._audit.ref(f"close-{close_id}-unresolved"), event)
        with firestore_errors():
            batch.commit(retry=None, timeout=TIMEOUT_SECONDS)
        return close_id

    def settle(self, symbol: str) -> int:
        """Settle the open closes of `symbol` whose liquidation order can now be told; returns how many."""
        query = (
            self._db.collection(CLOSES)
            .where(filter=firestore.FieldFilter("symbol", "==", symbol))
            .where(filter=firestore.FieldFilter("state", "==", "unresolved"))
        )
        with firestore_errors():
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        return sum(self._settle_one(snap.id, snap.to_dict()) for snap in snaps)

    def _settle_one(self, close_id: str, record: Mapping[str, Any]) -> bool:
        requested: datetime = record["requested_at"]
        since = as_json(requested - timedelta(seconds=CLOCK_SKEW_SECONDS))
        raw = self._alpaca.orders(
            status="all", symbols=record["symbol"], after=since, direction="asc", limit=50
        )
        found = next((o for o in raw if o.get("type") == "market" and not self._ours(o)), None)
        if found is None and self._clock.now() - requested.timestamp() < IN_FLIGHT_SECONDS:
            return False
        if found is not None:
            result = ClosePositionResult.from_order(Order.from_alpaca(found))
            state, outcome = "settled", {"ok": True, "result": result.model_dump(mode="json")}
        else:
            state, outcome = "not_placed", {"ok": False, "reason": "close_not_placed"}
        subject = {name: record.get(name) for name in ("symbol", "qty", "percentage")}
        caller, request_id = str(record["caller"]), str(record["request_id"])
        kind = Event.POSITION_CLOSE_RESULT
        event = self._audit.event(kind, caller, request_id, close=close_id, **subject, **outcome)
        batch = self._db.batch()
        batch.update(self._db.collection(CLOSES).document(close_id), {"state": state})
        batch.create(self._audit.ref(f"close-{close_id}-result"), event)
        try:
            with firestore_errors():
                batch.commit(retry=None, timeout=TIMEOUT_SECONDS)
        except Duplicate:
            return False  # another instance settled it first
        return True

    def _ours(self, order: Mapping[str, Any]) -> bool:
        """An order placed through the gateway has a record under its client order id."""
        key = str(order.get("client_order_id") or "")
        if not key:
            return False
        ref = self._db.collection(ORDERS).document(order_doc_id(key))
        with firestore_errors():
            return bool(ref.get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS).exists)
