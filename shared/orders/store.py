"""`orders/{sha256(key)}`: one record per idempotency key, claimed with its first event in one commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from google.cloud import firestore

from shared import firestore_raw as raw
from shared.audit import AuditLog, Event
from shared.errors import Unavailable
from shared.firestore import ORDERS, READ_RETRY, TIMEOUT_SECONDS, Duplicate, firestore_errors
from shared.limits.protocol import Permit
from shared.limits.slots import Reservation
from shared.orders.record import OrderRecord, OrderState


def order_doc_id(key: str) -> str:
    """Orders are stored under a hash of their key: fixed length, no `/`, and not sequential."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class OrderRecords:
    """`orders/{hash}`: created pending with its `order.requested` event in one commit, then settled."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        self._db = audit.db

    def _ref(self, doc_id: str) -> Any:
        return self._db.collection(ORDERS).document(doc_id)

    def _name(self, doc_id: str) -> str:
        return str(self._ref(doc_id)._document_path)

    def _event_name(self, doc_id: str, claim: str, event: dict[str, Any]) -> str:
        return str(self._audit.ref(self.event_id(doc_id, claim, Event(event["type"])))._document_path)

    @staticmethod
    def event_id(doc_id: str, claim: str, kind: Event) -> str:
        # One event of each kind per claim of a key: a retried write can never double it.
        return f"{doc_id[:32]}-{claim}-{kind.value.replace('.', '-')}"

    def claim(
        self,
        record: OrderRecord,
        event: dict[str, Any],
        counter: tuple[Any, dict[str, Any]] | None = None,
        reservation: Reservation | None = None,
    ) -> tuple[int | None, Permit | None]:
        """One commit: create the record and its first event, bump a counter (its value is returned) and
        take the limiter's unit for the send (its permit is returned, None if the window was full).

        Raises Duplicate when the key is taken: the whole commit fails, counter and unit included.
        """
        writes = [
            raw.create(
                self._name(record.order), {**record.stored(), "created_at": firestore.SERVER_TIMESTAMP}
            ),
            raw.create(self._event_name(record.order, record.claim, event), event),
        ]
        if counter is not None:  # the client's merge encoding, joined to the raw commit
            batch = self._db.batch()
            batch.set(counter[0], counter[1], merge=True)
            writes.extend(raw.as_raw(write) for write in batch._write_pbs)
        ours = len(writes)
        with firestore_errors():
            results = raw.commit(
                self._db, [*writes, *(reservation.writes if reservation else ())], TIMEOUT_SECONDS
            )
        permit = reservation.settle(results[ours:]) if reservation else None
        if counter is None:
            return None, permit
        return int(results[ours - 1].transform_results[0].integer_value), permit

    def get(self, doc_id: str) -> OrderRecord | None:
        with firestore_errors():
            snap = self._ref(doc_id).get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        return OrderRecord.model_validate(snap.to_dict()) if snap.exists else None

    def in_state(self, state: OrderState, limit: int = 100) -> list[OrderRecord]:
        """Records in `state`, oldest request first (the order sync settles unresolved and stale ones)."""
        query = (
            self._db.collection(ORDERS)
            .where(filter=firestore.FieldFilter("state", "==", state.value))
            .limit(limit)
        )
        with firestore_errors():
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        found = [OrderRecord.model_validate(snap.to_dict()) for snap in snaps]
        return sorted(found, key=lambda record: record.requested_at)

    def settle(self, doc_id: str, claim: str, update: dict[str, Any], event: dict[str, Any]) -> None:
        """Write the outcome and its event."""
        change = raw.update(self._name(doc_id), {**update, "updated_at": firestore.SERVER_TIMESTAMP})
        self._with_event(doc_id, claim, event, change)

    def release(self, doc_id: str, claim: str, event: dict[str, Any]) -> None:
        """Nothing was sent: free the key for a retry, keeping the event that says why. If the event is
        there already, the delete landed with it, and a record there now is a later claim's: kept."""
        self._with_event(doc_id, claim, event, raw.delete(self._name(doc_id)), reapply=False)

    def _with_event(
        self, doc_id: str, claim: str, event: dict[str, Any], change: Any, reapply: bool = True
    ) -> None:
        """Commit the record's `change` with the creation of its event, retried once (the event is
        created once by its id). An event that already exists means an earlier attempt landed and only
        its answer was lost: the change is then committed alone if `reapply`."""
        created = raw.create(self._event_name(doc_id, claim, event), event)

        def commit() -> None:
            try:
                with firestore_errors():
                    raw.commit(self._db, [change, created], TIMEOUT_SECONDS)
            except Duplicate:
                if reapply:
                    with firestore_errors():
                        raw.commit(self._db, [change], TIMEOUT_SECONDS)

        self._twice(commit)

    @staticmethod
    def _twice(write: Callable[[], None]) -> None:
        try:
            write()
        except Unavailable:
            write()
