"""`notify_failed`: deliveries whose last attempt failed, listed and replayed by an admin."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from shared.errors import Conflict, NotFound
from shared.firestore import (
    NOTIFY_DELIVERIES,
    NOTIFY_FAILED,
    READ_RETRY,
    TIMEOUT_SECONDS,
    as_json,
    firestore_errors,
)
from shared.models import Model
from shared.notify.dispatch import Attempts

LIST_DEFAULT = 50
LIST_MAX = 200


class DeadLetter(Model):
    id: str
    message_id: str
    event_id: str
    type: str
    target: str
    reason: str
    attempt_count: int
    attempts: list[dict[str, Any]]
    failed_at: str | None = None
    body: str


class DeadLetters(Model):
    """Newest first."""

    failed: list[DeadLetter]


class Replay(Model):
    id: str
    delivered: bool
    status: int | None = None
    error: str | None = None


class DeadLetterStore:
    def __init__(self, attempts: Attempts) -> None:
        self._attempts = attempts
        self._db = attempts.db

    def _ref(self, doc_id: str) -> Any:
        return self._db.collection(NOTIFY_FAILED).document(doc_id)

    def list(self, limit: int = LIST_DEFAULT) -> DeadLetters:
        query = (
            self._db.collection(NOTIFY_FAILED)
            .order_by("failed_at", direction=firestore.Query.DESCENDING)
            .limit(max(1, min(limit, LIST_MAX)))
        )
        with firestore_errors(reading=True):
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        return DeadLetters(failed=[DeadLetter.model_validate(as_json(s.to_dict())) for s in snaps])

    def replay(self, doc_id: str) -> Replay:
        """One more attempt, same webhook-id and body; delivered removes the dead letter."""
        with firestore_errors(reading=True):
            snap = self._ref(doc_id).get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        if not snap.exists:
            raise NotFound("no such dead letter", reason="dead_letter_not_found")
        letter = snap.to_dict()
        target = self._attempts.targets.target(str(letter["target"]))
        if target is None:
            raise NotFound(f"target {letter['target']} no longer exists", reason="target_not_found")
        if target.disabled:
            raise Conflict(
                f"target {target.name} is disabled; PUT it again to enable it", reason="target_disabled"
            )
        attempt = self._attempts.send(letter, target)
        delivered = Attempts.succeeded(attempt)
        batch = self._db.batch()
        if delivered:
            batch.delete(self._ref(doc_id))
            batch.update(
                self._db.collection(NOTIFY_DELIVERIES).document(doc_id),
                {"state": "delivered", "attempts": firestore.ArrayUnion([attempt])},
            )
        else:
            batch.update(
                self._ref(doc_id),
                {"attempts": firestore.ArrayUnion([attempt]), "attempt_count": firestore.Increment(1)},
            )
        with firestore_errors():
            batch.commit(timeout=TIMEOUT_SECONDS)
        return Replay(id=doc_id, delivered=delivered, status=attempt["status"], error=attempt["error"])
