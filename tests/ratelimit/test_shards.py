"""The budget split over several limiter documents: each instance takes from its own shard first, from
another one's only when that one has room to spare, and a broker back-off stops them all."""

from __future__ import annotations

from typing import Any

import pytest

from shared.clock import Clock
from shared.errors import RateLimited
from shared.limits.protocol import Permit, Priority
from shared.limits.slots import SPARE_PART, SlotLimiter
from tests.ratelimit.conftest import instance
from tests.support.firestore import counting
from tests.support.limits import KEY, SCHEDULE, FrozenClock

BUDGET = SCHEDULE.budget  # each shard's
SPARE = BUDGET // SPARE_PART  # the units another instance's shard must have free to be tried


@pytest.fixture
def sharded(firestore_project: str) -> Any:
    """Instances over two shards of the test's project, each with its own Firestore client: (limiter,
    the client it writes through)."""
    from google.cloud import firestore

    def make(clock: Clock, home: int) -> tuple[SlotLimiter, Any]:
        db = firestore.Client(project=firestore_project)
        return instance(db, clock, shards=2, home=home), db

    return make


def take_all(limiter: SlotLimiter) -> list[Permit]:
    """Trades until the limiter refuses one."""
    permits: list[Permit] = []
    while True:
        try:
            permits.append(limiter.acquire(KEY, Priority.TRADE))
        except RateLimited:
            return permits


def test_a_burst_takes_the_own_shard_first_then_the_other_down_to_its_spare(sharded: Any) -> None:
    limiter, db = sharded(FrozenClock(), home=1)
    count = counting(db)
    assert len(take_all(limiter)) == BUDGET + BUDGET - SPARE + 1
    written = list(count.written_by_path)
    assert written[0] == f"ratelimit/{KEY}-1" and set(written) == {f"ratelimit/{KEY}-1", f"ratelimit/{KEY}"}


def test_a_refusal_names_the_soonest_retry_after_of_all_shards(sharded: Any) -> None:
    clock = FrozenClock()
    limiter, _ = sharded(clock, home=0)
    filled_first = clock.now()
    for _ in range(BUDGET):
        limiter.acquire(KEY, Priority.TRADE)  # the own shard, full
    clock.advance(1.0)
    for _ in range(BUDGET - SPARE + 1):
        limiter.acquire(KEY, Priority.TRADE)  # the other one, a second later
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(KEY, Priority.TRADE)
    # The own shard's units leave the window a second before the other's.
    leaves = SCHEDULE.leaves_at(SCHEDULE.bucket(filled_first)) + SCHEDULE.guard / 4
    assert caught.value.retry_after == pytest.approx(leaves - clock.now() - SCHEDULE.trade_wait, abs=0.002)


def test_another_instances_shard_with_no_room_to_spare_gets_no_commit(sharded: Any) -> None:
    clock = FrozenClock()
    first, _ = sharded(clock, home=1)
    other, other_db = sharded(clock, home=0)
    for _ in range(BUDGET - SPARE):
        first.acquire(KEY, Priority.TRADE)  # shard 1 has just its spare left
    for _ in range(BUDGET + 1):
        other.acquire(KEY, Priority.TRADE)  # its own shard, then one of shard 1's (it had not seen it)
    count = counting(other_db)
    with pytest.raises(RateLimited):
        other.acquire(KEY, Priority.TRADE)  # shard 1's last units are no spare: left to its own instances
    assert f"ratelimit/{KEY}-1" not in count.written_by_path
    first.acquire(KEY, Priority.TRADE)  # and they are still there for them


def test_a_broker_back_off_stops_the_instances_of_every_shard(sharded: Any) -> None:
    clock = FrozenClock()
    first, _ = sharded(clock, home=0)
    other, _ = sharded(clock, home=1)
    first.acquire(KEY, Priority.READ)
    reset = clock.now() + 3.0
    first.observe(KEY, 429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimited) as caught:
        other.acquire(KEY, Priority.TRADE)
    assert caught.value.retry_after is not None and caught.value.retry_after >= 3.0 - SCHEDULE.trade_wait


def test_a_unit_never_sent_goes_back_to_the_shard_that_granted_it(sharded: Any) -> None:
    limiter, db = sharded(FrozenClock(), home=0)
    for _ in range(BUDGET):
        limiter.acquire(KEY, Priority.TRADE)
    late = limiter.acquire(KEY, Priority.TRADE)  # the other shard's first unit
    count = counting(db)
    late.hand_back(1)
    assert list(count.written_by_path) == [f"ratelimit/{KEY}-1"]
    assert len(take_all(limiter)) == BUDGET - SPARE + 1  # as much of the other shard as at first
