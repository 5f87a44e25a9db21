"""The order's story for readers: the fills feed (a "new fill" trigger for no-code tools)."""

from __future__ import annotations

from functions._http import Call, endpoint
from functions.inputs import FillsQuery, NoInput
from shared.orders.fills import FillsPage


@endpoint("list_fills")
def list_fills(call: Call[NoInput, FillsQuery]) -> FillsPage:
    """Fills the order sync stored, oldest first; Firestore only, so polling costs no broker request."""
    return call.gateway.fills.page(call.query.since, call.query.cursor, call.query.limit)
