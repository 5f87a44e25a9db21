"""The sliding window's arithmetic, without Firestore: the proof's quantities and the instance's view."""

from __future__ import annotations

import math

from shared.limits.schedule import BUCKETS, TICKET, Schedule, View, decode
from tests.support.limits import SCHEDULE

REAL = Schedule(190, 60.0, 0.25, 0.5, 2.0)


def test_a_window_check_spans_every_bucket_a_rolling_window_can_meet() -> None:
    """span covers window + width + guard of true time, so any window's sends share one check."""
    for schedule in (SCHEDULE, REAL, Schedule(5, 1.0, 0.05, 0.2, 1.0)):
        reach = schedule.window + schedule.width + schedule.guard
        assert schedule.span >= math.ceil(reach / schedule.width - 1e-9)
        assert schedule.span <= BUCKETS + 1 + math.ceil(schedule.guard / schedule.width) + 1e-9


def test_a_window_check_reads_a_distinct_cell_for_every_bucket() -> None:
    for schedule in (SCHEDULE, REAL):
        cells = {schedule.cell(x) for x in schedule.window_buckets(12345)}
        assert len(cells) == schedule.span + schedule.ahead


def test_a_commit_aimed_as_far_ahead_as_it_may_resets_no_cell_a_check_now_still_counts() -> None:
    """A commit resets `ahead` cells past its own bucket, which may be `reach` after its clock's (a
    clock a bucket ahead, too): none of them may hold a bucket a check at this clock totals."""
    for schedule in (SCHEDULE, REAL, Schedule(190, 60.0, 0.25, 0.5, 10.0)):
        now = 12345
        counted = {schedule.cell(x) for x in range(now - schedule.span + 1, now + 1)}
        farthest = now + 1 + schedule.reach
        reset = {schedule.cell(x) for x in schedule.resets(farthest, now + 1)}
        assert not counted & reset


def test_at_the_real_window_every_commit_resets_all_its_cells_ahead() -> None:
    """The cap on resets never binds at 60 s: a pause up to `ahead` buckets still costs one write."""
    now = 12345
    for bucket in range(now, now + REAL.reach + 1):
        assert len(REAL.resets(bucket, now)) == REAL.ahead


def test_the_over_count_is_under_two_percent_at_the_real_budget_and_under_four_in_tests() -> None:
    """The check totals span buckets for a window of BUCKETS: at most BUCKETS / span is usable."""
    assert BUCKETS / REAL.span >= 0.98
    assert BUCKETS / SCHEDULE.span >= 0.96


def test_a_cell_holds_its_bucket_and_count() -> None:
    assert decode(77 * TICKET + 5) == (77, 5)


def test_the_view_says_when_the_oldest_bucket_leaves() -> None:
    """Full at bucket 100: room comes back when bucket 100 leaves, span buckets later."""
    view = View({100: SCHEDULE.budget}, seen_at=100)
    assert view.free_at(SCHEDULE, 101, SCHEDULE.budget, 1) == 100 + SCHEDULE.span
    half = View({100: 10, 105: 10}, seen_at=105)
    assert half.free_at(SCHEDULE, 106, SCHEDULE.budget, 1) == 100 + SCHEDULE.span
    assert half.free_at(SCHEDULE, 106, SCHEDULE.budget, 0) == 106


def test_later_buckets_count_in_every_check() -> None:
    """Counts from an instance whose clock runs ahead are counted, never skipped."""
    view = View({200: 3}, seen_at=199)
    assert view.total(SCHEDULE, 150) == 3
