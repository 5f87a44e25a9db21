"""The upstream limiter's interface: priorities, the Limiter protocol, its counters, and no limit at all."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Priority(StrEnum):
    """Trading operations may wait for a slot; reads give up sooner."""

    TRADE = "trade"
    READ = "read"


class Limiter(Protocol):
    """Keys are API key fingerprints (shared.alpaca.credentials.key_fingerprint), never key ids."""

    def acquire(self, key: str, priority: Priority) -> None:
        """Block until an upstream slot is ours; raise RateLimited or Unavailable if it cannot be had."""
        ...

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an upstream response's status and X-RateLimit-* headers."""
        ...


class Unlimited:
    """No limit at all: for tests of other parts only."""

    def acquire(self, key: str, priority: Priority) -> None:
        return None

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> None:
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
