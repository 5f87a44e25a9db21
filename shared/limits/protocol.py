"""The upstream limiter's interface: priorities, the Limiter protocol, permits, its counters, and no limit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Priority(StrEnum):
    """Trading operations may wait for a slot; reads give up sooner."""

    TRADE = "trade"
    READ = "read"


class Limiter(Protocol):
    """Keys are API key fingerprints (shared.alpaca.credentials.key_fingerprint), never key ids."""

    def acquire(self, key: str, priority: Priority, units: int = 1) -> Permit:
        """Block until `units` upstream sends are ours; raise RateLimited or Unavailable if they cannot be
        had. The permit says the last instant their requests may start to be written, and hands back to
        the budget the units that are never sent."""
        ...

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an upstream response's status and X-RateLimit-* headers."""
        ...


class Unlimited:
    """No limit at all: for tests of other parts only."""

    def acquire(self, key: str, priority: Priority, units: int = 1) -> Permit:
        return Permit(key, units, None)

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        return None


class Permit:
    """Upstream sends granted (by one acquisition, or inside the order's claim commit), spent by the
    calls made under `prepaid(permit)` or by the one call that acquired it; what is never sent goes back."""

    def __init__(
        self,
        key: str,
        units: int,
        until: float | None,
        give_back: Callable[[int], None] | None = None,
    ) -> None:
        self.key = key
        self._left = units
        self.until = until
        self._give_back = give_back
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> bool:
        """Spend one unit for `key` if one is left and still on time."""
        with self._lock:
            if key != self.key or self._left <= 0 or (self.until is not None and now > self.until):
                return False
            self._left -= 1
            return True

    def release(self) -> None:
        """Hand back the units not spent (they will never be sent)."""
        with self._lock:
            left, self._left = self._left, 0
        self.hand_back(left)

    def hand_back(self, units: int) -> None:
        """`units` taken from this permit that were never sent (their caller came too late): back to the
        budget they were granted from."""
        if units and self._give_back is not None:
            self._give_back(units)


_PREPAID: ContextVar[Permit | None] = ContextVar("prepaid_upstream_sends", default=None)


@contextmanager
def prepaid(permit: Permit | None) -> Iterator[None]:
    """Calls made inside spend `permit` before asking the limiter (threads started with a copy of this
    context share it)."""
    token = _PREPAID.set(permit)
    try:
        yield
    finally:
        _PREPAID.reset(token)


def spend_prepaid(key: str, now: float) -> Permit | None:
    """The prepaid permit a unit for `key` was just spent from, if one could be."""
    permit = _PREPAID.get()
    return permit if permit is not None and permit.take(key, now) else None


@dataclass
class LimiterStats:
    """Counters for the benchmark and the logs: what the limiter did, and what it cost in Firestore."""

    granted: int = 0
    leased: int = 0  # units granted from this instance's lease, with no commit
    rejected: int = 0
    wasted: int = 0  # slots reserved and never used: expired in the pool, late, or inside a back-off
    commits: int = 0  # commits of the limiter's own (a unit taken inside an order's claim adds none)
    writes: int = 0  # Firestore document writes (a commit of two writes counts two), claims' included
    handed_back: int = 0  # units not sent and returned to the window
    lost: int = 0  # take commits that found the window full (their units handed back)
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
