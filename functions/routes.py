"""ROUTES (API), JOBS (scheduled), TRIGGERS (Firestore events) and PAGES (the dashboard): one source for the
local server, the OpenAPI document, the API Gateway config and the deploy generator."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel

from shared import identifiers
from shared.auth.callers import Scope

if TYPE_CHECKING:
    from functions.inputs import NoInput

BASE_PATH = "/api/alpaca"
# Every path parameter's check: it raises our 400/404 for a malformed value and returns the clean one.
PARAM_TYPES: dict[str, Callable[[str], str]] = {
    "order_id": identifiers.order_id,
    "symbol": identifiers.symbol,
    "dead_letter_id": identifiers.dead_letter_id,
}
PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "order_id": {"type": "string", "format": "uuid", "description": "An Alpaca order id"},
    "symbol": {
        "type": "string",
        "description": "AAPL, BRK.B, BTC/USD (encode the slash as %2F), BTCUSD, or an asset id",
    },
    "dead_letter_id": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "A dead letter's id"},
}


@cache
def model(name: str) -> type[BaseModel]:
    """The model class `name` ("module:Class") names, imported on first use: the table names every
    route's models without importing them, so an instance loads only the modules of its own route."""
    module, _, attribute = name.partition(":")
    found = getattr(import_module(module), attribute)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise TypeError(f"{name} is not a model")
    return found


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below BASE_PATH, with {name} parameters
    entry_point: str
    scope: Scope
    summary: str
    query: str | None = None  # the query string's model ("module:Class", a NoInput)
    body: str | None = None  # the JSON body's model
    response: str | None = None
    many: bool = False  # the response is a list of `response`
    webhook: bool = False  # a webhook sender may put its token in the query (it cannot set headers)

    def __post_init__(self) -> None:
        unknown = set(re.findall(r"{(\w+)}", self.path)) - set(PARAM_TYPES)
        if unknown:
            raise ValueError(f"{self.entry_point}: path parameters without a type: {sorted(unknown)}")

    @property
    def query_model(self) -> type[NoInput] | None:
        return cast("type[NoInput]", model(self.query)) if self.query else None

    @property
    def body_model(self) -> type[BaseModel] | None:
        return model(self.body) if self.body else None

    @property
    def response_model(self) -> type[BaseModel] | None:
        return model(self.response) if self.response else None

    @property
    def params(self) -> dict[str, Callable[[str], str]]:
        """Path parameter names, in order, with their checks."""
        return {name: PARAM_TYPES[name] for name in re.findall(r"{(\w+)}", self.path)}

    @property
    def pattern(self) -> re.Pattern[str]:
        """Matches the route's path at the end of a request path (API Gateway appends the full path)."""
        body = re.sub(
            r"{(\w+)}", r"(?P<\1>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}")
        )
        return re.compile(body + r"/?$")


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/account",
        "get_account",
        Scope.READ,
        "Account balances and status",
        response="shared.models:Account",
    ),
    Route(
        "GET",
        "/positions",
        "list_positions",
        Scope.READ,
        "Open positions",
        response="shared.models:Position",
        many=True,
    ),
    Route(
        "POST",
        "/positions/{symbol}/close",
        "close_position",
        Scope.TRADE,
        "Close a position, wholly or by qty or percentage",
        query="functions.inputs:CloseSize",
        body="functions.inputs:CloseSize",
        response="shared.models:ClosePositionResult",
        webhook=True,
    ),
    Route(
        "GET",
        "/orders",
        "list_orders",
        Scope.READ,
        "Orders by status",
        query="functions.inputs:OrdersQuery",
        response="shared.models:Order",
        many=True,
    ),
    Route(
        "POST",
        "/orders",
        "place_order",
        Scope.TRADE,
        "Place an order",
        body="shared.orders.request:OrderRequest",
        response="shared.models:Order",
        webhook=True,
    ),
    Route(
        "GET",
        "/orders/{order_id}",
        "get_order",
        Scope.READ,
        "One order by id",
        response="shared.models:Order",
    ),
    Route(
        "DELETE",
        "/orders/{order_id}",
        "cancel_order",
        Scope.TRADE,
        "Cancel an order",
        response="shared.models:CancelResult",
    ),
    Route(
        "GET",
        "/trades",
        "list_trades",
        Scope.READ,
        "Recent fills, newest first",
        query="functions.inputs:TradesQuery",
        response="shared.models:Trade",
        many=True,
    ),
    Route("GET", "/clock", "get_clock", Scope.READ, "Market clock", response="shared.models:MarketClock"),
    Route(
        "GET",
        "/config",
        "get_config",
        Scope.READ,
        "Gateway configuration, never a key",
        response="shared.models:GatewayConfig",
    ),
    Route(
        "GET",
        "/risk",
        "get_risk",
        Scope.ADMIN,
        "Live risk settings",
        response="shared.risk.settings:RiskSettings",
    ),
    Route(
        "PUT",
        "/risk",
        "put_risk",
        Scope.ADMIN,
        "Change risk settings (merged; null clears a field), the kill switch included; audited",
        body="shared.risk.settings:RiskChange",
        response="shared.risk.settings:RiskSettings",
    ),
    Route(
        "GET",
        "/audit",
        "list_audit",
        Scope.ADMIN,
        "Audit events in server-time order from `since`",
        query="functions.inputs:AuditQuery",
        response="shared.audit:AuditPage",
    ),
    Route(
        "GET",
        "/fills",
        "list_fills",
        Scope.READ,
        "Fills oldest first from `since` or after `cursor`, each with a stable id (a new-fill trigger)",
        query="functions.inputs:FillsQuery",
        response="shared.orders.fills:FillsPage",
    ),
    Route(
        "GET",
        "/analytics",
        "get_analytics",
        Scope.READ,
        "Orders, fills, fill rate, rejections, denials, slippage (bps, positive is worse) and latency phases",
        query="functions.inputs:AnalyticsQuery",
        response="shared.analytics.report:AnalyticsReport",
    ),
    Route(
        "GET",
        "/notifications",
        "get_notifications",
        Scope.ADMIN,
        "Notification targets (secrets never returned)",
        response="shared.notify.targets:NotificationsView",
    ),
    Route(
        "PUT",
        "/notifications",
        "put_notifications",
        Scope.ADMIN,
        "Replace the notification targets; a target without secret keeps its stored one; audited",
        body="shared.notify.targets:NotificationsChange",
        response="shared.notify.targets:NotificationsView",
    ),
    Route(
        "GET",
        "/notifications/failed",
        "list_failed_notifications",
        Scope.ADMIN,
        "Dead-lettered deliveries, newest first",
        query="functions.inputs:FailedQuery",
        response="shared.notify.deadletters:DeadLetters",
    ),
    Route(
        "POST",
        "/notifications/failed/{dead_letter_id}/replay",
        "replay_failed_notification",
        Scope.ADMIN,
        "Deliver a dead letter once more (same webhook-id and body)",
        response="shared.notify.deadletters:Replay",
    ),
    Route(
        "GET",
        "/snapshots",
        "list_snapshots",
        Scope.READ,
        "Position snapshots of one exchange date, newest first",
        query="functions.inputs:DateQuery",
        response="shared.eod.reports:Snapshot",
        many=True,
    ),
    Route(
        "GET",
        "/eod",
        "get_eod_run",
        Scope.READ,
        "The scheduled flatten run of one session: state, times, each symbol's outcome, the orders placed",
        query="functions.inputs:DateQuery",
        response="shared.eod.reports:FlattenRun",
    ),
    Route(
        "POST",
        "/flatten",
        "flatten_now",
        Scope.TRADE,
        "Flatten now (reducing-only first, cancel, close, poll); idempotent by Idempotency-Key; audited",
        body="functions.inputs:FlattenRequest",
        response="shared.eod.reports:FlattenRun",
    ),
)


@dataclass(frozen=True)
class Job:
    """A scheduled entry point: Cloud Scheduler calls it on `schedule` (cron, in `time_zone`)."""

    entry_point: str
    schedule: str
    summary: str
    time_zone: str = "America/New_York"
    # More crons for the same entry point (one Scheduler job each); runs they share are harmless.
    extra_schedules: tuple[str, ...] = ()

    @property
    def schedules(self) -> tuple[str, ...]:
        return (self.schedule, *self.extra_schedules)


@dataclass(frozen=True)
class Trigger:
    """A Firestore-triggered entry point: Eventarc delivers `event_type` for documents at `document`."""

    entry_point: str
    document: str
    event_type: str
    summary: str


# Cloud Scheduler knows nothing of holidays or 13:00 closes: the flatten is called every 5 minutes in the
# last hour before both closes and acts only inside FLATTEN_LEAD_MINUTES of Alpaca's next_close.
JOBS: tuple[Job, ...] = (
    Job(
        "flatten_positions",
        "*/5 12,15 * * 1-5",
        "Flatten the configured asset classes before the close (13:00 or 16:00), once per session",
    ),
    Job(
        "snapshot_positions",
        "5 13,16 * * 1-5",
        "Snapshot account equity and every position after the 13:00 and 16:00 closes",
    ),
    Job(
        "sync_orders",
        "* 9-16 * * 1-5",
        "Order sync: statuses, fills and order events from Alpaca; settles open records",
        extra_schedules=("*/15 * * * *",),
    ),
)
TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "notify_on_audit",
        "audit/{id}",
        "google.cloud.firestore.document.v1.created",
        "Deliver each new audit event to the notification targets that want it",
    ),
)


@dataclass(frozen=True)
class Page:
    """A public web page outside BASE_PATH: its function serves `path`, `path/` and each of its files
    at `path/<name>`; no credential is needed to load it (its API calls carry the user's token)."""

    entry_point: str
    path: str
    summary: str

    @property
    def paths(self) -> tuple[str, str, str]:
        """The paths API Gateway routes to it: the page without and with its slash, one file below it."""
        return (self.path, f"{self.path}/", f"{self.path}/{{asset}}")


PAGES: tuple[Page, ...] = (
    Page("dashboard", "/app", "The phone dashboard: book, cancel, kill switch, flatten (dashboard/)"),
)


def route_for(entry_point: str) -> Route:
    return _one(ROUTES, entry_point, "ROUTES")


def job_for(entry_point: str) -> Job:
    return _one(JOBS, entry_point, "JOBS")


def trigger_for(entry_point: str) -> Trigger:
    return _one(TRIGGERS, entry_point, "TRIGGERS")


def entry_points() -> list[str]:
    """Every entry point the deploy index must export."""
    return sorted(e.entry_point for table in (ROUTES, JOBS, TRIGGERS, PAGES) for e in table)


T = TypeVar("T", Route, Job, Trigger, Page)


def _one(table: tuple[T, ...], entry_point: str, name: str) -> T:
    found = [entry for entry in table if entry.entry_point == entry_point]
    if len(found) != 1:
        raise LookupError(f"{entry_point!r} is not an entry point of {name} (it has {len(found)})")
    return found[0]
