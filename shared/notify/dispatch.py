"""Delivery: one `notify_deliveries` document per (audit event, target), each attempt recorded on it.

The first attempt is immediate; failures are retried after about 5 s, 5 min, 30 min and 2 h (the due
ones run on each notification and each order sync); after the last a delivery becomes a dead letter.
A 410 disables the target. Every attempt of one delivery carries the same `webhook-id`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.clock import Clock
from shared.firestore import NOTIFY_DELIVERIES, NOTIFY_FAILED, TIMEOUT_SECONDS, Duplicate, firestore_errors
from shared.notify import signing
from shared.notify.payloads import encode, payload
from shared.notify.targets import Target, TargetStore
from shared.notify.urls import UnsafeUrl

log = logging.getLogger("execution_engine")
SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0)  # the wait before each attempt: immediately, 5 s, ...
LEASE_SECONDS = 60.0  # an attempt under way holds its delivery this long
DUE_MAX = 50


def delivery_id(event_id: str, target: str) -> str:
    return hashlib.sha256(f"{event_id}\n{target}".encode()).hexdigest()[:32]


class Attempts:
    """Sends one attempt of a delivery and records it; shared by the dispatcher and the replays."""

    def __init__(
        self,
        db: Any,
        targets: TargetStore,
        http: httpx.Client,
        clock: Clock,
        check_url: Any,
        timeout: float,
    ) -> None:
        self.db = db
        self.targets = targets
        self._http = http
        self.clock = clock
        self._check_url = check_url
        self._timeout = timeout

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def send(self, delivery: Mapping[str, Any], target: Target) -> dict[str, Any]:
        """One signed POST; the attempt as recorded: when, the status (None: no answer) and any error."""
        body = str(delivery["body"]).encode()
        started = time.monotonic()
        attempt: dict[str, Any] = {"at": self.now(), "status": None, "error": None}
        try:
            self._check_url(target.url)  # again: DNS may have changed since the target was saved
            stamp = int(self.clock.now())
            headers = signing.headers(target.secret, str(delivery["message_id"]), stamp, body)
            response = self._http.post(
                target.url, content=body, headers=headers, timeout=self._timeout, follow_redirects=False
            )
            attempt["status"] = response.status_code
        except UnsafeUrl as exc:
            attempt["error"] = exc.reason
        except httpx.HTTPError as exc:
            attempt["error"] = type(exc).__name__
        attempt["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        return attempt

    @staticmethod
    def succeeded(attempt: Mapping[str, Any]) -> bool:
        status = attempt.get("status")
        return isinstance(status, int) and 200 <= status < 300


class Dispatcher:
    def __init__(self, attempts: Attempts) -> None:
        self._attempts = attempts
        self._db = attempts.db
        self._targets = attempts.targets

    def _ref(self, doc_id: str) -> Any:
        return self._db.collection(NOTIFY_DELIVERIES).document(doc_id)

    def on_event(self, event_id: str, event: Mapping[str, Any]) -> int:
        """An audit event was created: deliver it to each target that wants its type; then due retries."""
        kind = str(event.get("type") or "")
        sent = 0
        for target in self._targets.targets():
            if not target.wants(kind):
                continue
            delivery = self._create(event_id, event, target)
            if delivery is not None:  # None: a redelivered CloudEvent; its delivery exists
                self._attempt(delivery, target)
                sent += 1
        self.retry_due()
        return sent

    def _create(self, event_id: str, event: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
        doc_id = delivery_id(event_id, target.name)
        delivery = {
            "id": doc_id,
            "message_id": f"msg_{doc_id}",
            "event_id": event_id,
            "type": str(event.get("type")),
            "target": target.name,
            "body": encode(payload(event_id, event), target.format).decode(),
            "state": "pending",
            "attempts": [],
            "attempt_count": 0,
            "next_attempt_at": self._attempts.now() + timedelta(seconds=LEASE_SECONDS),
            "created_at": firestore.SERVER_TIMESTAMP,
        }
        try:
            with firestore_errors():
                self._ref(doc_id).create(delivery, retry=None, timeout=TIMEOUT_SECONDS)
        except Duplicate:
            return None
        return delivery

    def retry_due(self) -> int:
        """Attempt the deliveries whose next attempt is due, each claimed so only one instance sends."""
        now = self._attempts.now()
        query = (
            self._db.collection(NOTIFY_DELIVERIES)
            .where(filter=firestore.FieldFilter("next_attempt_at", "<=", now))
            .order_by("next_attempt_at")
            .limit(DUE_MAX)
        )
        with firestore_errors(reading=True):
            due = list(query.stream(timeout=TIMEOUT_SECONDS))
        done = 0
        for snap in due:
            lease = {"next_attempt_at": now + timedelta(seconds=LEASE_SECONDS)}
            try:
                snap.reference.update(
                    lease,
                    option=self._db.write_option(last_update_time=snap.update_time),
                    timeout=TIMEOUT_SECONDS,
                )
            except (gexc.FailedPrecondition, gexc.NotFound):
                continue  # another instance took it
            delivery = snap.to_dict()
            target = self._targets.target(str(delivery["target"]))
            if target is None or target.disabled:
                self._dead(delivery, [], "target_removed" if target is None else "target_disabled")
            else:
                self._attempt(delivery, target)
            done += 1
        return done

    def _attempt(self, delivery: dict[str, Any], target: Target) -> None:
        attempt = self._attempts.send(delivery, target)
        count = int(delivery.get("attempt_count") or 0) + 1
        ref = self._ref(str(delivery["id"]))
        recorded = {"attempts": firestore.ArrayUnion([attempt]), "attempt_count": count}
        if Attempts.succeeded(attempt):
            update = {**recorded, "state": "delivered", "next_attempt_at": firestore.DELETE_FIELD}
            with firestore_errors():
                ref.update(update, timeout=TIMEOUT_SECONDS)
            return
        log.warning(
            "notification %s to %s: attempt %d failed (%s)",
            delivery["id"],
            target.name,
            count,
            attempt["status"] or attempt["error"],
        )
        if attempt["status"] == 410:
            self._targets.disable(target.name, "the receiver answered 410 Gone")
            self._dead({**delivery, "attempt_count": count}, [attempt], "target_gone")
        elif count >= len(SCHEDULE):
            self._dead({**delivery, "attempt_count": count}, [attempt], "attempts_exhausted")
        else:
            wait = timedelta(seconds=SCHEDULE[count])
            with firestore_errors():
                ref.update(
                    {**recorded, "next_attempt_at": self._attempts.now() + wait}, timeout=TIMEOUT_SECONDS
                )

    def _dead(self, delivery: Mapping[str, Any], last: list[dict[str, Any]], reason: str) -> None:
        """The delivery's last attempt failed: it leaves the retry schedule for `notify_failed`."""
        attempts = [*(delivery.get("attempts") or []), *last]
        letter = {
            "id": delivery["id"],
            "message_id": delivery["message_id"],
            "event_id": delivery["event_id"],
            "type": delivery["type"],
            "target": delivery["target"],
            "body": delivery["body"],
            "reason": reason,
            "attempts": attempts,
            "attempt_count": delivery.get("attempt_count") or len(attempts),
            "failed_at": self._attempts.now(),
        }
        batch = self._db.batch()
        batch.set(self._db.collection(NOTIFY_FAILED).document(str(delivery["id"])), letter)
        batch.update(
            self._ref(str(delivery["id"])),
            {"state": "dead", "attempts": attempts, "next_attempt_at": firestore.DELETE_FIELD},
        )
        with firestore_errors():
            batch.commit(timeout=TIMEOUT_SECONDS)
