"""What the window seen allows each priority: the cap, the units a take may keep, the first bucket with
room, and when to wake for it (the proof of these rules: shared/limits/schedule.py, Priorities).

`marked`: a trade asked within the last trade wait, so reads leave the reserve free."""

from __future__ import annotations

from shared.limits.protocol import Priority
from shared.limits.schedule import Schedule, View


def cap(sched: Schedule, priority: Priority, marked: bool) -> int:
    """The most units the window may hold once this priority's are granted."""
    return sched.budget - (sched.reserve if priority is Priority.READ and marked else 0)


def ready(sched: Schedule, view: View, priority: Priority, bucket: int, units: int, marked: bool) -> int:
    """The first bucket from `bucket` on whose commit the window seen would grant `units` (if nobody
    else took a unit); for a read, the reserve must also be free again within the lead."""
    first = view.free_at(sched, bucket, cap(sched, priority, marked), units)
    if priority is Priority.READ:
        ahead = view.free_at(sched, bucket + sched.lead, sched.budget - sched.reserve, units)
        first = max(first, ahead - sched.lead)
    return first


def room(sched: Schedule, view: View, priority: Priority, bucket: int, taken: int, marked: bool) -> int:
    """How many of the `taken` units counted in `view` at `bucket` may be granted: the window without
    them, filled up to the cap (for a read, the reserve also free within the lead)."""
    free = cap(sched, priority, marked) - (view.total(sched, bucket) - taken)
    if priority is Priority.READ:
        ahead = view.total(sched, bucket + sched.lead) - taken
        free = min(free, sched.budget - sched.reserve - ahead)
    return max(0, min(free, taken))


def wake_at(sched: Schedule, bucket: int) -> float:
    """When a caller waiting for `bucket` commits: a quarter guard past its start, so the units leaving
    there have reached the broker before the new ones do, even on a busy host (a margin on top of the
    bound's)."""
    return sched.start(bucket) + sched.guard / 4
