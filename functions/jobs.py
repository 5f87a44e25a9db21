"""Scheduled entry points: the position snapshot after each close, and the flatten before it."""

from __future__ import annotations

from typing import Any

from functions._jobs import Run, scheduled


@scheduled("snapshot_positions")
def snapshot_positions(run: Run) -> dict[str, Any]:
    """Once per schedule time: duplicate deliveries share the run key, so the snapshot's document."""
    return run.gateway.snapshots.take(run.run_key, run.scheduled_at)


@scheduled("flatten_positions")
def flatten_positions(run: Run) -> dict[str, Any]:
    """Inside the lead time before the close, once per session; otherwise `{"skipped": reason}`."""
    return run.gateway.flatten.scheduled(run.caller, run.request_id)
