"""The order's story for readers: the fills feed (a "new fill" trigger for no-code tools) and the
execution analytics."""

from __future__ import annotations

from functions._http import Call, endpoint
from functions.inputs import AnalyticsQuery, FillsQuery, NoInput
from shared.analytics.report import AnalyticsReport
from shared.orders.fills import FillsPage


@endpoint("list_fills")
def list_fills(call: Call[NoInput, FillsQuery]) -> FillsPage:
    """Fills the order sync stored, oldest first; Firestore only, so polling costs no broker request."""
    return call.gateway.fills.page(call.query.since, call.query.cursor, call.query.limit)


@endpoint("get_analytics")
def get_analytics(call: Call[NoInput, AnalyticsQuery]) -> AnalyticsReport:
    """Orders, fills, slippage against the arrival price and latency phases over a bounded window."""
    q = call.query
    return call.gateway.analytics.report(q.since, q.until, q.symbol, q.caller)
