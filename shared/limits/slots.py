"""The Firestore sliding-window limiter: units counted in time buckets on `ratelimit/{key fingerprint}`.

One commit per acquisition as a rule, never a read or a transaction: the commit adds the caller's units
to the current bucket and reads back every count of the window (shared/limits/slot_store.py), so a
free budget costs no wait at all and a burst takes the whole budget at once; the same commit may
lease units for the instance's next callers, which then need no commit (shared/limits/lease.py). A
commit that finds the window full hands its units back at once, and the caller waits, using what the
commit saw, until older buckets leave the window, or answers 429 with that exact Retry-After without
a commit (a trade first commits once more, after the hand-backs under way). Units handed back leave
the instance's view at once. A commit aims at a bucket that is still open when it returns, by the
recent commit latencies. A unit can also be taken inside another commit (`prepare`, for an order's
claim).
The arithmetic and the bound's proof: shared/limits/schedule.py.

With RATE_LIMIT_SHARDS = n the key's budget is split over n documents (`ratelimit/{key}`, then
`ratelimit/{key}-1` ...), each a window of its own with budget/n under the same bound, so all of them
together never hold more than the budget in any rolling window. An instance takes from its own shard
first, and from another only when that one has room to spare; a broker back-off stops every shard.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from google.api_core.exceptions import GoogleAPIError

from shared.clock import Clock
from shared.config import Settings
from shared.errors import RateLimited, Unavailable
from shared.limits.lease import Lease, owe, pop_within
from shared.limits.local import LocalLimiter
from shared.limits.protocol import Limiter, LimiterStats, Permit, Priority
from shared.limits.rules import cap, ready, room, wake_at
from shared.limits.schedule import Schedule, View
from shared.limits.slot_store import SlotStore, Take, Taken

log = logging.getLogger("execution_engine.ratelimit")
# Told (key fingerprint, back off until, status) when this instance first learns of a broker back-off.
BackoffNotice = Callable[[str, float, int], None]

DEGRADED_SECONDS = 5.0  # after a Firestore failure, how long to stay on the local share
ATTEMPTS = 4
LATENCIES = 8  # recent commit latencies kept, to aim each commit at a bucket still open when it returns
SPARE_PART = 8  # another instance's shard is tried when an eighth of its budget is free


def shard_document(key: str, shard: int) -> str:
    """The limiter document of one shard of the key's budget: the first keeps the key itself."""
    return key if shard == 0 else f"{key}-{shard}"


@dataclass
class _KeyState:
    lease: Lease
    lock: threading.Lock = field(default_factory=threading.Lock)
    view: View | None = None  # what the last commit saw
    blocked_until: float = 0.0
    trade_until: float = 0.0
    debts: dict[int, int] = field(default_factory=dict)  # units of lost takes, handed back at once


class SlotLimiter:
    """The distributed limiter; falls back to a per-instance share when Firestore cannot be reached."""

    def __init__(
        self,
        db: Any,
        schedule: Schedule,
        clock: Clock,
        *,
        fallback: LocalLimiter,
        timeout: float = 1.5,
        on_backoff: BackoffNotice | None = None,
        shards: int = 1,
        home: int | None = None,
    ) -> None:
        self.schedule = schedule
        self.shards = shards
        self._home = random.randrange(shards) if home is None else home % shards
        self._on_backoff = on_backoff
        self.stats = LimiterStats()
        self.fallback = fallback
        self._store = SlotStore(db, schedule, self.stats, timeout)
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}
        self._keys_lock = threading.Lock()
        self._degraded_until = 0.0
        self._latencies: deque[float] = deque(maxlen=LATENCIES)

    def _state(self, key: str) -> _KeyState:
        with self._keys_lock:
            if key not in self._keys:
                self._keys[key] = _KeyState(Lease(self.schedule))
            return self._keys[key]

    # -- acquiring -------------------------------------------------------------------------

    def acquire(self, key: str, priority: Priority, units: int = 1) -> Permit:
        """The units from this instance's own shard, else from another whose window seen has room to
        spare (or that it has not seen lately); refused, with the soonest Retry-After, when none grants
        within the caller's wait."""
        wait = self.schedule.read_wait if priority is Priority.READ else self.schedule.trade_wait
        deadline = self._clock.now() + wait
        refusals: list[RateLimited] = []
        for shard, document in enumerate(self._documents(key)):
            state = self._state(document)
            if shard and not self._spare(state, priority, units):
                continue
            try:
                with state.lease.caller():
                    return self._acquire(state, key, document, priority, units, deadline)
            except RateLimited as refused:
                if self._clock.now() < self._degraded_until:
                    raise  # the instance's own share refused: no other shard to try
                refusals.append(refused)
        self.stats.add(rejected=1)
        raise min(refusals, key=lambda refused: refused.retry_after or 0.0)

    def _documents(self, key: str) -> list[str]:
        """The key's shard documents, this instance's own first."""
        count = self.shards
        return [shard_document(key, (self._home + i) % count) for i in range(count)]

    def _spare(self, state: _KeyState, priority: Priority, units: int) -> bool:
        """Whether another instance's shard is worth a try: not seen within a window, or seen with at
        least an eighth of its budget free (a burst), so instances do not race for each unit that
        leaves a full window there as well as at home."""
        sched = self.schedule
        now = self._clock.now()
        view = state.view
        if view is None or now - sched.start(view.seen_at) >= sched.window:
            return True
        current = sched.bucket(now)
        free = cap(sched, priority, state.trade_until > now) - view.without(state.debts).total(sched, current)
        return free >= max(units, sched.budget // SPARE_PART)

    def _acquire(
        self, state: _KeyState, key: str, document: str, priority: Priority, units: int, deadline: float
    ) -> Permit:
        with state.lock:
            state.lease.note(self.schedule.bucket(self._clock.now()), units)
        granted = False
        call = _Call(priority, units, deadline, may_recheck=priority is Priority.TRADE)
        try:
            for _ in range(ATTEMPTS):
                if self._clock.now() < self._degraded_until:
                    return self._degraded(key, priority, units)
                try:
                    until = self._attempt(state, document, call)
                except GoogleAPIError as exc:
                    self._degrade(exc)
                    return self._degraded(key, priority, units)
                if until is not None:
                    granted = True
                    self.stats.add(granted=units)
                    return Permit(key, units, until, self._giving_back(document, until))
            return self._refuse(self._retry_after(state, priority, units, deadline))
        finally:
            if not granted:  # a refused caller hands back what is owed; a granted one sends at once
                self._settle_debts(state, document)

    def _attempt(self, state: _KeyState, key: str, call: _Call) -> float | None:
        """Take the call's units from the lease, or in the first bucket the window should have room in,
        if that bucket starts within the wait, committing now and sleeping until it starts; None: try
        again. A trade the window seen would refuse hands back what it lost, waits for the other
        instances' hand-backs under way and commits once more: that view may count units they took,
        lost and are handing back."""
        sched = self.schedule
        priority, units, deadline = call.priority, call.units, call.deadline
        trusted, call.confirming = not call.confirming, False
        with state.lock:
            leased = self._spend_lease(state, units)
            if leased is not None:  # also what a caller that waited behind this instance's commit finds
                self.stats.add(leased=units)
                return leased
            now = self._clock.now()
            current = sched.bucket(now)
            if state.blocked_until > now:
                wake, until = state.blocked_until, None
                if wake > deadline:
                    return self._refuse(wake - deadline)
            else:
                target = current
                marked = state.trade_until > now
                view = state.view.without(state.debts) if state.view is not None else None
                if trusted and view is not None and now - sched.start(view.seen_at) < sched.window:
                    target = max(current, ready(sched, view, priority, current, units, marked))
                if target > current and priority is Priority.TRADE and not marked:
                    target = current  # a trade commits at once: its commit marks that a trade waits
                target = max(target, self._open_after_commit(now))
                wake = now if target == current else wake_at(sched, target)
                # Only waiting counts against the wait, not commit latency; so the target is within reach.
                if wake > max(now, deadline):
                    recheck = now + max(sched.width, 2 * self._latency())
                    if not call.may_recheck or recheck > deadline:
                        return self._refuse(wake - deadline)
                    call.may_recheck, call.confirming = False, True
                    wake, until = recheck, None
                else:  # commit now for a bucket that starts later, then sleep what is left until it starts
                    until = self._take(state, key, priority, units, target)
                    if until is None:
                        return None
        if call.confirming:  # what this instance lost goes back first, so the others find it too
            self._settle_debts(state, key)
        delay = wake - self._clock.now()
        if delay > 0:
            self._clock.sleep(delay)
        return until

    def _open_after_commit(self, now: float) -> int:
        """The first bucket that will still grant when a commit started now returns, by the recent commit
        latencies (the second slowest of the last few, so one stall does not move every later commit).
        The current bucket whenever commits are short against a bucket; on a slow host, a later one."""
        sched = self.schedule
        back = now + min(self._latency(), (sched.reach - 2) * sched.width)
        return max(sched.bucket(now), sched.bucket(back - sched.lateness))

    def _latency(self) -> float:
        """A commit's latency: the second slowest of the last few."""
        recent = sorted(self._latencies)
        return recent[-2] if len(recent) > 1 else 0.0

    def _spend_lease(self, state: _KeyState, units: int) -> float | None:
        """The caller's units from the lease, with no commit (state.lock held), or None."""
        sched = self.schedule
        now = self._clock.now()
        current = sched.bucket(now)
        if state.blocked_until > now or not state.lease.spend(current, units):
            return None
        return sched.send_by(current)

    def _take(self, state: _KeyState, key: str, priority: Priority, units: int, bucket: int) -> float | None:
        """One commit (state.lock held): the units' last send instant if granted, else None."""
        take = self._prepare(state, key, priority, units, bucket)
        began = self._clock.now()
        taken = self._store.take(take)
        self._latencies.append(self._clock.now() - began)
        return self._granted(state, key, priority, take, taken)

    def _prepare(
        self, state: _KeyState, key: str, priority: Priority, units: int, bucket: int, own: bool = True
    ) -> Take:
        """A take at `bucket`, which also leases for the instance's demand (any caller's: the caller's
        units are granted first, and leased ones only by a read's rules; a trade's only for demand, in
        its own bucket, see shared/limits/lease.py); in a commit of its own it also carries the units
        owed."""
        sched = self.schedule
        debts: dict[int, int] = {}
        current = sched.bucket(self._clock.now())
        if priority is Priority.READ:
            adds = state.lease.plan(bucket, current, units, state.view)
        else:
            adds = state.lease.plan(bucket, current, units, state.view, buckets=1, waiting=False)
        if own:
            reach = sched.window_buckets(bucket)
            owe(debts, state.lease.owed_within(reach))
            owe(debts, pop_within(state.debts, reach))
        # A cell is ready when a commit seen since reset it; else it is reset first (a second write).
        seen = state.view.counts if state.view is not None else {}
        stale = [x for x in adds if x not in seen]
        marker = self._clock.now() + sched.trade_wait if priority is Priority.TRADE else 0.0
        return self._store.prepare(
            key, bucket, units, adds, current=current, debts=debts, trade_until=marker, stale=stale
        )

    def _granted(
        self, state: _KeyState, key: str, priority: Priority, take: Take, taken: Taken
    ) -> float | None:
        """The caller's last send instant if the take won its units (state.lock held), else None; leased
        units that fit join the lease, earliest first, and the rest are owed back."""
        sched = self.schedule
        state.view = taken.view
        state.blocked_until = max(state.blocked_until, taken.blocked_until)
        state.trade_until = max(state.trade_until, taken.trade_until)
        counted = {x: n for x, n in take.adds.items() if x in taken.fresh}
        if take.bucket not in counted:
            owe(state.debts, counted)
            return None  # the cell still held an old bucket: the caller's units were not counted
        now = self._clock.now()
        marked, total = state.trade_until > now, sum(counted.values())
        fits = room(sched, taken.view, priority, take.bucket, total, marked)
        late = now > sched.usable_until(take.bucket)
        if fits < take.units or late or state.blocked_until > max(now, sched.start(take.bucket)):
            self.stats.add(lost=1)
            owe(state.debts, counted)
            return None
        # Leased units may go to any caller: they are granted by a read's rules, whoever took them.
        as_read = room(sched, taken.view, Priority.READ, take.bucket, total, marked)
        leasable = max(0, min(fits, as_read) - take.units)
        counted[take.bucket] -= take.units
        refused = state.lease.keep(counted, leasable)
        if refused:  # counted by everyone until handed back: now, without holding up this caller
            threading.Thread(target=self._give_back, args=(key, refused), daemon=True).start()
        return sched.send_by(take.bucket)

    def _retry_after(self, state: _KeyState, priority: Priority, units: int, deadline: float) -> float:
        sched = self.schedule
        view = state.view
        if view is None:
            return sched.width
        now = self._clock.now()
        free = ready(sched, view, priority, sched.bucket(now), units, state.trade_until > now)
        return max(wake_at(sched, free) - max(now, deadline), sched.width)

    def _settle_debts(self, state: _KeyState, key: str) -> None:
        """Units taken and not granted, and the lease's left unspent, go back now, so no other instance
        waits on them."""
        reach = self.schedule.window_buckets(self.schedule.bucket(self._clock.now()))
        with state.lock:
            debts, state.debts = state.debts, {}
            owe(debts, state.lease.owed_within(reach))
        if not debts:
            return
        self._give_back(key, debts)

    def _give_back(self, key: str, debts: Mapping[int, int]) -> None:
        sched = self.schedule
        # Only buckets still inside the window: their cells cannot have been reset since.
        low = sched.bucket(self._clock.now()) - sched.span + 1
        safe = {x: n for x, n in debts.items() if x >= low and n > 0}
        if not safe:
            return
        state = self._state(key)
        with state.lock:
            seen = state.view
        try:
            self._store.hand_back(key, safe)
            self.stats.add(handed_back=sum(safe.values()))
        except GoogleAPIError as exc:  # they stay counted: only the window is more careful
            log.warning("could not hand back unused rate units (%s)", type(exc).__name__)
            return
        with state.lock:  # the view seen before counts them no more (a later one may or may not)
            if seen is not None and state.view is seen:
                state.view = seen.without(safe)

    # -- a unit inside another commit ------------------------------------------------------

    def prepare(self, key: str, priority: Priority = Priority.TRADE, units: int = 1) -> Reservation | None:
        """`units` for the caller's own commit (an order's claim): writes that take them inside that
        commit, or none when the lease holds them (spent once the commit is in, so a failed commit
        consumes nothing); None when this instance cannot (degraded, or blocked by upstream feedback):
        the caller then acquires as usual. Always on this instance's own shard."""
        now = self._clock.now()
        if now < self._degraded_until:
            return None
        document = self._documents(key)[0]
        state = self._state(document)
        bucket = self.schedule.bucket(now)
        with state.lock:
            if state.blocked_until > now:
                return None
            state.lease.note(bucket, units)
            if state.lease.holds(bucket, units):
                return Reservation(self, state, key, document, priority, None, units)
            take = self._prepare(state, document, priority, units, bucket, own=False)
        return Reservation(self, state, key, document, priority, take, units)

    def _settle(self, reservation: Reservation, results: Sequence[Any]) -> Permit | None:
        state, take, units = reservation.state, reservation.take, reservation.units
        key, document = reservation.key, reservation.document
        if take is None:  # the lease's units, if they are still there (else acquire as usual)
            with state.lock:
                until = self._spend_lease(state, units)
            if until is not None:
                self.stats.add(leased=units)
        else:
            self._store.count(take.writes, own_commit=False)  # the writes rode in the caller's commit
            taken = take.read(self.schedule, results)
            with state.lock:
                until = self._granted(state, document, reservation.priority, take, taken)
            if until is None:
                self._settle_debts(state, document)
        if until is None:
            return None
        self.stats.add(granted=units)
        return Permit(key, units, until, self._giving_back(document, until))

    def _giving_back(self, key: str, until: float) -> Callable[[int], None]:
        """A permit's hand-back of the units granted with `until` that it never sent."""
        bucket = self.schedule.bucket_sent_by(until)
        return lambda units: self._give_back(key, {bucket: units})

    # -- degraded mode and upstream feedback -----------------------------------------------

    def _degrade(self, exc: Exception) -> None:
        self._degraded_until = self._clock.now() + DEGRADED_SECONDS
        log.warning(
            "rate limiter store unreachable (%s): reads use 1/%d of the budget, orders are refused",
            type(exc).__name__,
            round(self.schedule.budget * self.shards / self.fallback.budget),
        )

    def _degraded(self, key: str, priority: Priority, units: int) -> Permit:
        if priority is Priority.TRADE:
            self.stats.add(refused_trades=1)
            log.warning("order refused: the rate limiter's Firestore store is unreachable")
            raise Unavailable(
                "the rate limiter cannot be reached",
                reason="rate_limiter_unavailable",
                retry_after=DEGRADED_SECONDS,
            )
        self.stats.add(degraded_reads=1)
        log.warning("read served from this instance's share of the rate budget (Firestore unreachable)")
        return self.fallback.acquire(key, priority, units)

    def _refuse(self, retry_after: float) -> NoReturn:
        # Rounded up: a caller that waits exactly this long finds its unit within its own wait.
        wait = math.ceil(retry_after * 1000) / 1000
        raise RateLimited("the upstream rate budget is spent", retry_after=wait)

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """429, or Remaining 0 not explained by our own window: every instance waits for Reset."""
        try:
            reset = float(headers.get("X-RateLimit-Reset", ""))
        except ValueError:
            reset = 0.0
        now = self._clock.now()
        remaining, limit = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Limit")
        if status == 429:
            until = reset if reset > now else now + self.schedule.width
        elif remaining == "0" and reset > now and limit != str(self.schedule.budget * self.shards):
            until = reset
        else:
            return None
        news = []  # every shard waits: the broker's limit is the key's, whichever shard granted
        for document in self._documents(key):
            state = self._state(document)
            with state.lock:
                if until > state.blocked_until:
                    state.blocked_until = until
                    news.append(document)
        if not news:
            return None
        log.warning("upstream rate limit reported (status %d): backing off until %.3f", status, until)
        self.stats.add(feedback=1)
        if self._on_backoff is not None:
            self._on_backoff(key, until, status)
        for document in news:
            try:
                self._store.block(document, until)
            except GoogleAPIError as exc:
                log.warning("could not share the upstream back-off (%s)", type(exc).__name__)


@dataclass
class _Call:
    """One caller's acquisition: what it asks for, until when it may wait, whether a refusal on the window
    seen may still be confirmed by a commit (once), and whether its next attempt is that commit."""

    priority: Priority
    units: int
    deadline: float
    may_recheck: bool
    confirming: bool = False


@dataclass
class Reservation:
    """Units for another commit: a take, whose writes go in and whose write results come back to
    `settle`, or (`take` None) units the lease holds, which need no write."""

    limiter: SlotLimiter
    state: _KeyState
    key: str
    document: str  # the shard's limiter document
    priority: Priority
    take: Take | None
    units: int

    @property
    def writes(self) -> Sequence[Any]:
        return self.take.writes if self.take is not None else ()

    def settle(self, results: Sequence[Any]) -> Permit | None:
        """The permit the commit won, or None (the window was full: acquire as usual)."""
        return self.limiter._settle(self, results)


def limiter_from_settings(
    settings: Settings, db: Any, clock: Clock, on_backoff: BackoffNotice | None = None
) -> Limiter:
    """The limiter `build()` installs: the Firestore window limiter (its budget split evenly over
    RATE_LIMIT_SHARDS documents), or with RATE_LIMIT_MODE=local an
    in-process window with the whole budget (the naive baseline; an escape hatch for one instance)."""
    config = settings.limiter
    window = float(config.window_seconds)
    guard = float(config.guard_seconds)
    read_wait = float(config.read_wait_seconds)
    trade_wait = float(config.trade_wait_seconds)
    if config.mode == "local":
        return LocalLimiter(config.per_minute, window, clock, read_wait=read_wait, trade_wait=trade_wait)
    share = LocalLimiter(
        config.per_minute // config.max_instances,
        window + guard,
        clock,
        read_wait=read_wait,
        trade_wait=trade_wait,
    )
    schedule = Schedule(config.per_minute // config.shards, window, guard, read_wait, trade_wait)
    timeout = float(config.store_timeout_seconds)
    return SlotLimiter(
        db, schedule, clock, fallback=share, timeout=timeout, on_backoff=on_backoff, shards=config.shards
    )
