"""The audit trail in Firestore: append-only events, only ever created, never changed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from google.cloud import firestore

from shared.clock import Clock
from shared.errors import GatewayError
from shared.firestore import AUDIT, READ_RETRY, TIMEOUT_SECONDS, Duplicate, as_json, firestore_errors
from shared.models import Model

log = logging.getLogger("execution_engine")

LIST_DEFAULT = 100
LIST_MAX = 1000


class Event(StrEnum):
    ORDER_REQUESTED = "order.requested"
    ORDER_SUBMITTED = "order.submitted"
    ORDER_REJECTED = "order.rejected"
    ORDER_DENIED = "order.denied"
    ORDER_UNRESOLVED = "order.unresolved"
    ORDER_NOT_SENT = "order.not_sent"
    ORDER_CANCEL_REQUESTED = "order.cancel_requested"
    ORDER_CANCEL_RESULT = "order.cancel_result"
    POSITION_CLOSE_REQUESTED = "position.close_requested"
    POSITION_CLOSE_RESULT = "position.close_result"
    POSITION_CLOSE_DENIED = "position.close_denied"
    POSITION_CLOSE_UNRESOLVED = "position.close_unresolved"
    RISK_UPDATED = "risk.updated"
    # Written by the order sync, once each (ids from the Alpaca order and the fill).
    ORDER_FILLED = "order.filled"
    ORDER_PARTIALLY_FILLED = "order.partially_filled"
    ORDER_CANCELED = "order.canceled"
    ORDER_EXPIRED = "order.expired"
    NOTIFICATIONS_UPDATED = "notifications.updated"
    EOD_FLATTEN_STARTED = "eod.flatten_started"
    EOD_LIQUIDATION = "eod.liquidation"
    EOD_FLATTEN = "eod.flatten"
    LIMITER_BACKOFF = "limiter.backoff"  # the broker said its budget is spent; one per key and reset


class AuditPage(Model):
    """A page of events, oldest first; pass `next_since` as `since` for the next page (ids may repeat)."""

    events: list[dict[str, Any]]
    next_since: str | None = None


class AuditLog:
    """Events are created, never updated; order events have ids derived from the order, one per kind."""

    def __init__(self, db: Any, clock: Clock) -> None:
        self.db = db
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    def event(self, kind: Event, caller: str, request_id: str | None = None, **data: Any) -> dict[str, Any]:
        return {
            "type": kind.value,
            "time": self.now(),
            "created_at": firestore.SERVER_TIMESTAMP,
            "caller": caller,
            "request_id": request_id,
            **data,
        }

    def ref(self, event_id: str | None = None) -> Any:
        collection = self.db.collection(AUDIT)
        return collection.document(event_id) if event_id else collection.document()

    def record(self, kind: Event, caller: str, request_id: str | None = None, **data: Any) -> None:
        """Append one standalone event; a failure is a 503 so the action it precedes never happens."""
        with firestore_errors():
            self.ref().create(
                self.event(kind, caller, request_id, **data), retry=None, timeout=TIMEOUT_SECONDS
            )

    def record_once(self, event_id: str, kind: Event, caller: str, **data: Any) -> bool:
        """Create the event under a derived id unless it exists (instances noticing one thing write it
        once). Never raises: for notices that must not fail what they describe; True if written."""
        try:
            with firestore_errors():
                self.ref(event_id).create(
                    self.event(kind, caller, **data), retry=None, timeout=TIMEOUT_SECONDS
                )
        except Duplicate:
            return False
        except GatewayError as exc:
            log.warning("audit notice %s not written (%s)", kind.value, exc.reason)
            return False
        return True

    def events(self, since: datetime | None, limit: int = LIST_DEFAULT) -> AuditPage:
        """Events in server-time order from `since` (inclusive), at most `limit`."""
        query = self.db.collection(AUDIT)
        if since is not None:
            query = query.where(filter=firestore.FieldFilter("created_at", ">=", since))
        query = query.order_by("created_at").limit(max(1, min(limit, LIST_MAX)))
        with firestore_errors(reading=True):
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        events = [{"id": snap.id, **as_json(snap.to_dict())} for snap in snaps]
        return AuditPage(events=events, next_since=events[-1]["created_at"] if events else None)
