"""The Firestore slot limiter: slots handed out by field transforms on `ratelimit/{key fingerprint}`.

One commit per slot, never a read or a transaction. Reads: `Maximum(read_next, floor)` (only after
idle) then `Increment(read_next, 1)`; the new value names the slot. A slot beyond the caller's wait
is kept in this instance's pool for its next caller, so refusing a read wastes nothing and each
instance holds at most one slot ahead. Trade slot k is claimed in ring cell `t{n}`:
`Maximum(cell, k * 2**20)` then `Increment(cell, 1)`; whoever reads back exactly k * 2**20 + 1 owns
it, and extra claims are harmless. Every commit also returns `blocked_until`, which upstream feedback
raises with a Maximum. The grid and its guarantee: shared/limits/schedule.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from google.api_core.exceptions import GoogleAPIError

from shared.clock import Clock
from shared.config import Settings
from shared.errors import RateLimited, Unavailable
from shared.limits.local import LocalLimiter
from shared.limits.protocol import Limiter, LimiterStats, Priority
from shared.limits.schedule import Schedule
from shared.limits.slot_store import SlotStore

log = logging.getLogger("execution_engine.ratelimit")

DEGRADED_SECONDS = 5.0  # after a Firestore failure, how long to stay on the local share


@dataclass
class _KeyState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: list[float] = field(default_factory=list)  # reserved read slots nobody has used yet
    tried: set[int] = field(default_factory=set)  # trade slots this instance already claimed or lost
    frontier: float = 0.0  # lower bound of the read counter's next slot start
    blocked_until: float = 0.0


class SlotLimiter:
    """The distributed limiter; falls back to a per-instance share when Firestore cannot be reached."""

    def __init__(
        self, db: Any, schedule: Schedule, clock: Clock, *, fallback: LocalLimiter, timeout: float = 1.5
    ) -> None:
        self.schedule = schedule
        self.stats = LimiterStats()
        self.fallback = fallback
        self._store = SlotStore(db, self.stats, timeout)
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}
        self._keys_lock = threading.Lock()
        self._degraded_until = 0.0

    def _state(self, key: str) -> _KeyState:
        with self._keys_lock:
            return self._keys.setdefault(key, _KeyState())

    def acquire(self, key: str, priority: Priority) -> None:
        wait = self.schedule.read_wait if priority is Priority.READ else self.schedule.trade_wait
        for _ in range(3):
            if self._clock.now() < self._degraded_until:
                return self._degraded(key, priority)
            try:
                slot = self._reserve(self._state(key), key, priority, wait)
            except GoogleAPIError as exc:
                self._degraded_until = self._clock.now() + DEGRADED_SECONDS
                log.warning(
                    "rate limiter store unreachable (%s): reads use 1/%d of the budget, orders are refused",
                    type(exc).__name__,
                    round(self.schedule.budget / self.fallback.budget),
                )
                return self._degraded(key, priority)
            self._clock.sleep(slot - self._clock.now())
            if self._clock.now() - slot <= self.schedule.lateness:
                self.stats.add(granted=1)
                return None
            self.stats.add(wasted=1)  # woke too late to use it safely: reserve again
        self._refuse(self.schedule.interval)

    def _degraded(self, key: str, priority: Priority) -> None:
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
        self.fallback.acquire(key, priority)

    def _reserve(self, state: _KeyState, key: str, priority: Priority, wait: float) -> float:
        """A slot starting within `wait` (Firestore's own latency aside), now ours; else RateLimited."""
        sched = self.schedule
        with state.lock:
            now = self._clock.now()
            deadline = now + wait
            earliest = max(now, state.blocked_until)
            if earliest > deadline:
                return self._refuse(earliest - deadline)
            expired = [s for s in state.pool if s < now - sched.lateness]
            state.pool = [s for s in state.pool if s >= now - sched.lateness]
            state.tried = {k for k in state.tried if sched.start(k) >= now - sched.window}
            self.stats.add(wasted=len(expired))
            if state.pool and state.pool[0] <= deadline and priority is Priority.READ:
                return state.pool.pop(0)
            if not state.pool:
                slot = self._next_read(state, key, now)
                now = self._clock.now()
                deadline = max(deadline, now + wait)
                if slot <= deadline:
                    return slot
                state.pool.append(slot)
            # Reads may only claim trade slots that start within their own short wait.
            last = min(deadline, state.pool[0]) if state.pool else deadline
            for k in sched.trade_slots(max(now, state.blocked_until), last):
                if k in state.tried:
                    continue
                state.tried.add(k)
                won, blocked = self._store.claim_trade(key, k, sched.trade_every)
                state.blocked_until = max(state.blocked_until, blocked)
                if won and sched.start(k) >= state.blocked_until:
                    return sched.start(k)
                if won:
                    self.stats.add(wasted=1)
            if state.pool and state.pool[0] <= deadline:
                return state.pool.pop(0)
            ready = state.pool[0] if state.pool else deadline
            after = max(deadline, state.blocked_until)
            upcoming = next(sched.trade_slots(after, after + sched.window), None)
            if upcoming is not None:
                ready = min(ready, sched.start(upcoming))
            return self._refuse(max(ready - deadline, 0.01))

    def _next_read(self, state: _KeyState, key: str, now: float) -> float:
        sched = self.schedule
        while True:
            floor: int | None = None
            # Only after idle may the counter lag behind now: then raise it first (one more write).
            # A wrong guess costs a retry, never safety: a slot already in the past is dropped.
            if state.frontier < now - sched.window:
                floor = sched.read_ordinal(sched.first_at_or_after(max(now, state.blocked_until)))
            ordinal, blocked = self._store.next_read(key, floor)
            state.blocked_until = max(state.blocked_until, blocked)
            state.frontier = sched.start(sched.read_slot(ordinal + 1))
            slot = sched.start(sched.read_slot(ordinal))
            now = self._clock.now()  # a slow commit (a cold channel) may have outlived the slot
            if slot >= max(now - sched.lateness, state.blocked_until):
                return slot
            # Stale (an idle counter met on the fast path) or inside a back-off: unusable, go past it.
            self.stats.add(wasted=1)
            state.frontier = 0.0

    def _refuse(self, retry_after: float) -> NoReturn:
        self.stats.add(rejected=1)
        raise RateLimited("the upstream rate budget is spent", retry_after=round(retry_after, 3))

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """429, or Remaining 0 not explained by our own schedule: every instance waits for Reset."""
        try:
            reset = float(headers.get("X-RateLimit-Reset", ""))
        except ValueError:
            reset = 0.0
        now = self._clock.now()
        remaining, limit = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Limit")
        if status == 429:
            until = reset if reset > now else now + self.schedule.interval
        elif remaining == "0" and reset > now and limit != str(self.schedule.budget):
            until = reset
        else:
            return None
        state = self._state(key)
        sched = self.schedule
        with state.lock:
            if until <= state.blocked_until:
                return None
            state.blocked_until = until
        next_slot = sched.first_at_or_after(until)
        if status != 429 and sched.start(sched.first_at_or_after(now)) >= until:
            return None  # no slot of the grid starts before Reset anyway
        log.warning("upstream rate limit reported (status %d): backing off until %.3f", status, until)
        self.stats.add(feedback=1)
        try:
            self._store.block(key, until, sched.read_ordinal(next_slot))
        except GoogleAPIError as exc:
            log.warning("could not share the upstream back-off (%s)", type(exc).__name__)


def limiter_from_settings(settings: Settings, db: Any, clock: Clock) -> Limiter:
    """The limiter `build()` installs: the Firestore slot limiter, or with RATE_LIMIT_MODE=local an
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
    schedule = Schedule(config.per_minute, window, guard, read_wait, trade_wait)
    return SlotLimiter(db, schedule, clock, fallback=share, timeout=float(config.store_timeout_seconds))
