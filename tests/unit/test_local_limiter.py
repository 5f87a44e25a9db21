"""The in-process window: the naive baseline and the degraded mode's per-instance share."""

from __future__ import annotations

import pytest

from shared.clock import ManualClock
from shared.errors import RateLimited
from shared.limits.local import LocalLimiter
from shared.limits.protocol import Priority
from tests.support.limits import KEY


def test_local_window_admits_its_budget_then_reads_give_up_with_retry_after() -> None:
    """The budget goes at once; the next read learns how long until the oldest send leaves the window."""
    clock = ManualClock()
    limiter = LocalLimiter(3, 6.0, clock, read_wait=0.5, trade_wait=2.0)
    for _ in range(3):
        limiter.acquire(KEY, Priority.READ)
    clock.advance(1.0)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(KEY, Priority.READ)
    assert caught.value.retry_after == pytest.approx(6.0 - 1.0 - 0.5)
    assert clock.slept == [0.0, 0.0, 0.0]


def test_local_window_trades_wait_for_the_oldest_send_to_leave() -> None:
    """A trade within its wait of a free send time sleeps until then instead of failing."""
    clock = ManualClock()
    limiter = LocalLimiter(2, 6.0, clock, read_wait=0.5, trade_wait=2.0)
    limiter.acquire(KEY, Priority.READ)
    clock.advance(4.5)
    limiter.acquire(KEY, Priority.READ)
    limiter.acquire(KEY, Priority.TRADE)
    assert clock.slept[-1] == pytest.approx(1.5)
    assert limiter.stats.granted == 3
