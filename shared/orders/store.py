"""`orders/{sha256(key)}`: one record per idempotency key, claimed with its first event in one commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from google.cloud import firestore

from shared.audit import AuditLog, Event
from shared.errors import Unavailable
from shared.firestore import ORDERS, READ_RETRY, TIMEOUT_SECONDS, Duplicate, firestore_errors


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
