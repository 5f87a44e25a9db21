"""The route table: one source for the local server, the OpenAPI document and the API Gateway spec."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from shared import identifiers, models
from shared.audit import AuditPage
from shared.auth.callers import Scope
from shared.orders.request import OrderRequest
from shared.risk import RiskSettings

BASE_PATH = "/api/alpaca"
# Every path parameter's check: it raises our 400/404 for a malformed value and returns the clean one.
PARAM_TYPES: dict[str, Callable[[str], str]] = {
    "order_id": identifiers.order_id,
    "symbol": identifiers.symbol,
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below BASE_PATH, with {name} parameters
    entry_point: str
    scope: Scope
    summary: str
    query: tuple[str, ...] = field(default=())
    request: type[BaseModel] | None = None  # JSON body, for the OpenAPI document
    response: type[BaseModel] | None = None
    many: bool = False  # the response is a list of `response`
    webhook: bool = False  # a webhook sender may put its token in the query (it cannot set headers)

    def __post_init__(self) -> None:
        unknown = set(re.findall(r"{(\w+)}", self.path)) - set(PARAM_TYPES)
        if unknown:
            raise ValueError(f"{self.entry_point}: path parameters without a type: {sorted(unknown)}")

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
        "GET", "/account", "get_account", Scope.READ, "Account balances and status", response=models.Account
    ),
    Route(
        "GET",
        "/positions",
        "list_positions",
        Scope.READ,
        "Open positions",
        response=models.Position,
        many=True,
    ),
    Route(
        "POST",
        "/positions/{symbol}/close",
        "close_position",
        Scope.TRADE,
        "Close a position, wholly or by qty or percentage",
        ("qty", "percentage"),
        response=models.ClosePositionResult,
        webhook=True,
    ),
    Route(
        "GET",
        "/orders",
        "list_orders",
        Scope.READ,
        "Orders by status",
        ("status", "limit"),
        response=models.Order,
        many=True,
    ),
    Route(
        "POST",
        "/orders",
        "place_order",
        Scope.TRADE,
        "Place an order",
        request=OrderRequest,
        response=models.Order,
        webhook=True,
    ),
    Route("GET", "/orders/{order_id}", "get_order", Scope.READ, "One order by id", response=models.Order),
    Route(
        "DELETE",
        "/orders/{order_id}",
        "cancel_order",
        Scope.TRADE,
        "Cancel an order",
        response=models.CancelResult,
    ),
    Route(
        "GET",
        "/trades",
        "list_trades",
        Scope.READ,
        "Recent fills, newest first",
        ("limit",),
        response=models.Trade,
        many=True,
    ),
    Route("GET", "/clock", "get_clock", Scope.READ, "Market clock", response=models.MarketClock),
    Route(
        "GET",
        "/config",
        "get_config",
        Scope.READ,
        "Gateway configuration, never a key",
        response=models.GatewayConfig,
    ),
    Route("GET", "/risk", "get_risk", Scope.ADMIN, "Live risk settings", response=RiskSettings),
    Route(
        "PUT",
        "/risk",
        "put_risk",
        Scope.ADMIN,
        "Change risk settings (merged; null clears a field), the kill switch included; audited",
        request=RiskSettings,
        response=RiskSettings,
    ),
    Route(
        "GET",
        "/audit",
        "list_audit",
        Scope.ADMIN,
        "Audit events in server-time order from `since`",
        ("since", "limit"),
        response=AuditPage,
    ),
)

JOBS: tuple[str, ...] = ()


def route_for(entry_point: str) -> Route:
    return next(r for r in ROUTES if r.entry_point == entry_point)
