"""Freeing a key when nothing was sent (`OrderRecords.release`), against the emulator: a retry after a lost
answer must not delete the claim another request made of the freed key in the meantime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore

from shared.audit import AuditLog, Event
from shared.clock import SystemClock
from shared.orders.record import OrderRecord, OrderState
from shared.orders.store import OrderRecords
from tests.support.firestore import lost_answers
from tests.support.orders import order_record

KEY = "release-race"


def claimed(records: OrderRecords, audit: AuditLog, claim: str) -> OrderRecord:
    record = order_record(KEY, claim, OrderState.PENDING, datetime.now(UTC))
    records.claim(record, audit.event(Event.ORDER_REQUESTED, "dev", record.request_id))
    return record


def test_a_release_retried_after_a_lost_answer_keeps_the_next_claim_of_the_key(
    firestore_project: str,
) -> None:
    """Claim A is released, the answer is lost, claim B takes the freed key, A's release is retried:
    B's record stays."""
    clock = SystemClock()
    ours = firestore.Client(project=firestore_project)
    other = firestore.Client(project=firestore_project)
    audit, other_audit = AuditLog(ours, clock), AuditLog(other, clock)
    records, other_records = OrderRecords(audit), OrderRecords(other_audit)
    first = claimed(records, audit, "a0a0a0a0")
    lost_answers(ours, 1, meanwhile=lambda: claimed(other_records, other_audit, "b1b1b1b1"))
    records.release(first.order, first.claim, audit.event(Event.ORDER_NOT_SENT, "dev", first.request_id))
    stored: Any = other.collection("orders").document(first.order).get().to_dict()
    assert stored is not None and stored["claim"] == "b1b1b1b1"
