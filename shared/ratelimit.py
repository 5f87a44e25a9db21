"""The upstream rate limiter's interface; the Firestore slot limiter fills it in."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol


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
