"""The live risk settings in `settings/risk`: a short per-instance cache, and audited changes."""

from __future__ import annotations

import threading
from typing import Any

from shared.audit import AuditLog, Event
from shared.clock import Clock
from shared.firestore import READ_RETRY, SETTINGS, TIMEOUT_SECONDS, firestore_errors
from shared.risk.settings import RiskSettings

CACHE_SECONDS = 1.0
RISK_DOC = "risk"


class RiskStore:
    """Reads `settings/risk` at most once per CACHE_SECONDS per instance, so a kill switch acts fast."""

    def __init__(self, audit: AuditLog, clock: Clock, cache_seconds: float = CACHE_SECONDS) -> None:
        self._audit = audit
        self._db = audit.db
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, RiskSettings] | None = None

    def _ref(self) -> Any:
        return self._db.collection(SETTINGS).document(RISK_DOC)

    def current(self) -> RiskSettings:
        now = self._clock.now()
        with self._lock:
            if self._cached and now - self._cached[0] < self._cache_seconds:
                return self._cached[1].effective(now)
        with firestore_errors():
            snap = self._ref().get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        settings = RiskSettings.model_validate(snap.to_dict() or {}) if snap.exists else RiskSettings()
        with self._lock:
            self._cached = (now, settings)
        return settings.effective(now)

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
        return after

    def fresh(self) -> RiskSettings:
        with self._lock:
            self._cached = None
        return self.current()
