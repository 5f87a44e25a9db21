"""The order sync's scheduled entry point (locally `POST /jobs/sync_orders`)."""

from __future__ import annotations

from functions._jobs import Run, scheduled
from shared.orders.sync import SyncReport


@scheduled("sync_orders")
def sync_orders(run: Run) -> SyncReport:
    """Orders, fills and events from Alpaca since the cursor; unresolved and stale records settled."""
    return run.gateway.sync.run(run.run_key)
