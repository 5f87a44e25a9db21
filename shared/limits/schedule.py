"""The sliding window's arithmetic: time buckets, the ring of cells that counts them, and the proof.

Guarantee: at most `budget` upstream requests per key in any rolling `window` seconds, across every
process, with a burst of the whole budget served at once after an idle window.

Time is cut into buckets of `width` = window / BUCKETS seconds. A send is a *unit*. A take commit
(shared/limits/slot_store.py) adds k units to the counts of bucket x, the caller's, and of the
LEASE_BUCKETS - 1 after it (a lease for the instance's coming demand, x + 3 <= x + ahead), and returns
in that same commit every count from bucket x - span + 1 on, its own units included: the total T. It
grants g of its k units, the caller's first and then the earliest, where g is at most budget - (T - k),
and only while the caller's clock reads before start(x) + width + guard/4; a unit of a later bucket y
is spent only from start(y) on. A granted unit's request starts to be written before
start(x) + width + guard/2 (`send_by`: the client checks just before the request's first byte goes out,
and a unit past it is never sent). Counts only ever fall when a unit that was not and will never be sent
is handed back (the units not granted, a lease's units left unspent, and units past `send_by`).

Proof. Instance clocks are within guard/8 of true time and a request reaches the broker within guard/4
of its first byte (the rest of the guard), so a unit of bucket x arrives at a true time in
[start(x) - guard/8, start(x) + width + guard/2 + guard/4 + guard/8). Take any set S of sends that
arrive inside a rolling window [t, t + window). Any two buckets of S have starts less than
window + width + guard apart, so they are fewer than span = BUCKETS + 1 + ceil(guard / width) buckets
apart. Let r be the commit applied last to the key's document (Firestore applies the commits on one
document one after another) among the commits whose units S holds, x its first bucket, and v the unit
of S it granted with the lowest bucket (v >= x). Every unit of S from an earlier commit was counted
before r and is still counted (it was sent, so never handed back), and its bucket is at least
v - span + 1 >= x - span + 1, inside what r totals, outside r's own k; so those are at most T - k, and
r adds at most g of its own: |S| <= T - k + g <= budget. Those earlier units are also below the end
of what r totals: a commit's first bucket is at most `reach` after its clock's bucket, clocks are less
than a bucket apart, so an earlier commit's units are at most reach + LEASE_BUCKETS - 1 buckets after
r's clock's bucket, and r reads `ahead` >= reach + LEASE_BUCKETS cells past it. Each commit resets
the `ahead` cells after its own bucket (those it does not add to), but none past its clock's bucket
+ ring - span - 2 (`resets`: its own bucket may be up to `reach` after its clock's): a check, by a
clock at most a bucket behind, totals no bucket below that clock's bucket - span + 1, so a cell is
only reused once no check can count its bucket any more.

Priorities: a read's units are granted only while the total stays at most budget - reserve whenever
a trade asked within the last trade wait (`trade_until`), and only if, counting them, `reserve` units
will be free again within one trade wait as older buckets leave the window; a trade may take any free
unit.
So reads never hold the units an order needs for longer than the trade wait.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

EPOCH = 1_700_000_000.0  # bucket 0; any fixed instant works, every instance must agree on it
BUCKETS = 120  # buckets per window: the window check over-counts by (1 + guard / width) buckets
TICKET = 2**20  # a cell holds bucket * TICKET + count: counts below this are told apart
LEASE_BUCKETS = 4  # a lease covers the take's bucket and the next three (2 s at a 60 s window)


@dataclass(frozen=True)
class Schedule:
    """Buckets and cells of the sliding window for one budget (its derived sizes computed once: a commit
    asks for them per bucket)."""

    budget: int
    window: float
    guard: float
    read_wait: float
    trade_wait: float

    @cached_property
    def width(self) -> float:
        return self.window / BUCKETS

    @cached_property
    def span(self) -> int:
        """How many buckets a window check totals (see the proof)."""
        return BUCKETS + 1 + math.ceil(self.guard / self.width - 1e-9)

    @cached_property
    def lead(self) -> int:
        """Buckets after the bucket it takes within which a read must leave the reserve free again: the
        trade wait, less the read's own wait (it may take a bucket that far ahead) and room for the
        waiting trade's own commits."""
        room = self.trade_wait - 2 * self.guard
        return max(1, math.floor(room / self.width + 1e-9))

    @cached_property
    def reach(self) -> int:
        """How many buckets after its clock's bucket a commit's first bucket may be: the longest wait,
        and one more for the clock's skew."""
        return math.ceil(max(self.trade_wait, self.read_wait) / self.width - 1e-9) + 2

    @cached_property
    def ahead(self) -> int:
        """Cells a commit reads and resets after its own bucket: past every unit an earlier commit can
        have taken (see the proof), and at least 16 (8 s at a 60 s window), so a pause shorter than
        that costs no second write."""
        return max(16, self.reach + LEASE_BUCKETS)

    @cached_property
    def ring(self) -> int:
        return self.span + self.ahead + 8

    @cached_property
    def lateness(self) -> float:
        """How long after its bucket ends a commit may still grant (the rest of the guard is jitter)."""
        return self.guard / 4

    @cached_property
    def lease(self) -> int:
        """Units a take may lease beyond the caller's own (2.5% of the budget; none below 40): an instance
        whose recent demand shows more to come takes them in the same commit, in its bucket and the
        next LEASE_BUCKETS - 1, and spends them with no commit of their own."""
        return self.budget // 40

    @cached_property
    def reserve(self) -> int:
        """Units reads leave to trades: 2% of the budget, at least one."""
        return max(1, math.ceil(self.budget * 0.02))

    def bucket(self, when: float) -> int:
        return math.floor((when - EPOCH) / self.width)

    def start(self, bucket: int) -> float:
        return EPOCH + bucket * self.width

    def usable_until(self, bucket: int) -> float:
        """The last instant a unit of `bucket` may be granted."""
        return self.start(bucket) + self.width + self.lateness

    def send_by(self, bucket: int) -> float:
        """The last instant a granted unit of `bucket` may start to be written to the broker."""
        return self.start(bucket) + self.width + self.guard / 2

    def bucket_sent_by(self, send_by: float) -> int:
        """The bucket whose units must be sent by `send_by`."""
        return self.bucket(send_by - self.guard / 2 - self.width / 2)

    def resets(self, bucket: int, clock_bucket: int) -> range:
        """The buckets after `bucket` whose cells a commit at `bucket` resets, made at `clock_bucket`:
        `ahead` of them, but only those whose cell no check can still be counting (see the proof)."""
        return range(bucket + 1, min(bucket + self.ahead, clock_bucket + self.ring - self.span - 2) + 1)

    def cell(self, bucket: int) -> str:
        return f"w{bucket % self.ring:03d}"

    def window_buckets(self, bucket: int) -> range:
        """The buckets a commit at `bucket` totals, then the ones it resets ahead."""
        return range(bucket - self.span + 1, bucket + self.ahead + 1)

    def leaves_at(self, bucket: int) -> float:
        """When a unit of `bucket` stops counting in every later check."""
        return self.start(bucket + self.span)


def decode(value: int) -> tuple[int, int]:
    """A cell's (bucket, count)."""
    return value // TICKET, value % TICKET


@dataclass(frozen=True)
class View:
    """The counts one commit saw, by bucket: what the instance knows of the window."""

    counts: Mapping[int, int]
    seen_at: int  # the bucket of the commit

    def without(self, debts: Mapping[int, int]) -> View:
        """The view once units owed back are gone (their hand-back rides in the next commit)."""
        if not debts:
            return self
        counts = {x: max(0, n - debts.get(x, 0)) for x, n in self.counts.items()}
        return View(counts, self.seen_at)

    def total(self, schedule: Schedule, bucket: int) -> int:
        """Units counted by a check at `bucket` (later buckets included: they count too)."""
        low = bucket - schedule.span + 1
        return sum(n for x, n in self.counts.items() if x >= low)

    def free_at(self, schedule: Schedule, bucket: int, cap: int, units: int) -> int:
        """The first bucket from `bucket` on whose check would leave room for `units` more, if nobody
        else took any: older buckets leave the window one after another."""
        if self.total(schedule, bucket) + units <= cap:
            return bucket
        for x in self._leaving(schedule, bucket):
            if self.total(schedule, x + schedule.span) + units <= cap:
                return x + schedule.span
        return bucket + schedule.span

    def _leaving(self, schedule: Schedule, bucket: int) -> Iterator[int]:
        low = bucket - schedule.span + 1
        yield from sorted(x for x, n in self.counts.items() if x >= low and n > 0)
