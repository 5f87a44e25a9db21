"""`position_snapshots`: account equity, cash, buying power and every position at one time; one
document per Cloud Scheduler schedule time, so duplicate deliveries take it once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from google.cloud import firestore

from shared.alpaca.client import AlpacaClient
from shared.clock import EASTERN, Clock
from shared.firestore import (
    POSITION_SNAPSHOTS,
    READ_RETRY,
    TIMEOUT_SECONDS,
    Duplicate,
    as_json,
    firestore_errors,
)
from shared.limits.protocol import Priority
from shared.models import Account, Position

CLAIM_SECONDS = 60.0  # a claim older than this, never completed, is taken over
LIST_MAX = 500


class Snapshots:
    def __init__(self, alpaca: AlpacaClient, db: Any, clock: Clock) -> None:
        self._alpaca = alpaca
        self._db = db
        self._clock = clock

    def take(self, run_key: str, schedule_time: datetime | None) -> dict[str, Any]:
        """Claim `snapshot_<run key>`, then read the account and positions once and write them."""
        ref = self._db.collection(POSITION_SNAPSHOTS).document(f"snapshot_{run_key}")
        now = datetime.fromtimestamp(self._clock.now(), UTC)
        try:
            with firestore_errors():
                ref.create({"state": "taking", "claimed_at": now}, retry=None, timeout=TIMEOUT_SECONDS)
        except Duplicate:
            with firestore_errors(reading=True):
                existing = dict(ref.get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS).to_dict() or {})
            claimed: datetime | None = existing.get("claimed_at")
            fresh = claimed is not None and (now - claimed).total_seconds() < CLAIM_SECONDS
            if existing.get("state") == "taken" or fresh:
                return {**self._answer(ref.id, existing), "duplicate": True}
        account = Account.from_alpaca(self._alpaca.account(priority=Priority.TRADE))
        positions = [Position.from_alpaca(p) for p in self._alpaca.positions(priority=Priority.TRADE)]
        day = (schedule_time or now).astimezone(EASTERN).date()
        record = {
            "state": "taken",
            "claimed_at": now,
            "taken_at": now,
            "schedule_time": schedule_time,
            "date": day.isoformat(),
            "equity": format(account.equity, "f"),
            "cash": format(account.cash, "f"),
            "buying_power": format(account.buying_power, "f"),
            "positions": [p.model_dump(mode="json") for p in positions],
        }
        with firestore_errors():
            ref.set(record, retry=None, timeout=TIMEOUT_SECONDS)
        return self._answer(ref.id, record)

    def on(self, day: date) -> list[dict[str, Any]]:
        """The snapshots of one exchange date, newest first."""
        query = (
            self._db.collection(POSITION_SNAPSHOTS)
            .where(filter=firestore.FieldFilter("date", "==", day.isoformat()))
            .where(filter=firestore.FieldFilter("state", "==", "taken"))
            .limit(LIST_MAX)
        )
        with firestore_errors(reading=True):
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        found = [self._answer(s.id, s.to_dict() or {}) for s in snaps]
        return sorted(found, key=lambda s: str(s.get("taken_at")), reverse=True)

    def _answer(self, doc_id: str, record: dict[str, Any]) -> dict[str, Any]:
        hidden = {"claimed_at", "state"}
        return {"id": doc_id, **{k: as_json(v) for k, v in record.items() if k not in hidden}}
