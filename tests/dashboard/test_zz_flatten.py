"""Flatten now from the phone (last in the package: it closes the position the other tests show)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.dashboard.conftest import SYMBOL, Phone, Stack, sign_in


def test_flatten_now_closes_every_position_and_shows_the_run(phone: Phone, stack: Stack) -> None:
    sign_in(phone, stack)
    expect(phone.page.locator(f"[data-testid=positions] li[data-symbol='{SYMBOL}']")).to_be_visible()
    keys: list[str | None] = []
    phone.page.on(
        "request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.method == "POST" else None
    )
    phone.page.click("[data-testid=flatten] [data-action=flatten]")
    expect(phone.page.locator("[data-testid=eod] [data-field=last_run]")).to_contain_text(
        "on_demand", timeout=60000
    )
    expect(phone.page.locator("[data-testid=positions]")).to_contain_text("No open positions.", timeout=30000)
    assert stack.call("GET", "/positions").json() == []
    assert len(keys) == 1 and keys[0]
