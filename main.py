"""Deploy index: every Cloud Function entry point, re-exported for `--entry-point`; nothing else."""

import os

import flask

from functions._http import route_errors_as_json
from functions.account import get_account, get_clock, get_config
from functions.analytics import get_analytics, list_fills
from functions.audit import list_audit
from functions.dashboard import dashboard
from functions.eod import flatten_now, get_eod_run, list_snapshots
from functions.events import notify_on_audit
from functions.jobs import flatten_positions, snapshot_positions
from functions.notifications import (
    get_notifications,
    list_failed_notifications,
    put_notifications,
    replay_failed_notification,
)
from functions.orders import cancel_order, get_order, list_orders, list_trades, place_order
from functions.positions import close_position, list_positions
from functions.risk import get_risk, put_risk
from functions.sync import sync_orders
from shared import logs
from shared.app import warm_up_workers

__all__ = [
    "cancel_order",
    "close_position",
    "dashboard",
    "flatten_now",
    "flatten_positions",
    "get_account",
    "get_analytics",
    "get_clock",
    "get_config",
    "get_eod_run",
    "get_notifications",
    "get_order",
    "get_risk",
    "list_audit",
    "list_failed_notifications",
    "list_fills",
    "list_orders",
    "list_positions",
    "list_snapshots",
    "list_trades",
    "notify_on_audit",
    "place_order",
    "put_notifications",
    "put_risk",
    "replay_failed_notification",
    "snapshot_positions",
    "sync_orders",
]

logs.install()  # one JSON object per line on stdout, as Cloud Logging reads them
# No pydantic plugin is used: the first validator built (models build on first use) then skips reading
# every installed package's entry points, 5 to 15 ms of a cold start's first request.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
warm_up_workers()  # each served worker builds the gateway and connects while it starts

if flask.has_app_context():
    # Loaded by functions-framework: a path its router cannot match answers JSON, not an HTML page.
    route_errors_as_json(flask.current_app)
