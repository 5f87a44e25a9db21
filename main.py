"""Deploy index: every Cloud Function entry point, for `--entry-point`, nothing else. Each is imported
when first asked for (functions-framework looks up only the one it serves), so an instance loads its own
entry point's module and what that needs, not every route's."""

import os
from importlib import import_module
from typing import Any

import flask

from functions._http import route_errors_as_json
from shared import logs
from shared.app import warm_up_workers

_MODULES = {  # each entry point's module under functions/
    "cancel_order": "orders",
    "close_position": "positions",
    "dashboard": "dashboard",
    "flatten_now": "eod",
    "flatten_positions": "jobs",
    "get_account": "account",
    "get_analytics": "analytics",
    "get_clock": "account",
    "get_config": "account",
    "get_eod_run": "eod",
    "get_notifications": "notifications",
    "get_order": "orders",
    "get_risk": "risk",
    "list_audit": "audit",
    "list_failed_notifications": "notifications",
    "list_fills": "analytics",
    "list_orders": "orders",
    "list_positions": "positions",
    "list_snapshots": "eod",
    "list_trades": "orders",
    "notify_on_audit": "events",
    "place_order": "orders",
    "put_notifications": "notifications",
    "put_risk": "risk",
    "replay_failed_notification": "notifications",
    "snapshot_positions": "jobs",
    "sync_orders": "sync",
}
__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    """The entry point `name`, from its module (imported now if it was not yet)."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'main' has no attribute {name!r}")
    return getattr(import_module(f"functions.{module}"), name)


logs.install()  # one JSON object per line on stdout, as Cloud Logging reads them
# No pydantic plugin is used: the first validator built (models build on first use) then skips reading
# every installed package's entry points, 5 to 15 ms of a cold start's first request.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
warm_up_workers()  # each served worker builds the gateway and connects while it starts

if flask.has_app_context():
    # Loaded by functions-framework: a path its router cannot match answers JSON, not an HTML page.
    route_errors_as_json(flask.current_app)
