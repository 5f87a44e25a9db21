"""The slot grid's arithmetic: the facts the limiter's guarantee rests on."""

from __future__ import annotations

import pytest

from shared.limits.schedule import Schedule
from tests.support.limits import SCHEDULE


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


def test_slots_are_spaced_window_plus_guard_over_the_budget() -> None:
    """The grid's interval is (window + guard) / budget, and slot k starts k intervals after slot 0."""
    assert SCHEDULE.interval == pytest.approx((6.0 + 0.15) / 20)
    assert SCHEDULE.start(7) - SCHEDULE.start(0) == pytest.approx(7 * SCHEDULE.interval)
    assert SCHEDULE.lateness == pytest.approx(0.15 / 2)


def test_first_at_or_after_names_the_slot_starting_at_or_after_a_time() -> None:
    """A slot's own start maps to that slot; a moment later maps to the next one."""
    for slot in (0, 1, 13, 400):
        start = SCHEDULE.start(slot)
        assert SCHEDULE.first_at_or_after(start) == slot
        assert SCHEDULE.first_at_or_after(start + SCHEDULE.interval / 10) == slot + 1


def test_every_trade_every_th_slot_is_a_trade_slot() -> None:
    """Trade slots are the multiples of trade_every, which fits the room between the two waits."""
    assert SCHEDULE.trade_every == 4
    assert [k for k in range(13) if SCHEDULE.is_trade(k)] == [0, 4, 8, 12]
    room = SCHEDULE.trade_wait - SCHEDULE.read_wait - SCHEDULE.guard
    assert SCHEDULE.trade_every * SCHEDULE.interval <= room


def test_trade_slots_are_at_least_every_other_slot_when_the_waits_leave_no_room() -> None:
    """With a trade wait barely above the read wait, trade_every stays at its floor of 2."""
    assert Schedule(budget=20, window=6.0, guard=0.15, read_wait=0.5, trade_wait=0.6).trade_every == 2


def test_trade_slots_lists_the_trade_slots_within_a_span_earliest_first() -> None:
    """trade_slots(start, end) yields exactly the trade slots whose start lies in [start, end]."""
    start, end = SCHEDULE.start(3), SCHEDULE.start(16)
    assert list(SCHEDULE.trade_slots(start, end)) == [4, 8, 12, 16]
    assert list(SCHEDULE.trade_slots(SCHEDULE.start(5), SCHEDULE.start(7))) == []
