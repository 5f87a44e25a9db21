"""Limiter fixtures: a slot grid, limiter instances sharing one emulator project, a dead Firestore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.stack import free_port
from shared.clock import Clock, ManualClock
from shared.limits.local import LocalLimiter
from shared.limits.schedule import Schedule
from shared.limits.slots import SlotLimiter

KEY = "PKTESTKEY"
# 20 requests per 6 s, as the distributed test runs the sandbox: a slot every 0.3075 s, a trade slot in 4.
SCHEDULE = Schedule(budget=20, window=6.0, guard=0.15, read_wait=0.5, trade_wait=2.0)


class FrozenClock(ManualClock):
    """Time stands still: `sleep` only records, so many callers can meet at one instant."""

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def instance(db: Any, clock: Clock, schedule: Schedule = SCHEDULE, max_instances: int = 10) -> SlotLimiter:
    """One gateway instance's limiter, with its local share for the degraded mode."""
    share = LocalLimiter(
        schedule.budget // max_instances,
        schedule.window + schedule.guard,
        clock,
        read_wait=schedule.read_wait,
        trade_wait=schedule.trade_wait,
    )
    return SlotLimiter(db, schedule, clock, fallback=share, timeout=1.5)


@pytest.fixture
def instances(firestore_project: str) -> Callable[[Clock], SlotLimiter]:
    """A factory of limiter instances, each with its own Firestore client on the test's project."""
    from google.cloud import firestore

    return lambda clock: instance(firestore.Client(project=firestore_project), clock)


@pytest.fixture
def dead_db(firestore_project: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Firestore client pointed at a port where nothing listens."""
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    client = firestore.Client(project=firestore_project)
    monkeypatch.undo()
    return client
