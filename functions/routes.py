"""The route table: one source for the local server, the OpenAPI document and the API Gateway spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.auth import Scope

BASE_PATH = "/api/alpaca"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below BASE_PATH, with {name} parameters
    entry_point: str
    scope: Scope
    summary: str
    query: tuple[str, ...] = field(default=())

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def pattern(self) -> re.Pattern[str]:
        """Matches the route's path at the end of a request path (API Gateway appends the full path)."""
        body = re.sub(
            r"{(\w+)}", r"(?P<\1>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}")
        )
        return re.compile(body + r"/?$")


ROUTES: tuple[Route, ...] = (
    Route("GET", "/account", "get_account", Scope.READ, "Account balances and status"),
    Route("GET", "/positions", "list_positions", Scope.READ, "Open positions"),
    Route("POST", "/positions/{symbol}/close", "close_position", Scope.TRADE, "Close a position"),
    Route("GET", "/orders", "list_orders", Scope.READ, "Orders by status", ("status", "limit")),
    Route("POST", "/orders", "place_order", Scope.TRADE, "Place an order"),
    Route("DELETE", "/orders/{order_id}", "cancel_order", Scope.TRADE, "Cancel an order"),
    Route("GET", "/trades", "list_trades", Scope.READ, "Recent fills, newest first", ("limit",)),
    Route("GET", "/clock", "get_clock", Scope.READ, "Market clock"),
    Route("GET", "/config", "get_config", Scope.READ, "Gateway configuration, without secrets"),
)

JOBS: tuple[str, ...] = ()


def route_for(entry_point: str) -> Route:
    return next(r for r in ROUTES if r.entry_point == entry_point)
