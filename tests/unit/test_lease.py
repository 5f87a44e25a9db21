"""An instance's lease, without Firestore: what a take asks for, and what it keeps of what it won."""

from __future__ import annotations

from shared.limits.lease import Lease
from shared.limits.schedule import Schedule, View

REAL = Schedule(190, 60.0, 0.25, 0.5, 2.0)


def sparse_lease() -> Lease:
    """One unit asked for in each of the last four buckets (100 to 103)."""
    lease = Lease(REAL)
    for bucket in range(100, 104):
        lease.note(bucket, 1)
    lease.note(104, 1)  # the caller's own, in the current bucket
    return lease


def test_a_first_take_with_nothing_seen_asks_only_for_its_own_unit() -> None:
    assert Lease(REAL).plan(104, 104, 1, None) == {104: 1}


def test_one_unit_a_bucket_of_demand_leases_one_in_each_of_the_next_three_buckets() -> None:
    assert sparse_lease().plan(104, 104, 1, View({104: 0}, 104)) == {104: 1, 105: 1, 106: 1, 107: 1}


def test_a_lone_caller_whose_commit_came_buckets_later_leases_nothing() -> None:
    """Its own ask, noted when it came, is the only demand: a slow first commit is no sign of more."""
    lease = Lease(REAL)
    lease.note(101, 1)
    assert lease.plan(104, 104, 1, View({104: 0}, 104)) == {104: 1}


def test_a_window_more_than_half_full_leases_nothing_for_demand() -> None:
    busy = View({60: REAL.budget // 2}, 104)
    assert sparse_lease().plan(104, 104, 1, busy) == {104: 1}


def test_callers_waiting_behind_the_take_get_a_unit_each_even_in_a_busy_window() -> None:
    lease = sparse_lease()
    busy = View({60: REAL.budget - 20}, 104)
    with lease.caller(), lease.caller(), lease.caller():
        assert lease.plan(104, 104, 1, busy) == {104: 3}


def test_callers_waiting_get_no_more_units_than_the_window_seen_has_above_the_reserve() -> None:
    lease = sparse_lease()
    nearly_full = View({60: REAL.budget - REAL.reserve - 2}, 104)
    with lease.caller(), lease.caller(), lease.caller(), lease.caller():
        assert lease.plan(104, 104, 1, nearly_full) == {104: 2}


def test_a_lease_never_asks_for_more_than_its_share_of_the_budget() -> None:
    lease = Lease(REAL)
    for bucket in range(100, 105):
        lease.note(bucket, 500)
    asked = lease.plan(104, 104, 1, View({104: 0}, 104))
    assert sum(asked.values()) == 1 + REAL.lease


def test_units_won_are_kept_earliest_first_and_the_rest_returned_to_hand_back() -> None:
    lease = Lease(REAL)
    assert lease.keep({105: 1, 106: 1, 107: 1}, room=2) == {107: 1}
    assert lease.leased == {105: 1, 106: 1}


def test_a_lease_unit_is_spent_only_in_its_own_bucket_and_owed_back_once_past() -> None:
    lease = Lease(REAL)
    lease.keep({105: 1, 106: 1}, room=2)
    assert not lease.spend(104, 1)
    assert lease.spend(105, 1)
    assert not lease.spend(107, 1)
    assert lease.unspent == {106: 1}


def test_unspent_units_go_into_a_commit_within_reach_and_older_ones_are_forgotten() -> None:
    lease = Lease(REAL)
    lease.keep({50: 1, 105: 1}, room=2)
    lease.spend(200, 0)  # both buckets are past: unspent
    assert lease.owed_within(range(100, 300)) == {105: 1}
    assert lease.unspent == {}


def test_a_trades_take_leases_for_the_demand_in_its_own_bucket_only() -> None:
    """Three units asked for so far in the current bucket, one in each before: a trade's take leases
    the two more expected in its own bucket, and none in the buckets after it."""
    lease = sparse_lease()
    lease.note(104, 2)
    assert lease.plan(104, 104, 1, View({104: 0}, 104), buckets=1, waiting=False) == {104: 3}


def test_a_trades_take_leases_nothing_for_callers_waiting_behind_it() -> None:
    lease = sparse_lease()
    busy = View({60: REAL.budget - 20}, 104)
    with lease.caller(), lease.caller(), lease.caller():
        assert lease.plan(104, 104, 1, busy, buckets=1, waiting=False) == {104: 1}
