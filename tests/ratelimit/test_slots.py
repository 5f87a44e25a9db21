"""The Firestore window limiter on the emulator, single process, with injected clocks."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.clock import Clock, ManualClock, SystemClock
from shared.errors import RateLimited, Unavailable
from shared.limits.protocol import Priority
from shared.limits.schedule import EPOCH, Schedule
from shared.limits.slots import SlotLimiter
from tests.ratelimit.conftest import instance
from tests.support.firestore import counting, delayed_commits
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


def test_sparse_requests_are_sent_at_once_with_one_write_each(firestore_project: str) -> None:
    """One request every half second, well under the budget: no sleep, one commit of one write each."""
    from google.cloud import firestore

    db = firestore.Client(project=firestore_project)
    clock = ManualClock()
    limiter = instance(db, clock)
    limiter.acquire(KEY, Priority.READ)  # the first ever resets its bucket's cell first
    count = counting(db)
    for n in range(10):
        clock.advance(0.5)
        limiter.acquire(KEY, Priority.READ if n % 2 else Priority.TRADE)
    assert clock.slept == []
    assert count.calls == {"commit": 10}
    assert count.documents_written == 10
    assert limiter.stats.lost == 0


def test_on_a_slow_host_commits_aim_at_a_bucket_still_open_when_they_return(firestore_project: str) -> None:
    """Commits of 1.5 buckets started mid-bucket would return after their bucket closed and be lost;
    once two latencies are known, each commit targets the next bucket and is granted first time."""
    from google.cloud import firestore

    db = firestore.Client(project=firestore_project)
    width = SCHEDULE.width
    clock = ManualClock(EPOCH + 0.5 * width)
    limiter = instance(db, clock)
    delayed_commits(db, lambda: clock.advance(1.5 * width))  # each commit takes 1.5 buckets
    for _ in range(2):  # the latencies are learned
        limiter.acquire(KEY, Priority.READ)
        clock.advance(10 * width - clock.now() % width + 0.5 * width)
    lost = limiter.stats.lost
    for _ in range(6):
        limiter.acquire(KEY, Priority.READ)
        clock.advance(10 * width - clock.now() % width + 0.5 * width)
    assert limiter.stats.lost == lost


REAL = Schedule(budget=190, window=60.0, guard=0.25, read_wait=0.5, trade_wait=2.0)


def test_sparse_reads_at_the_real_budget_spend_a_lease_between_commits(firestore_project: str) -> None:
    """One read every half second against 190 per minute: once the demand shows, each commit leases the
    next buckets' units, so most reads make no commit at all, and none sleeps."""
    from google.cloud import firestore

    db = firestore.Client(project=firestore_project)
    clock = ManualClock()
    limiter = instance(db, clock, REAL)
    count = counting(db)
    for _ in range(20):
        limiter.acquire(KEY, Priority.READ)
        clock.advance(REAL.width)
    assert clock.slept == []
    assert limiter.stats.granted == 20 and limiter.stats.leased >= 12
    assert count.calls["commit"] <= 8


def test_a_lease_takes_only_the_units_that_fit(firestore_project: str) -> None:
    """An instance whose last buckets showed demand asks for its read's unit and a lease; with two units
    left above the orders' reserve it gets its own and one leased, which it spends in the next bucket
    with no commit."""
    from google.cloud import firestore

    clock = FrozenClock()
    reader = instance(firestore.Client(project=firestore_project), clock, REAL)
    other = instance(firestore.Client(project=firestore_project), clock, REAL)
    for _ in range(5):  # one a bucket: the demand, its leases spent
        reader.acquire(KEY, Priority.READ)
        clock.advance(REAL.width)
    assert reader.stats.leased == 3
    other.acquire(KEY, Priority.READ, units=REAL.budget - REAL.reserve - 5 - 2)  # no lease of its own
    reader.acquire(KEY, Priority.READ)
    clock.advance(REAL.width)
    commits = reader.stats.commits
    reader.acquire(KEY, Priority.READ)
    assert reader.stats.commits == commits and reader.stats.leased == 4


def leased_for_the_next_buckets(limiter: SlotLimiter, clock: ManualClock) -> None:
    """One read a bucket for six buckets: the last commit (the demand shown, the first lease spent) leases
    one unit in each of the next three."""
    for _ in range(6):
        limiter.acquire(KEY, Priority.READ)
        clock.advance(REAL.width)


def test_a_claim_spends_a_leased_unit_with_no_write(firestore_project: str) -> None:
    """An order's claim takes its unit from the lease when it holds one: nothing rides in the claim's
    commit, and the permit is granted."""
    from google.cloud import firestore

    db = firestore.Client(project=firestore_project)
    clock = ManualClock()
    limiter = instance(db, clock, REAL)
    leased_for_the_next_buckets(limiter, clock)
    count = counting(db)
    reservation = limiter.prepare(KEY)
    assert reservation is not None and reservation.writes == ()
    permit = reservation.settle([])
    assert permit is not None and permit.take(KEY, clock.now())
    assert count.calls == {}


def test_a_failed_claim_leaves_the_lease_as_it_was(firestore_project: str) -> None:
    """The lease's unit is spent only once the claim's commit is in: a claim that failed (a duplicate
    key) settles nothing, and the next claim finds the unit still there."""
    from google.cloud import firestore

    clock = ManualClock()
    limiter = instance(firestore.Client(project=firestore_project), clock, REAL)
    leased_for_the_next_buckets(limiter, clock)
    failed = limiter.prepare(KEY)
    assert failed is not None and failed.writes == ()
    second = limiter.prepare(KEY)
    assert second is not None and second.writes == ()
    assert second.settle([]) is not None


def test_a_claim_whose_leased_unit_went_meanwhile_acquires_as_usual(firestore_project: str) -> None:
    """Two claims counted on the lease's one unit: the first to settle spends it, the other gets no
    permit (its caller then acquires a unit of its own)."""
    from google.cloud import firestore

    clock = ManualClock()
    limiter = instance(firestore.Client(project=firestore_project), clock, REAL)
    leased_for_the_next_buckets(limiter, clock)
    first, second = limiter.prepare(KEY), limiter.prepare(KEY)
    assert first is not None and second is not None
    assert first.settle([]) is not None
    assert second.settle([]) is None


def test_a_refused_caller_hands_back_its_instances_unspent_lease(firestore_project: str) -> None:
    """The window is full and this instance has seen it: a read is refused without a commit, and the
    lease's units of buckets gone by unspent go back to the window then, not at some later commit."""
    from google.cloud import firestore

    clock = ManualClock()
    reader = instance(firestore.Client(project=firestore_project), clock, REAL)
    other = instance(firestore.Client(project=firestore_project), clock, REAL)
    leased_for_the_next_buckets(reader, clock)  # 12 units counted, 3 of them leased ahead
    other.acquire(KEY, Priority.TRADE, units=REAL.budget - 12)
    with pytest.raises(RateLimited):
        reader.acquire(KEY, Priority.READ, units=2)  # its commit sees the window full
    clock.advance(3 * REAL.width)  # the three leased buckets go by unspent
    handed_back = reader.stats.handed_back
    with pytest.raises(RateLimited):
        reader.acquire(KEY, Priority.READ)
    assert reader.stats.handed_back == handed_back + 3


def test_callers_waiting_on_one_instance_share_its_commit_in_a_busy_window(firestore_project: str) -> None:
    """The window is more than half full, so there is no lease for demand; three reads that arrive
    while one instance's commit is under way need one commit between them: the first of them takes a
    unit for each caller waiting behind it, who spend them with no commit."""
    from google.cloud import firestore

    clock = FrozenClock()
    other = instance(firestore.Client(project=firestore_project), clock, REAL)
    other.acquire(KEY, Priority.READ, units=120)
    db = firestore.Client(project=firestore_project)
    reader = instance(db, clock, REAL)
    reader.acquire(KEY, Priority.READ)  # its first commit, which also resets its bucket's cell
    delayed_commits(db, lambda: time.sleep(0.4))  # real time: callers pile up behind each commit
    count = counting(db)
    first = threading.Thread(target=reader.acquire, args=(KEY, Priority.READ))
    first.start()
    time.sleep(0.1)  # the first caller's commit is under way
    behind = [threading.Thread(target=reader.acquire, args=(KEY, Priority.READ)) for _ in range(3)]
    for thread in behind:
        thread.start()
    for thread in [first, *behind]:
        thread.join()
    assert reader.stats.granted == 5 and reader.stats.leased == 2
    assert count.calls == {"commit": 2}


def test_a_burst_of_orders_up_to_the_budget_is_granted_at_once(instances: Instances) -> None:
    """After idle, the whole budget goes to a burst at one instant; the next waits for the window."""
    clock = FrozenClock()
    limiters = [instances(clock) for _ in range(3)]
    for n in range(SCHEDULE.budget):
        limiters[n % 3].acquire(KEY, Priority.TRADE)
    assert all(wait <= 0 for wait in clock.slept)
    with pytest.raises(RateLimited) as caught:
        limiters[0].acquire(KEY, Priority.TRADE)
    retry_after = caught.value.retry_after
    # The burst's bucket leaves the window `span` buckets after it started; the wait counts first.
    leaves = SCHEDULE.start(SCHEDULE.bucket(clock.now()) + SCHEDULE.span) + SCHEDULE.guard / 4
    expected = leaves - clock.now()
    assert retry_after is not None
    assert abs(retry_after - (expected - SCHEDULE.trade_wait)) < 1e-3


def test_reads_leave_the_reserve_to_orders(instances: Instances) -> None:
    """Reads at one instant stop at budget - reserve; an order still gets its unit without waiting."""
    clock = FrozenClock()
    readers = [instances(clock) for _ in range(4)]
    assert sum(saturate(reader) for reader in readers) == SCHEDULE.budget - SCHEDULE.reserve
    trader = instances(clock)
    trader.acquire(KEY, Priority.TRADE)
    assert clock.slept == [] or max(clock.slept) <= 0


def test_refused_reads_make_no_commit_and_return_the_exact_wait(instances: Instances) -> None:
    """A full window is known from the last commit: reads are refused locally, Retry-After exact."""
    clock = ManualClock()
    reader = instances(clock)
    saturate(reader)
    commits = reader.stats.commits
    for _ in range(20):
        with pytest.raises(RateLimited) as caught:
            reader.acquire(KEY, Priority.READ)
    assert reader.stats.commits == commits
    retry_after = caught.value.retry_after
    assert retry_after is not None and retry_after > 0
    clock.advance(retry_after)
    reader.acquire(KEY, Priority.READ)
    assert clock.slept[-1] <= SCHEDULE.read_wait + 1e-6


def test_units_of_a_lost_race_are_handed_back(instances: Instances) -> None:
    """An instance that finds the window full hands its unit back: the count equals what was granted."""
    clock = FrozenClock()
    first, second = instances(clock), instances(clock)
    saturate(first, Priority.TRADE)
    with pytest.raises(RateLimited):
        second.acquire(KEY, Priority.TRADE)  # its view was empty: it commits, loses, hands back
    assert second.stats.lost >= 1 and second.stats.handed_back == second.stats.lost
    clock.advance(SCHEDULE.window + 2 * SCHEDULE.guard + 2 * SCHEDULE.width)
    assert saturate(second, Priority.TRADE) == SCHEDULE.budget


def test_units_an_instance_handed_back_no_longer_fill_its_own_view(instances: Instances) -> None:
    """The whole budget granted, then handed back unsent: the instance's next order is granted at once
    instead of being refused on a view that still counts those units."""
    clock = FrozenClock()
    limiter = instances(clock)
    permits = [limiter.acquire(KEY, Priority.TRADE) for _ in range(SCHEDULE.budget)]
    for permit in permits:
        permit.release()
    limiter.acquire(KEY, Priority.TRADE)
    assert all(wait <= 0 for wait in clock.slept)


class HandBackWhileAsleep(FrozenClock):
    """Time stands still; the first sleep runs `meanwhile` (another instance handing units back)."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.meanwhile, meanwhile = (lambda: None), self.meanwhile
        meanwhile()


def test_an_order_refused_on_a_full_window_commits_once_more_and_gets_units_handed_back_meanwhile(
    instances: Instances,
) -> None:
    """The window full of another instance's units: the order waits for hand-backs under way, commits
    again and is granted the units that instance handed back meanwhile."""
    clock = HandBackWhileAsleep()
    holder, trader = instances(clock), instances(clock)
    permits = [holder.acquire(KEY, Priority.TRADE) for _ in range(SCHEDULE.budget)]
    clock.meanwhile = lambda: [permit.release() for permit in permits]
    trader.acquire(KEY, Priority.TRADE)
    assert trader.stats.lost == 1


def test_an_order_refused_on_a_full_window_commits_only_once_more(instances: Instances) -> None:
    """The window truly full: the order's second commit finds it full too and the order is refused."""
    clock = FrozenClock()
    holder, trader = instances(clock), instances(clock)
    for _ in range(SCHEDULE.budget):
        holder.acquire(KEY, Priority.TRADE)
    with pytest.raises(RateLimited):
        trader.acquire(KEY, Priority.TRADE)
    assert trader.stats.lost == 2


def test_every_unit_goes_to_one_caller_across_instances_and_threads(instances: Instances) -> None:
    """Concurrent callers on several instances at one instant never get more than the budget."""
    clock = FrozenClock()
    limiters = [instances(clock) for _ in range(4)]
    granted = [0]
    lock = threading.Lock()

    def hammer(limiter: SlotLimiter, priority: Priority) -> None:
        for _ in range(12):
            with contextlib.suppress(RateLimited):
                limiter.acquire(KEY, priority)
                with lock:
                    granted[0] += 1

    threads = [
        threading.Thread(target=hammer, args=(lim, Priority.TRADE if n % 3 == 0 else Priority.READ))
        for lim in limiters
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SCHEDULE.budget - SCHEDULE.reserve <= granted[0] <= SCHEDULE.budget


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("schedule", "shards"),
    [
        (Schedule(budget=8, window=1.5, guard=0.1, read_wait=0.3, trade_wait=1.0), 1),
        (Schedule(budget=80, window=3.0, guard=0.1, read_wait=0.3, trade_wait=1.0), 1),
        (Schedule(budget=40, window=3.0, guard=0.1, read_wait=0.3, trade_wait=1.0), 2),
    ],
    ids=["one_unit_per_take", "with_leases", "two_shards"],
)
def test_sends_never_exceed_the_budget_in_any_rolling_window(
    firestore_project: str, schedule: Schedule, shards: int
) -> None:
    """Real time, four instances, twelve threads, a burst then saturation: no window holds more (with
    shards, the instances' own shards alternate and the budget is every shard's together)."""
    from google.cloud import firestore

    clock = SystemClock()
    limiters = [
        instance(firestore.Client(project=firestore_project), clock, schedule, shards=shards, home=n)
        for n in range(4)
    ]
    sends: list[float] = []
    lock = threading.Lock()
    stop = time.time() + 4.5

    def drive(limiter: SlotLimiter, priority: Priority) -> None:
        while time.time() < stop:
            try:
                permit = limiter.acquire(KEY, priority)
            except RateLimited:
                time.sleep(0.02)
                continue
            sent = time.time()
            if permit.until is not None and sent > permit.until:
                permit.hand_back(1)  # as AlpacaClient does: a grant this thread was too slow to use
                continue
            with lock:
                sends.append(sent)

    threads = [
        threading.Thread(target=drive, args=(lim, Priority.TRADE if n == 0 else Priority.READ))
        for lim in limiters
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    busiest = max(sum(1 for s in sends if start <= s < start + schedule.window) for start in sends)
    assert busiest <= schedule.budget * shards
    assert len(sends) > schedule.budget * shards  # served across windows; utilisation: bench


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


def test_remaining_zero_at_our_own_budget_is_the_window_working(instances: Instances) -> None:
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
