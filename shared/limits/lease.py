"""An instance's lease on one key's window: units granted ahead of its callers, spent with no commit.

A take, a read's or a trade's, may ask for more units than its caller needs (the caller's are granted
first, and leased ones only by a read's rules, so a unit an order needs never goes to a lease): one for
each caller of the same instance already waiting behind it, and, while the window last seen is at most
half full, up to `Schedule.lease` more for the demand of the last few buckets, in the take's bucket and
the next LEASE_BUCKETS - 1. A trade's take leases for demand only, in its own bucket: a burst of
orders arrives at once, and units of later buckets, or for callers that then give up, would sit
counted and unspent while the rest of the burst is refused. The window grants them like any unit
(shared/limits/schedule.py); a lease unit of bucket y is spent only while y is the current bucket, and
one left unspent is handed back in the instance's next commit (units a take asked for and did not win
are handed back at once).
All of it runs under the key's lock in shared/limits/slots.py, except `waiting`, which has its own.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from shared.limits.schedule import LEASE_BUCKETS, Schedule, View

HISTORY = 5  # the buckets of demand a lease is sized by: the four before the current one


def owe(owed: dict[int, int], units: Mapping[int, int]) -> None:
    """Add `units` (by bucket) to the units `owed` back to the window."""
    for x, n in units.items():
        if n > 0:
            owed[x] = owed.get(x, 0) + n


def pop_within(owed: dict[int, int], reach: range) -> dict[int, int]:
    """Take the units `owed` of the buckets in `reach` out of it (they ride a commit now)."""
    return {x: owed.pop(x) for x in [x for x in owed if x in reach]}


@dataclass
class Lease:
    schedule: Schedule
    leased: dict[int, int] = field(default_factory=dict)  # granted ahead, not yet spent, by bucket
    unspent: dict[int, int] = field(default_factory=dict)  # to hand back in the next commit
    asked: dict[int, int] = field(default_factory=dict)  # units asked for lately, by bucket
    waiting: int = 0  # this instance's callers inside `acquire` for the key now
    _waiting_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def caller(self) -> Iterator[None]:
        """One caller inside `acquire`, for as long as it is there."""
        with self._waiting_lock:
            self.waiting += 1
        try:
            yield
        finally:
            with self._waiting_lock:
                self.waiting -= 1

    def note(self, current: int, units: int) -> None:
        """Count the units asked for in the current bucket: what the lease is sized by."""
        self.asked[current] = self.asked.get(current, 0) + units
        for x in [x for x in self.asked if x <= current - HISTORY]:
            del self.asked[x]

    def spend(self, current: int, units: int) -> bool:
        """Take `units` of the current bucket's lease if it holds them; the units of buckets already
        past are owed back."""
        for x in [x for x in self.leased if x < current]:
            owe(self.unspent, {x: self.leased.pop(x)})
        have = self.leased.get(current, 0)
        if have < units:
            return False
        self.leased[current] = have - units
        return True

    def holds(self, current: int, units: int) -> bool:
        """Whether the current bucket's lease holds `units` (nothing is spent)."""
        return self.leased.get(current, 0) >= units

    def plan(
        self,
        bucket: int,
        current: int,
        units: int,
        view: View | None,
        buckets: int = LEASE_BUCKETS,
        waiting: bool = True,
    ) -> dict[int, int]:
        """The units a take at `bucket` asks for, by bucket: the caller's `units` and the lease's, in
        `bucket` and the `buckets` - 1 after it (and, if `waiting`, one for each caller waiting)."""
        sched = self.schedule
        adds = {bucket: units}
        with self._waiting_lock:
            behind = self.waiting - 1
        if view is None:
            return adds
        if waiting and behind > 0 and bucket == current:  # what the window has room for, less the reserve
            room = sched.budget - sched.reserve - view.total(sched, bucket) - units
            adds[bucket] += max(0, min(behind - self.leased.get(bucket, 0), room))
        spare = min(sched.lease, sched.budget // 2 - view.total(sched, bucket) - units)
        recent = sum(n for x, n in self.asked.items() if current - HISTORY < x < current)
        so_far = self.asked.get(current, 0)
        if so_far < units:  # the caller asked in an earlier bucket (a slow commit): not demand to come
            recent = max(0, recent - units)
        per_bucket = max(math.ceil(recent / (HISTORY - 1)), so_far)
        for x in range(bucket, bucket + buckets):
            if spare <= 0:
                break
            # The current bucket is expected to see its share, and at least as many again as so far.
            expected = max(per_bucket - so_far, so_far - units) if x == current else per_bucket
            want = expected - self.leased.get(x, 0) - (adds[x] - units if x == bucket else 0)
            extra = max(0, min(want, spare))
            if extra:
                adds[x] = adds.get(x, 0) + extra
                spare -= extra
        return adds

    def keep(self, units: Mapping[int, int], room: int) -> dict[int, int]:
        """Of the lease units a take won (`units`, by bucket), keep `room`, earliest first; the rest, which
        the window counts and nobody may spend, are returned for the caller to hand back."""
        rest = dict(units)
        for x in sorted(rest):
            kept = min(room, rest[x])
            if kept > 0:
                self.leased[x] = self.leased.get(x, 0) + kept
                rest[x] -= kept
                room -= kept
        return {x: n for x, n in rest.items() if n > 0}

    def owed_within(self, reach: range) -> dict[int, int]:
        """The unspent units of the buckets in `reach`, no longer owed once taken (into a commit); those
        of older buckets are forgotten, as the window no longer counts them."""
        owed = pop_within(self.unspent, reach)
        for x in [x for x in self.unspent if x < reach.start]:
            del self.unspent[x]
        return owed
