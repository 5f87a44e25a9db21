"""The page in Chromium at 390 x 844: sign-in, the panels with the sandbox's book, the phone's width,
a clean console and nothing fetched from off the machine."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from tests.dashboard.conftest import SYMBOL, TOKEN, Phone, Stack, sign_in

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "dashboard.png"
PANELS = ("equity", "positions", "orders", "fills", "trading-state", "flatten", "eod", "activity", "latency")


def wait_for_the_book(phone: Phone, order_id: str) -> None:
    page = phone.page
    expect(page.locator("[data-testid=equity] [data-field=equity]")).to_contain_text("$")
    expect(page.locator(f"[data-testid=positions] li[data-symbol='{SYMBOL}']")).to_be_visible()
    expect(page.locator(f"[data-testid=orders] li[data-order-id='{order_id}']")).to_be_visible()


def test_without_a_token_only_the_form_shows_and_no_api_request_is_made(phone: Phone, stack: Stack) -> None:
    phone.page.goto(stack.app)
    expect(phone.page.locator("input[name=token]")).to_be_visible()
    phone.page.wait_for_timeout(1500)  # past the first refresh, had there been one
    expect(phone.page.locator("[data-testid=panels]")).to_be_hidden()
    assert phone.api_requests() == []


def test_a_token_from_the_form_shows_the_account_a_position_and_the_open_order(
    phone: Phone, stack: Stack
) -> None:
    order_id = stack.place_resting_order()
    sign_in(phone, stack)
    wait_for_the_book(phone, order_id)
    expect(phone.page.locator("input[name=token]")).to_be_hidden()
    for testid in PANELS:
        expect(phone.page.locator(f"[data-testid={testid}]")).to_be_visible()
    position = phone.page.locator(f"[data-testid=positions] li[data-symbol='{SYMBOL}']")
    expect(position).to_contain_text("5")
    expect(position.locator("[data-action=close]")).to_be_enabled()


def test_a_token_in_the_fragment_moves_to_session_storage_and_leaves_the_url(
    phone: Phone, stack: Stack
) -> None:
    order_id = stack.place_resting_order()
    phone.page.goto(f"{stack.app}#token={TOKEN}")
    wait_for_the_book(phone, order_id)
    assert "token" not in phone.page.url
    assert phone.page.evaluate("Object.values(sessionStorage)") == [TOKEN]
    assert all("token" not in url for _, url in phone.requests)


def test_a_refused_token_returns_to_the_form(phone: Phone, stack: Stack) -> None:
    sign_in(phone, stack, token="not-a-token-of-ours")
    expect(phone.page.locator("input[name=token]")).to_be_visible()
    expect(phone.page.locator("[data-testid=panels]")).to_be_hidden()
    assert phone.page.evaluate("sessionStorage.length") == 0


def test_the_page_fits_a_phone_without_sideways_scrolling(phone: Phone, stack: Stack) -> None:
    order_id = stack.place_resting_order()
    sign_in(phone, stack)
    wait_for_the_book(phone, order_id)
    expect(phone.page.locator("[data-testid=trading-state] [data-field=trading_state]")).to_have_text(
        "active"
    )
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    if os.environ.get("DASHBOARD_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        phone.page.screenshot(path=str(SCREENSHOT), full_page=True, scale="css")


def test_the_page_logs_no_console_error_and_nothing_leaves_the_machine(phone: Phone, stack: Stack) -> None:
    order_id = stack.place_resting_order()
    sign_in(phone, stack)
    wait_for_the_book(phone, order_id)
    phone.page.wait_for_timeout(6000)  # one automatic refresh as well
    assert phone.errors == []
    assert phone.off_machine == []
    assert len(phone.api_requests("GET")) > 9  # the first load and at least one refresh
