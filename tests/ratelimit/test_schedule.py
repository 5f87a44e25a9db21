"""The slot grid's arithmetic: the facts the limiter's guarantee rests on."""

from __future__ import annotations

from shared.limits.schedule import Schedule
from tests.ratelimit.conftest import SCHEDULE


def test_read_ordinals_walk_the_grid_without_its_trade_slots() -> None:
    """Read ordinals map one to one onto the slots that are not trade slots, in order."""
    slots = [SCHEDULE.read_slot(n) for n in range(40)]
    assert slots == sorted(set(slots))
    assert not any(SCHEDULE.is_trade(k) for k in slots)
    assert len(slots) + len(range(0, slots[-1], SCHEDULE.trade_every)) == slots[-1] + 1


def test_read_ordinal_names_the_first_read_slot_at_or_after_a_slot() -> None:
    """read_ordinal is the inverse of read_slot, rounding trade slots up to the next read slot."""
    for slot in range(1, 60):
        ordinal = SCHEDULE.read_ordinal(slot)
        assert SCHEDULE.read_slot(ordinal) >= slot
        assert ordinal == 0 or SCHEDULE.read_slot(ordinal - 1) < slot


def test_any_window_holds_at_most_the_budget_even_with_late_sends() -> None:
    """Slots a budget apart start window + guard apart, so late sends still cannot share a window."""
    for schedule in (SCHEDULE, Schedule(190, 60.0, 0.25, 0.5, 2.0), Schedule(5, 1.0, 0.05, 0.2, 1.0)):
        gap = schedule.start(schedule.budget) - schedule.start(0)
        assert gap - schedule.lateness >= schedule.window + schedule.guard / 2 - 1e-6


def test_a_trade_slot_starts_between_the_read_horizon_and_the_trade_wait() -> None:
    """Whenever a trade arrives, a trade slot lies beyond what reads may claim and within its wait."""
    for schedule in (SCHEDULE, Schedule(190, 60.0, 0.25, 0.5, 2.0)):
        for step in range(200):
            now = 1_800_000_000.0 + step * 0.0371
            low = now + schedule.read_wait + schedule.guard
            assert any(True for _ in schedule.trade_slots(low, now + schedule.trade_wait))
