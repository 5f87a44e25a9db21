"""Moving the sandbox clock: `POST /_sandbox/clock/advance` to the next open or close, processing orders
on the way, and the rule for setting it back: refused while orders or fills are dated after the target."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Sandbox
from tests.sandbox.conftest import SATURDAY_NOON, Trader


def advance_to(sandbox: Sandbox, edge: str) -> httpx.Response:
    return sandbox.admin.post("/_sandbox/clock/advance", json={"to": edge})


def now(sandbox: Sandbox) -> dict[str, Any]:
    body: dict[str, Any] = sandbox.admin.get("/_sandbox/clock").json()
    return body


def test_advance_to_next_open_fills_an_order_accepted_over_the_weekend(sandbox: Sandbox) -> None:
    """A market buy accepted on Saturday fills at Monday's 09:30 ET open when the clock jumps there."""
    sandbox.set_clock(SATURDAY_NOON, frozen=True)
    trader = Trader(sandbox)
    order = trader.placed(symbol="AAPL")
    assert order["status"] == "accepted"
    response = advance_to(sandbox, "next_open")
    assert response.status_code == 200 and response.json()["now"] == "2025-06-23T13:30:00.000000Z"
    filled = trader.get_order(order["id"])
    assert filled["status"] == "filled" and filled["filled_at"] == "2025-06-23T13:30:00.000000Z"


def test_advance_to_next_close_expires_a_day_order(trader: Trader) -> None:
    """A resting day limit expires at the 16:00 ET close the clock jumps to."""
    order = trader.placed(symbol="AAPL", type="limit", limit_price="1.00")
    response = advance_to(trader.box, "next_close")
    assert response.status_code == 200 and response.json()["now"] == "2025-06-24T20:00:00.000000Z"
    assert trader.get_order(order["id"])["status"] == "expired"


def test_advance_to_keeps_a_frozen_clock_frozen(trader: Trader) -> None:
    """Jumping to an edge of the calendar leaves the clock as frozen as it was."""
    advance_to(trader.box, "next_close")
    assert now(trader.box)["frozen"] is True


def test_advance_to_an_unknown_edge_is_422(sandbox: Sandbox) -> None:
    """Only next_open and next_close are edges the clock can jump to."""
    response = advance_to(sandbox, "next_week")
    assert response.status_code == 422
    assert response.json()["message"] == "to must be next_open or next_close"


def test_advance_with_both_seconds_and_to_is_422(sandbox: Sandbox) -> None:
    """One move at a time: seconds or to, never both."""
    response = sandbox.admin.post("/_sandbox/clock/advance", json={"seconds": 60, "to": "next_open"})
    assert response.status_code == 422
    assert response.json()["message"] == "give either seconds or to"


def test_setting_the_clock_before_an_existing_order_is_409_and_keeps_the_time(trader: Trader) -> None:
    """Orders dated after the target would come from the future: the move is refused, the clock stays."""
    trader.placed(symbol="AAPL")
    response = trader.box.admin.put("/_sandbox/clock", json={"now": "2025-06-23T14:00:00Z", "frozen": True})
    assert response.status_code == 409
    assert response.json() == {
        "code": 40910000,
        "message": "cannot move the clock back to 2025-06-23T14:00:00.000000Z: orders or fills are dated "
        "after it; POST /_sandbox/reset first",
        "orders": 1,
        "fills": 1,
    }
    assert now(trader.box)["now"] == "2025-06-24T14:00:00.000000Z"


def test_setting_the_clock_back_to_after_every_order_is_allowed(trader: Trader) -> None:
    """Going back is fine while nothing is dated after the target."""
    trader.placed(symbol="AAPL")
    trader.box.advance(3600)
    response = trader.box.admin.put("/_sandbox/clock", json={"now": "2025-06-24T14:30:00Z", "frozen": True})
    assert response.status_code == 200 and response.json()["now"] == "2025-06-24T14:30:00.000000Z"


def test_reset_clears_the_way_to_any_earlier_time(trader: Trader) -> None:
    """After a reset there are no orders, so the clock can be set to any instant."""
    trader.placed(symbol="AAPL")
    trader.box.reset()
    trader.box.set_clock("2020-01-02T15:00:00Z", frozen=True)
    assert now(trader.box)["now"] == "2020-01-02T15:00:00.000000Z"
