"""The audit trail in Firestore: append-only events (only ever `create()`) and the per-order records."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.cloud import firestore
from pydantic import BaseModel

from shared.clock import Clock
from shared.errors import Unavailable

ORDERS = "orders"
AUDIT = "audit"
TIMEOUT_SECONDS = 3.0
# Reads may retry briefly; commits never do (a retried create could meet itself as a duplicate).
READ_RETRY = gretry.Retry(
    predicate=gretry.if_transient_error, initial=0.05, maximum=0.4, multiplier=2.0, timeout=2.0
)
LIST_DEFAULT = 100
LIST_MAX = 1000

T = TypeVar("T")


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


class AuditPage(BaseModel):
    """A page of events, oldest first; pass `next_since` as `since` for the next page (ids may repeat)."""

    events: list[dict[str, Any]]
    next_since: str | None = None


class Duplicate(Exception):
    """The order record already exists: somebody else holds this idempotency key."""


def order_doc_id(key: str) -> str:
    """Orders are stored under a hash of their key: fixed length, no `/`, and not sequential."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def unavailable() -> Unavailable:
    return Unavailable(
        "the audit log cannot be written, so nothing was sent", reason="audit_unavailable", retry_after=1
    )


@contextmanager
def firestore_errors() -> Iterator[None]:
    """Firestore failures become 503 (fail closed); an existing document is a Duplicate."""
    try:
        yield
    except gexc.AlreadyExists as exc:
        raise Duplicate(str(exc)) from exc
    except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
        raise unavailable() from exc


def plain(value: Any) -> Any:
    """Firestore values as JSON: timestamps become RFC 3339 strings."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


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

    def events(self, since: datetime | None, limit: int = LIST_DEFAULT) -> AuditPage:
        """Events in server-time order from `since` (inclusive), at most `limit`."""
        query = self.db.collection(AUDIT)
        if since is not None:
            query = query.where(filter=firestore.FieldFilter("created_at", ">=", since))
        query = query.order_by("created_at").limit(max(1, min(limit, LIST_MAX)))
        with firestore_errors():
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        events = [{"id": snap.id, **plain(snap.to_dict())} for snap in snaps]
        return AuditPage(events=events, next_since=events[-1]["created_at"] if events else None)


class OrderRecords:
    """`orders/{hash}`: created pending with its `order.requested` event in one commit, then settled."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        self._db = audit.db

    def _ref(self, doc_id: str) -> Any:
        return self._db.collection(ORDERS).document(doc_id)

    @staticmethod
    def event_id(doc_id: str, claim: str, kind: Event) -> str:
        # One event of each kind per claim of a key: a retried write can never double it.
        return f"{doc_id[:32]}-{claim}-{kind.value.replace('.', '-')}"

    def claim(
        self,
        doc_id: str,
        record: dict[str, Any],
        event: dict[str, Any],
        counter: tuple[Any, dict[str, Any]] | None = None,
    ) -> int | None:
        """One commit: create the record and its first event (and bump a counter, whose value is returned).

        Raises Duplicate when the key is taken: the whole commit fails, the counter included.
        """
        batch = self._db.batch()
        batch.create(self._ref(doc_id), record)
        batch.create(self._audit.ref(self.event_id(doc_id, record["claim"], Event(event["type"]))), event)
        if counter is not None:
            batch.set(counter[0], counter[1], merge=True)
        with firestore_errors():
            results = batch.commit(retry=None, timeout=TIMEOUT_SECONDS)
        if counter is None:
            return None
        return int(results[-1].transform_results[0].integer_value)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        with firestore_errors():
            snap = self._ref(doc_id).get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        return snap.to_dict() if snap.exists else None

    def settle(self, doc_id: str, claim: str, update: dict[str, Any], event: dict[str, Any]) -> None:
        """Write the outcome and its event."""
        update = {**update, "updated_at": firestore.SERVER_TIMESTAMP}
        self._with_event(doc_id, claim, event, lambda batch, ref: batch.update(ref, update))

    def release(self, doc_id: str, claim: str, event: dict[str, Any]) -> None:
        """Nothing was sent: free the key for a retry, keeping the event that says why."""
        self._with_event(doc_id, claim, event, lambda batch, ref: batch.delete(ref))

    def _with_event(
        self, doc_id: str, claim: str, event: dict[str, Any], change: Callable[[Any, Any], Any]
    ) -> None:
        """Commit `change(batch, record_ref)` with the creation of its event, retried once (both writes are
        idempotent by id). An event that already exists means an earlier attempt landed and only its
        answer was lost: the change is then committed alone."""
        ref = self._ref(doc_id)
        event_ref = self._audit.ref(self.event_id(doc_id, claim, Event(event["type"])))

        def commit() -> None:
            batch = self._db.batch()
            change(batch, ref)
            batch.create(event_ref, event)
            try:
                with firestore_errors():
                    batch.commit(retry=None, timeout=TIMEOUT_SECONDS)
            except Duplicate:
                alone = self._db.batch()
                change(alone, ref)
                with firestore_errors():
                    alone.commit(retry=None, timeout=TIMEOUT_SECONDS)

        self._twice(commit)

    @staticmethod
    def _twice(write: Callable[[], None]) -> None:
        try:
            write()
        except Unavailable:
            write()
