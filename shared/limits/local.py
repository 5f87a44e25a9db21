"""An exact sliding window kept in one process: the naive baseline and the degraded mode's share."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping

from shared.clock import Clock
from shared.errors import RateLimited
from shared.limits.protocol import LimiterStats, Permit, Priority


class LocalLimiter:
    """An exact sliding window kept in this process only: the naive baseline and the degraded mode.

    Each caller reserves the earliest send time that keeps `budget` sends per `window`; a caller
    that would wait longer than its priority allows gets RateLimited and reserves nothing.
    """

    def __init__(
        self, budget: int, window: float, clock: Clock, *, read_wait: float, trade_wait: float
    ) -> None:
        self.budget = max(1, budget)
        self.window = window
        self.stats = LimiterStats()
        self._clock = clock
        self._waits = {Priority.READ: read_wait, Priority.TRADE: trade_wait}
        self._sends: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, priority: Priority, units: int = 1) -> Permit:
        for _ in range(units):
            self._one(key, priority)
        return Permit(key, units, None)  # no last instant, so none comes back late

    def _one(self, key: str, priority: Priority) -> None:
        with self._lock:
            now = self._clock.now()
            sends = self._sends.setdefault(key, deque())
            while sends and sends[0] <= now - self.window:
                sends.popleft()
            at = now if len(sends) < self.budget else max(now, sends[-self.budget] + self.window)
            wait = at - now
            if wait > self._waits[priority]:
                self.stats.add(rejected=1)
                raise RateLimited(
                    "the upstream rate budget is spent", retry_after=wait - self._waits[priority]
                )
            sends.append(at)
            self.stats.add(granted=1)
        self._clock.sleep(wait)

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        return None
