"""The upstream rate limiter: its interface, the slot schedule's arithmetic and the in-process window.

Guarantee: at most `budget` upstream requests per key in any rolling `window` seconds, across every
process. Time is a grid of slots `k`, slot k starting at EPOCH + k * interval, interval =
(window + guard) / budget. Every slot is handed out at most once (shared/slots.py), and a request may
only be sent within `lateness` (guard / 2) after its slot starts; later, the slot is dropped. Proof:
take N + 1 requests sent inside one window; their slots are distinct, so the first and the last slot
are at least N intervals = window + guard apart, and their sends at least window + guard - lateness
>= window apart: they cannot share a window. The other half of the guard absorbs network jitter and
clock skew between instances (Google's hosts are NTP-synced to milliseconds).

Priorities: every `trade_every`-th slot is a trade slot. Reads take the other slots through one
counter, and may claim a trade slot only once it starts within their own short wait; so the trade
slots between now + read_wait + guard and now + trade_wait are untouched by reads, and
`trade_every` is chosen so that at least one of them exists: a trade always finds its slot in time
unless other trades took it first.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from shared.clock import Clock
from shared.errors import RateLimited

EPOCH = 1_700_000_000.0  # slot 0; any fixed instant works, every instance must agree on it


class Priority(StrEnum):
    """Trading operations may wait for a slot; reads give up sooner."""

    TRADE = "trade"
    READ = "read"


class Limiter(Protocol):
    def acquire(self, key_id: str, priority: Priority) -> None:
        """Block until an upstream slot is ours; raise RateLimited or Unavailable if it cannot be had."""
        ...

    def observe(self, key_id: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an upstream response's status and X-RateLimit-* headers."""
        ...


class Unlimited:
    """No limit at all: for tests of other parts only."""

    def acquire(self, key_id: str, priority: Priority) -> None:
        return None

    def observe(self, key_id: str, status: int, headers: Mapping[str, str]) -> None:
        return None


@dataclass
class LimiterStats:
    """Counters for the benchmark and the logs: what the limiter did, and what it cost in Firestore."""

    granted: int = 0
    rejected: int = 0
    wasted: int = 0  # slots reserved and never used: expired in the pool, late, or inside a back-off
    commits: int = 0
    writes: int = 0  # Firestore document writes (a commit of two writes counts two)
    feedback: int = 0
    degraded_reads: int = 0
    refused_trades: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return {name: value for name, value in vars(self).items() if not name.startswith("_")}


@dataclass(frozen=True)
class Schedule:
    """The slot grid: which slot starts when, and which slots belong to trades."""

    budget: int
    window: float
    guard: float
    read_wait: float
    trade_wait: float

    @property
    def interval(self) -> float:
        return (self.window + self.guard) / self.budget

    @property
    def lateness(self) -> float:
        """How long after its start a slot may still be used."""
        return self.guard / 2

    @property
    def trade_every(self) -> int:
        """Trade slots must be at most (trade_wait - read_wait - guard) apart; at least every other slot."""
        room = self.trade_wait - self.read_wait - self.guard
        return max(2, math.floor(room / self.interval))

    def start(self, slot: int) -> float:
        return EPOCH + slot * self.interval

    def first_at_or_after(self, when: float) -> int:
        return math.ceil((when - EPOCH) / self.interval - 1e-9)

    def is_trade(self, slot: int) -> bool:
        return slot % self.trade_every == 0

    def read_slot(self, ordinal: int) -> int:
        """The slot of the read counter's `ordinal`-th value: the grid without its trade slots."""
        per = self.trade_every - 1
        return (ordinal // per) * self.trade_every + ordinal % per + 1

    def read_ordinal(self, slot: int) -> int:
        """The first read ordinal whose slot is at or after `slot`."""
        per = self.trade_every - 1
        return (slot // self.trade_every) * per + max(0, slot % self.trade_every - 1)

    def trade_slots(self, start: float, end: float) -> Iterator[int]:
        """Trade slots starting in [start, end], earliest first."""
        slot = self.first_at_or_after(start)
        slot += -slot % self.trade_every
        while self.start(slot) <= end:
            yield slot
            slot += self.trade_every


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

    def acquire(self, key_id: str, priority: Priority) -> None:
        with self._lock:
            now = self._clock.now()
            sends = self._sends.setdefault(key_id, deque())
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

    def observe(self, key_id: str, status: int, headers: Mapping[str, str]) -> None:
        return None
