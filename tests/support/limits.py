"""The limiter's test grid and a clock that stands still."""

from __future__ import annotations

from shared.clock import ManualClock
from shared.limits.schedule import Schedule

KEY = "PKTESTKEY"
# 20 requests per 6 s, as the distributed test runs the sandbox: a slot every 0.3075 s, a trade slot in 4.
SCHEDULE = Schedule(budget=20, window=6.0, guard=0.15, read_wait=0.5, trade_wait=2.0)


class FrozenClock(ManualClock):
    """Time stands still: `sleep` only records, so many callers can meet at one instant."""

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
