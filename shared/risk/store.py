"""The live risk settings in `settings/risk`: a snapshot listener (a short cache until it runs), and
audited changes."""

from __future__ import annotations

import logging
import threading
from typing import Any

from shared.audit import AuditLog, Event
from shared.clock import Clock
from shared.firestore import READ_RETRY, SETTINGS, TIMEOUT_SECONDS, firestore_errors
from shared.risk.settings import RiskSettings

CACHE_SECONDS = 1.0
RISK_DOC = "risk"

log = logging.getLogger("execution_engine")


class RiskStore:
    """The live settings with no read per order: once an instance reads them a second time, a snapshot
    listener keeps them (Firestore pushes a change to every instance within a fraction of a second);
    until it has its first snapshot, or if it stops, reads are cached for CACHE_SECONDS."""

    def __init__(
        self, audit: AuditLog, clock: Clock, cache_seconds: float = CACHE_SECONDS, listen: bool = True
    ) -> None:
        self._audit = audit
        self._db = audit.db
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, RiskSettings] | None = None
        self._listen = listen
        self._watch: Any = None
        self._live: RiskSettings | None = None

    def _ref(self) -> Any:
        return self._db.collection(SETTINGS).document(RISK_DOC)

    def current(self) -> RiskSettings:
        now = self._clock.now()
        with self._lock:
            if self._live is not None and not getattr(self._watch, "_closed", True):
                return self._live.effective(now)
            if self._cached and now - self._cached[0] < self._cache_seconds:
                return self._cached[1].effective(now)
            first = self._cached is None
        if not first:
            self._start_listening()
        with firestore_errors():
            snap = self._ref().get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        settings = RiskSettings.model_validate(snap.to_dict() or {}) if snap.exists else RiskSettings()
        with self._lock:
            self._cached = (now, settings)
        return settings.effective(now)

    def _start_listening(self) -> None:
        """An instance that reads the settings again keeps them through a listener from then on."""
        with self._lock:
            if not self._listen or self._watch is not None:
                return
            self._watch = False  # started once, whatever happens
        try:
            watch = self._ref().on_snapshot(self._on_snapshot)
        except Exception as exc:  # the cache keeps working without it
            log.warning("risk settings listener not started (%s)", type(exc).__name__)
            return
        with self._lock:
            self._watch = watch

    def _on_snapshot(self, snapshots: list[Any], changes: Any, read_time: Any) -> None:
        snap = snapshots[0] if snapshots else None
        try:
            settings = (
                RiskSettings.model_validate(snap.to_dict() or {})
                if snap is not None and snap.exists
                else RiskSettings()
            )
        except ValueError:
            log.error("risk settings in Firestore are invalid; the listener keeps the last good ones")
            return
        with self._lock:
            self._live = settings

    def close(self) -> None:
        """Stop the listener (a gateway that is replaced or shut down); reads fall back to the cache."""
        with self._lock:
            watch, self._watch = self._watch, False
        if watch:
            watch.unsubscribe()

    def update(self, changes: dict[str, Any], caller: str, request_id: str | None = None) -> RiskSettings:
        """Merge `changes` (null clears a field) into the live settings; audited in the same commit."""
        before = self.fresh()
        applied = dict(changes)
        if "trading_state" in changes and "reactivate_at" not in changes:
            applied["reactivate_at"] = None  # a state set by hand stays until it is changed again
        merged = {**before.stored(), **applied}
        merged["updated_at"] = self._audit.now().isoformat()
        merged["updated_by"] = caller
        after = RiskSettings.model_validate(merged)
        batch = self._db.batch()
        batch.set(self._ref(), after.stored())
        event = self._audit.event(
            Event.RISK_UPDATED, caller, request_id, changes=sorted(changes), before=before.stored()
        )
        batch.create(self._audit.ref(), {**event, "after": after.stored()})
        with firestore_errors():
            batch.commit(retry=None, timeout=TIMEOUT_SECONDS)
        with self._lock:
            self._cached = None
            if self._live is not None:
                self._live = after  # this instance acts on its own change at once
        return after

    def fresh(self) -> RiskSettings:
        """Read from Firestore, whatever is cached (before a change is merged into it)."""
        with self._lock:
            self._cached = None
            listening, self._live = self._live is not None, None
        settings = self.current()
        with self._lock:
            if listening and self._live is None:
                self._live = settings
        return settings
