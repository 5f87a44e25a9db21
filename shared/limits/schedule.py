"""The slot schedule: its arithmetic, and the proof of its guarantee.

Guarantee: at most `budget` upstream requests per key in any rolling `window` seconds, across every
process. Time is a grid of slots `k`, slot k starting at EPOCH + k * interval, interval =
(window + guard) / budget. Every slot is handed out at most once (shared/limits/slots.py), and a request may
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
from collections.abc import Iterator
from dataclasses import dataclass

EPOCH = 1_700_000_000.0  # slot 0; any fixed instant works, every instance must agree on it


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
