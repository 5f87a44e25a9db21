"""`orders/{sha256(key)}`: one record per idempotency key, claimed with its first event in one commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from google.cloud import firestore

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
        batch = self._db.batch()
        batch.create(self._ref(record.order), {**record.stored(), "created_at": firestore.SERVER_TIMESTAMP})
        batch.create(self._audit.ref(self.event_id(record.order, record.claim, Event(event["type"]))), event)
        if counter is not None:
            batch.set(counter[0], counter[1], merge=True)
        if reservation is None:
            with firestore_errors():
                results = list(batch.commit(retry=None, timeout=TIMEOUT_SECONDS))
            permit = None
        else:
            # The limiter's transform-only writes join this commit through the client's raw commit (the
            # public batch cannot carry them); tests/unit/test_firestore_client.py pins what it uses.
            ours = list(batch._write_pbs)
            with firestore_errors():
                response = self._db._firestore_api.commit(
                    request={"database": self._db._database_string, "writes": [*ours, *reservation.writes]},
                    metadata=self._db._rpc_metadata,
                    retry=None,
                    timeout=TIMEOUT_SECONDS,
                )
            everything = list(response.write_results)
            results, permit = everything[: len(ours)], reservation.settle(everything[len(ours) :])
        if counter is None:
            return None, permit
        return int(results[-1].transform_results[0].integer_value), permit

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
