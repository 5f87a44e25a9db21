"""Per-key rolling-window rate limit in real wall time, with the per-key request statistics."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class KeyStats:
    requests: int = 0
    rate_limited: int = 0
    max_in_window: int = 0
    faults: int = 0
    window: deque[float] = field(default_factory=deque)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "max_in_window": self.max_in_window,
            "faults": self.faults,
        }


@dataclass(frozen=True)
class Admission:
    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Admits at most `limit` requests per key in any `window` seconds; 429s are not admitted."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._stats: dict[str, KeyStats] = {}

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()

    def _prune(self, stats: KeyStats, now: float) -> None:
        while stats.window and stats.window[0] <= now - self.window:
            stats.window.popleft()

    def admit(self, key: str) -> Admission:
        now = time.time()
        with self._lock:
            stats = self._stats.setdefault(key, KeyStats())
            stats.requests += 1
            self._prune(stats, now)
            allowed = len(stats.window) < self.limit
            if allowed:
                stats.window.append(now)
                # The deque holds exactly the admissions of the window ending now: its length is exact.
                stats.max_in_window = max(stats.max_in_window, len(stats.window))
            else:
                stats.rate_limited += 1
            return self._admission(stats, now, allowed)

    def peek(self, key: str | None) -> Admission:
        """Headers for responses that are not counted (admin routes, unauthenticated requests)."""
        now = time.time()
        with self._lock:
            stats = self._stats.get(key or "")
            if stats is None:
                return Admission(True, self.limit, self.limit, math.ceil(now + self.window))
            self._prune(stats, now)
            return self._admission(stats, now, True)

    def _admission(self, stats: KeyStats, now: float, allowed: bool) -> Admission:
        oldest = stats.window[0] if stats.window else now
        return Admission(
            allowed, self.limit, max(0, self.limit - len(stats.window)), math.ceil(oldest + self.window)
        )

    def count_fault(self, key: str) -> None:
        with self._lock:
            self._stats.setdefault(key, KeyStats()).faults += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            keys = {key: stats.to_json() for key, stats in self._stats.items()}
        return {"keys": keys, "window_seconds": self.window, "limit": self.limit}
