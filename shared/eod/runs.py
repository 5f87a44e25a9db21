"""`eod_runs`: one document per run, created once (the lock), leased while it works, resumed when its
worker died part way, and the record of every step and outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.clock import Clock
from shared.firestore import (
    EOD_RUNS,
    READ_RETRY,
    TIMEOUT_SECONDS,
    Duplicate,
    as_json,
    audit_unavailable,
    firestore_errors,
)

LEASE_SECONDS = 30.0  # a running run whose worker has not written for this long is taken over


class RunState(StrEnum):
    RUNNING = "running"
    DONE = "done"  # every symbol it had to close is flat
    INCOMPLETE = "incomplete"  # the deadline passed with a symbol not flat; a later delivery resumes it


class Claim(StrEnum):
    NEW = "new"  # this delivery created the run
    RESUMED = "resumed"  # the run was left unfinished (its worker died, or it ended incomplete)
    BUSY = "busy"  # another delivery is working on it now
    FINISHED = "finished"  # it is done (or, when not resumable, ended): nothing more to do


class Runs:
    """The run documents. Only the holder of a run's lease writes to it."""

    def __init__(self, db: Any, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def _ref(self, run_id: str) -> Any:
        return self._db.collection(EOD_RUNS).document(run_id)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    def get(self, run_id: str) -> dict[str, Any] | None:
        with firestore_errors(reading=True):
            snap = self._ref(run_id).get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        return dict(snap.to_dict() or {}) if snap.exists else None

    def claim(
        self, run_id: str, fields: dict[str, Any], owner: str, *, resume_incomplete: bool = True
    ) -> tuple[Claim, dict[str, Any]]:
        """Create the run, or say why not: busy elsewhere, finished, or left unfinished (then taken over)."""
        now = self.now()
        record = {
            **fields,
            "state": RunState.RUNNING.value,
            "owner": owner,
            "started_at": now,
            "lease_until": now + timedelta(seconds=LEASE_SECONDS),
            "resumes": 0,
            "steps": [],
            "created_at": firestore.SERVER_TIMESTAMP,
        }
        ref = self._ref(run_id)
        try:
            with firestore_errors():
                ref.create(record, retry=None, timeout=TIMEOUT_SECONDS)
            return Claim.NEW, record
        except Duplicate:
            pass
        with firestore_errors(reading=True):
            snap = ref.get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        existing = dict(snap.to_dict() or {})
        state = existing.get("state")
        if state == RunState.DONE or (state == RunState.INCOMPLETE and not resume_incomplete):
            return Claim.FINISHED, existing
        if state == RunState.RUNNING and existing["lease_until"] > now:
            return Claim.BUSY, existing
        takeover = {
            "state": RunState.RUNNING.value,
            "owner": owner,
            "lease_until": now + timedelta(seconds=LEASE_SECONDS),
            "resumes": int(existing.get("resumes", 0)) + 1,
        }
        try:
            ref.update(
                takeover,
                option=self._db.write_option(last_update_time=snap.update_time),
                retry=None,
                timeout=TIMEOUT_SECONDS,
            )
        except gexc.FailedPrecondition:
            return Claim.BUSY, existing  # another delivery took it over first
        except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
            raise audit_unavailable() from exc
        return Claim.RESUMED, {**existing, **takeover}

    def save(self, run_id: str, fields: dict[str, Any]) -> None:
        """Write the run's progress and extend its lease."""
        update = {**fields, "lease_until": self.now() + timedelta(seconds=LEASE_SECONDS)}
        with firestore_errors():
            self._ref(run_id).update(update, retry=None, timeout=TIMEOUT_SECONDS)

    def release(self, run_id: str) -> None:
        """End this worker's lease early (it failed): the next delivery resumes the run at once."""
        with firestore_errors():
            self._ref(run_id).update({"lease_until": self.now()}, retry=None, timeout=TIMEOUT_SECONDS)


def report(run_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """A run as answered: JSON values, without the lease bookkeeping."""
    hidden = {"owner", "lease_until", "created_at"}
    return {"run": run_id, **{k: as_json(v) for k, v in sorted(record.items()) if k not in hidden}}


class Progress:
    """The record of the run this delivery holds: every step appended, every change written at once."""

    def __init__(self, runs: Runs, run_id: str, record: dict[str, Any]) -> None:
        self._runs = runs
        self.run_id = run_id
        self.record = record
        record.setdefault("steps", [])
        record.setdefault("symbols", [])

    def step(self, name: str, **detail: Any) -> None:
        self.record["steps"].append({"at": self._runs.now(), "step": name, **detail})
        self.save()

    def save(self) -> None:
        fields = {k: v for k, v in self.record.items() if k in PROGRESS_FIELDS}
        self._runs.save(self.run_id, fields)


PROGRESS_FIELDS = frozenset(
    {
        "steps",
        "symbols",
        "before",
        "after",
        "left_alone",
        "trading_state_before",
        "reactivate_at",
        "deadline_at",
        "state",
        "finished_at",
    }
)
