"""One time budget per request for the broker, shared by its retries and lookups.

The budget starts when the request first talks to the broker (after its first rate-limiter slot),
so each attempt gets what is left of it; Firestore steps are bounded by their own short timeouts.
"""

from __future__ import annotations

import threading

from shared.clock import Clock

TRADE_SECONDS = 2.5  # an order, cancel or close: a webhook sender gives up after about 3 s
READ_SECONDS = 5.0


class Deadline:
    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._at: float | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left; the first call starts the budget."""
        now = self._clock.now()
        with self._lock:
            if self._at is None:
                self._at = now + self._seconds
            return max(0.0, self._at - now)
