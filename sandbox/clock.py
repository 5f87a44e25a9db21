"""Sandbox time: real by default, or set, frozen and advanced by the admin routes; RFC3339 helpers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")  # crypto daily bars start at midnight Central time, as Alpaca's do


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(text: str) -> datetime:
    """RFC3339 or a bare date (midnight UTC); naive values are taken as UTC. Raises ValueError."""
    raw = text.strip().replace(" ", "+") if "T" in text else text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    if "." in raw:
        # Python parses at most 6 fractional digits; Alpaca sends up to 9.
        head, _, rest = raw.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        raw = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and a Z, as orders and activities carry."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def eastern_iso(moment: datetime) -> str:
    """Eastern time with its offset, as /v2/clock answers."""
    return moment.astimezone(EASTERN).isoformat()


class SandboxClock:
    """The market clock: an anchor instant that either stands still or runs with real time."""

    def __init__(self, start: datetime | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._initial = (start, frozen)
        self._anchor: datetime | None = None
        self._anchor_mono = 0.0
        self._frozen = False
        self.set(start, frozen)

    def reset(self) -> None:
        self.set(*self._initial)

    def set(self, now: datetime | None, frozen: bool) -> None:
        with self._lock:
            if now is None and frozen:
                now = utc_now()
            self._anchor = now
            self._anchor_mono = time.monotonic()
            self._frozen = frozen

    def now(self) -> datetime:
        with self._lock:
            if self._anchor is None:
                return utc_now()
            if self._frozen:
                return self._anchor
            return self._anchor + timedelta(seconds=time.monotonic() - self._anchor_mono)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def advance(self, seconds: float) -> datetime:
        current = self.now()
        target = current + timedelta(seconds=seconds)
        self.set(target, self._frozen)
        return target
