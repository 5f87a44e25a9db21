"""The order sync's scheduled entry point (locally `POST /jobs/sync_orders`)."""

from __future__ import annotations

from functions._jobs import Run, scheduled
from shared.orders.sync import SyncReport


@scheduled("sync_orders")
def sync_orders(run: Run) -> SyncReport:
    """Orders, fills and events from Alpaca since the cursor; unresolved and stale records settled."""
    report = run.gateway.sync.run(run.run_key)
    # Due notification retries ride on the sync's schedule (and on each new notification).
    return report.model_copy(update={"notifications_retried": run.gateway.notify.retry_due()})
