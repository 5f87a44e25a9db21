"""One symbol's liquidation orders: market orders under deterministic client order ids, each recorded
before it is sent, and looked up by that id before any further one, so no share is ever sold twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.alpaca.client import AlpacaClient
from shared.alpaca.errors import sent_without_answer
from shared.eod.session import liquidation_id
from shared.errors import GatewayError, NotFound

OPEN_STATUSES = frozenset(
    {
        "new",
        "accepted",
        "pending_new",
        "partially_filled",
        "held",
        "done_for_day",
        "pending_cancel",
        "pending_replace",
        "accepted_for_bidding",
        "calculated",
        "stopped",
        "suspended",
    }
)
SENDING = "sending"  # recorded, and maybe sent: its fate is read back by its client order id
UNKNOWN = "unknown"  # sent, and the answer was lost
FAILED = "failed"  # refused by the broker: nothing was placed, the same id may be sent again


def compact_symbol(symbol: str) -> str:
    """One spelling per instrument: a position's `BTCUSD` and an order's `BTC/USD` compare equal."""
    return symbol.replace("/", "").upper()


def liquidation_order(position: dict[str, Any], client_order_id: str) -> dict[str, Any]:
    """The market order that takes `position` to zero (a short is bought back), valid for its class."""
    qty = abs(Decimal(str(position["qty"])))
    long = position.get("side", "long") == "long" and Decimal(str(position["qty"])) > 0
    crypto = position.get("asset_class") == "crypto"
    return {
        "symbol": position["symbol"],
        "qty": format(qty.normalize(), "f"),
        "side": "sell" if long else "buy",
        "type": "market",
        "time_in_force": "gtc" if crypto else "day",  # a DAY order is only sent before the close
        "client_order_id": client_order_id,
    }


class Liquidator:
    """Sends and follows the liquidation orders of one run, whose attempts live in the run's record."""

    def __init__(self, alpaca: AlpacaClient, tag: str) -> None:
        self._alpaca = alpaca
        self._tag = tag

    def ours(self, order: dict[str, Any]) -> bool:
        return str(order.get("client_order_id") or "").startswith(self._tag + "-")

    def next_attempt(self, entry: dict[str, Any], look_up_first: bool) -> int | None:
        """The attempt to send now, or None while one of ours is still working at the broker. The last
        recorded attempt (or, on a resumed run, the first) is read back by its id: not found means it
        may be sent (again) under the same id; filled or ended means the next id."""
        orders: list[dict[str, Any]] = entry["orders"]
        if not orders:
            if not look_up_first:
                return 1
            orders.append({"attempt": 1, "client_order_id": self._id(entry, 1), "status": SENDING})
        last = orders[-1]
        try:
            found = self._alpaca.order_by_client_id(str(last["client_order_id"]))
        except NotFound:
            return int(last["attempt"])
        last.update(order_id=found.get("id"), status=found.get("status"), filled_qty=found.get("filled_qty"))
        if found.get("status") in OPEN_STATUSES:
            return None
        return int(last["attempt"]) + 1

    def refresh(self, entry: dict[str, Any]) -> None:
        """Read back the last attempt whose answer did not say filled, so the outcome names the fill."""
        orders: list[dict[str, Any]] = entry["orders"]
        if not orders or orders[-1].get("status") == "filled":
            return
        last = orders[-1]
        try:
            found = self._alpaca.order_by_client_id(str(last["client_order_id"]))
        except GatewayError:
            return
        last.update(order_id=found.get("id"), status=found.get("status"), filled_qty=found.get("filled_qty"))

    def prepare(self, entry: dict[str, Any], position: dict[str, Any], attempt: int) -> dict[str, Any]:
        """Attempt `attempt`, marked as sending: the caller records it before it `place`s it."""
        orders: list[dict[str, Any]] = entry["orders"]
        cid = self._id(entry, attempt)
        current = next((o for o in orders if o["attempt"] == attempt), None)
        if current is None:
            current = {"attempt": attempt, "client_order_id": cid}
            orders.append(current)
        current.update(status=SENDING, qty=liquidation_order(position, cid)["qty"])
        return current

    def place(self, current: dict[str, Any], position: dict[str, Any]) -> None:
        cid = str(current["client_order_id"])
        try:
            placed = self._alpaca.place_order(liquidation_order(position, cid))
        except GatewayError as exc:
            current.update(status=UNKNOWN if sent_without_answer(exc) else FAILED, error=exc.reason)
            current["message"] = exc.message
            return
        current.pop("error", None)
        current.pop("message", None)
        current.update(
            order_id=placed.get("id"), status=placed.get("status"), filled_qty=placed.get("filled_qty")
        )

    def _id(self, entry: dict[str, Any], attempt: int) -> str:
        return liquidation_id(self._tag, str(entry["symbol"]), attempt)
