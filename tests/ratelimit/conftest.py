"""Limiter fixtures: limiter instances on the test grid, sharing one emulator project."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.clock import Clock
from shared.limits.local import LocalLimiter
from shared.limits.schedule import Schedule
from shared.limits.slots import SlotLimiter
from tests.support.limits import SCHEDULE


def instance(
    db: Any,
    clock: Clock,
    schedule: Schedule = SCHEDULE,
    max_instances: int = 10,
    shards: int = 1,
    home: int = 0,
) -> SlotLimiter:
    """One gateway instance's limiter, with its local share for the degraded mode; with `shards`, each
    shard has `schedule`'s budget and the instance's own is `home`."""
    share = LocalLimiter(
        schedule.budget // max_instances,
        schedule.window + schedule.guard,
        clock,
        read_wait=schedule.read_wait,
        trade_wait=schedule.trade_wait,
    )
    return SlotLimiter(db, schedule, clock, fallback=share, timeout=1.5, shards=shards, home=home)


@pytest.fixture
def instances(firestore_project: str) -> Callable[[Clock], SlotLimiter]:
    """A factory of limiter instances, each with its own Firestore client on the test's project."""
    from google.cloud import firestore

    return lambda clock: instance(firestore.Client(project=firestore_project), clock)
