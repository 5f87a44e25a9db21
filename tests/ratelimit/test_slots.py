"""The Firestore slot limiter on the emulator, single process, with injected clocks."""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.clock import Clock, ManualClock, SystemClock
from shared.errors import RateLimited, Unavailable
from shared.limits.protocol import Priority
from shared.limits.schedule import Schedule
from shared.limits.slots import SlotLimiter
from tests.ratelimit.conftest import instance
from tests.support.limits import KEY, SCHEDULE, FrozenClock

Instances = Callable[[Clock], SlotLimiter]


def saturate(limiter: SlotLimiter, priority: Priority = Priority.READ) -> int:
    """Acquire until refused; return how many were granted."""
    granted = 0
    while True:
        try:
            limiter.acquire(KEY, priority)
        except RateLimited:
            return granted
        granted += 1


def test_sequential_reads_get_consecutive_slots_of_the_grid(instances: Instances) -> None:
    """One caller after another is sent one interval apart, on slot starts, from a cold counter."""
    clock = ManualClock()
    limiter = instances(clock)
    starts = []
    for _ in range(6):
        limiter.acquire(KEY, Priority.READ)
        starts.append(clock.now())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap <= 2 * SCHEDULE.interval + 1e-6 for gap in gaps)
    assert sum(gaps) <= 5 * SCHEDULE.interval * SCHEDULE.trade_every / (SCHEDULE.trade_every - 1) + 1e-6
    assert limiter.stats.granted == 6 and limiter.stats.wasted == 0


def test_reads_give_up_with_retry_after_when_slots_within_their_wait_are_taken(instances: Instances) -> None:
    """A read that cannot start within its wait gets RateLimited and exactly how long to wait."""
    clock = FrozenClock()
    for _ in range(4):
        saturate(instances(clock))
    late = instances(clock)
    with pytest.raises(RateLimited) as caught:
        late.acquire(KEY, Priority.READ)
    retry_after = caught.value.retry_after
    assert retry_after is not None and retry_after > 0
    clock.advance(retry_after)
    late.acquire(KEY, Priority.READ)
    assert clock.slept[-1] <= SCHEDULE.read_wait + 1e-6


def test_refused_reads_waste_no_slot(instances: Instances) -> None:
    """Refusals cost nothing: each instance holds at most one slot ahead, and later uses it."""
    clock = FrozenClock()
    limiters = [instances(clock) for _ in range(3)]
    for limiter in limiters:
        saturate(limiter)
    for _ in range(50):
        for limiter in limiters:
            with pytest.raises(RateLimited):
                limiter.acquire(KEY, Priority.READ)
    assert sum(limiter.stats.rejected for limiter in limiters) == 153
    assert sum(len(key.pool) for limiter in limiters for key in limiter._keys.values()) <= 3
    assert all(limiter.stats.wasted == 0 for limiter in limiters)


def test_every_slot_goes_to_one_caller_across_instances_and_threads(instances: Instances) -> None:
    """Concurrent callers on several instances never share a slot."""
    clock = FrozenClock()
    limiters = [instances(clock) for _ in range(4)]

    def hammer(limiter: SlotLimiter) -> None:
        for _ in range(20):
            with contextlib.suppress(RateLimited):
                limiter.acquire(KEY, Priority.READ if len(clock.slept) % 3 else Priority.TRADE)

    threads = [threading.Thread(target=hammer, args=(lim,)) for lim in limiters for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts = [round(clock.now() + wait, 6) for wait in clock.slept]
    assert len(starts) == sum(limiter.stats.granted for limiter in limiters) > 0
    assert len(set(starts)) == len(starts)


def test_trade_gets_its_slot_within_its_wait_while_reads_saturate(instances: Instances) -> None:
    """Reads on eight instances hold every slot they may; an order still starts within 2 s."""
    clock = FrozenClock()
    for _ in range(8):
        saturate(instances(clock))
    trader = instances(clock)
    trader.acquire(KEY, Priority.TRADE)
    assert 0 <= clock.slept[-1] <= SCHEDULE.trade_wait
    with pytest.raises(RateLimited):
        trader.acquire(KEY, Priority.READ)


@pytest.mark.timeout(60)
def test_sends_never_exceed_the_budget_in_any_rolling_window(firestore_project: str) -> None:
    """Real time, four instances, twelve threads: no window of the budget's length holds more."""
    from google.cloud import firestore

    schedule = Schedule(budget=8, window=1.5, guard=0.1, read_wait=0.3, trade_wait=1.0)
    clock = SystemClock()
    limiters = [instance(firestore.Client(project=firestore_project), clock, schedule) for _ in range(4)]
    sends: list[float] = []
    lock = threading.Lock()
    stop = time.time() + 4.5

    def drive(limiter: SlotLimiter) -> None:
        while time.time() < stop:
            try:
                limiter.acquire(KEY, Priority.READ)
            except RateLimited:
                time.sleep(0.02)
                continue
            with lock:
                sends.append(time.time())

    threads = [threading.Thread(target=drive, args=(lim,)) for lim in limiters for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    busiest = max(sum(1 for s in sends if start <= s < start + schedule.window) for start in sends)
    assert busiest <= schedule.budget
    assert len(sends) >= 3 * schedule.budget - 1


def test_upstream_429_makes_every_instance_wait_until_reset(instances: Instances) -> None:
    """A 429 seen by one instance stops the others, through Firestore, until X-RateLimit-Reset."""
    clock = ManualClock()
    first, other = instances(clock), instances(clock)
    first.acquire(KEY, Priority.READ)
    reset = clock.now() + 3.0
    first.observe(KEY, 429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimited) as caught:
        other.acquire(KEY, Priority.READ)
    assert caught.value.retry_after is not None and caught.value.retry_after >= 3.0 - 0.5 - 1e-6
    with pytest.raises(RateLimited):
        other.acquire(KEY, Priority.TRADE)
    clock.advance(1.5)
    other.acquire(KEY, Priority.TRADE)
    assert clock.now() >= reset


def test_remaining_zero_backs_off_when_someone_else_spends_the_key(instances: Instances) -> None:
    """Remaining 0 under a limit above our budget means another client: everyone waits for Reset."""
    clock = ManualClock()
    first, other = instances(clock), instances(clock)
    reset = clock.now() + 4.0
    headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    first.observe(KEY, 200, headers)
    with pytest.raises(RateLimited):
        other.acquire(KEY, Priority.READ)
    assert first.stats.feedback == 1


def test_remaining_zero_at_our_own_budget_is_the_schedule_working(instances: Instances) -> None:
    """When the upstream limit is our budget, a full window is expected and costs no back-off."""
    clock = ManualClock()
    first, other = instances(clock), instances(clock)
    reset = clock.now() + 4.0
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    first.observe(KEY, 200, headers)
    other.acquire(KEY, Priority.READ)
    assert first.stats.feedback == 0


def test_reads_fall_back_to_the_instance_share_when_firestore_is_unreachable(
    dead_firestore: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Firestore down: reads get budget / MAX_INSTANCES per window from this instance alone, logged."""
    clock = ManualClock()
    limiter = instance(dead_firestore, clock, max_instances=10)
    with caplog.at_level(logging.WARNING, logger="execution_engine.ratelimit"):
        limiter.acquire(KEY, Priority.READ)
        limiter.acquire(KEY, Priority.READ)
        with pytest.raises(RateLimited):
            limiter.acquire(KEY, Priority.READ)
    assert limiter.stats.degraded_reads == 3
    assert "unreachable" in caplog.text
    assert "read served from this instance's share" in caplog.text


def test_orders_fail_closed_with_503_when_firestore_is_unreachable(
    dead_firestore: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Firestore down: a trade is refused with 503 and Retry-After, never sent unmetered, and logged."""
    limiter = instance(dead_firestore, ManualClock())
    with (
        caplog.at_level(logging.WARNING, logger="execution_engine.ratelimit"),
        pytest.raises(Unavailable) as caught,
    ):
        limiter.acquire(KEY, Priority.TRADE)
    assert caught.value.status == 503
    assert caught.value.reason == "rate_limiter_unavailable"
    assert caught.value.retry_after
    assert "order refused" in caplog.text
