"""The dashboard in a real browser: `python -m infra.run` on free ports (the session's emulator, a fresh
project, a dev token) and the system Chromium driven by Playwright at a phone's size. Without Chromium
the browser tests skip, naming the install; REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.make_run import LocalRun, make_run

TOKEN = "dashboard-dev-token-5150"
PHONE = {"width": 390, "height": 844}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
INSTALL = "apt-get install chromium"
SYMBOL = "AAPL"
EOD_PATH = "/api/alpaca/eod"


def chromium_path() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )


class Stack(LocalRun):
    @property
    def app(self) -> str:
        return f"{self.gateway}/app/"

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.api + path, headers=headers, timeout=20.0, **kwargs)

    def place_resting_order(self) -> str:
        """A buy limit far below the price: it rests, open, until canceled."""
        body = {
            "symbol": SYMBOL,
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "limit_price": "50.00",
            "time_in_force": "day",
        }
        placed = self.call("POST", "/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert placed.status_code in {200, 201}, placed.text
        return str(placed.json()["id"])

    def order_status(self, order_id: str) -> str:
        return str(self.call("GET", f"/orders/{order_id}").json()["status"])

    def cancel_requests(self, order_id: str) -> int:
        """How many cancels of the order the gateway sent upstream, as its audit log records them."""
        events = self.call("GET", "/audit", params={"limit": 1000}).json()["events"]
        return sum(1 for e in events if e["type"] == "order.cancel_requested" and order_id in str(e))


@pytest.fixture(scope="package")
def stack(firestore_emulator: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("dashboard-run")
    env = {
        "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        "GOOGLE_CLOUD_PROJECT": f"test-{uuid.uuid4().hex[:12]}",
        "GATEWAY_DEV_TOKEN": TOKEN,
        "RATE_LIMIT_PER_MINUTE": "1000",  # several pages refreshing at once, each test signed in anew
    }
    run = make_run(env, logs)
    service, gateway, sandbox = run.service, run.gateway, run.sandbox
    try:
        # Inside a regular session, so the market buy fills and the limit order rests.
        httpx.put(f"{sandbox}/_sandbox/clock", json={"now": "2026-11-17T15:00:00Z", "frozen": True})
        httpx.put(f"{sandbox}/_sandbox/prices/{SYMBOL}", json={"price": "190.00"}).raise_for_status()
        built = Stack(service, gateway, sandbox)
        body = {"symbol": SYMBOL, "qty": "5", "side": "buy", "type": "market", "time_in_force": "day"}
        placed = built.call("POST", "/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert placed.status_code in {200, 201}, placed.text
        synced = httpx.post(f"{gateway}/jobs/sync_orders", headers={"Authorization": f"Bearer {TOKEN}"})
        assert synced.status_code == 200, synced.text  # the fill reaches GET /fills
        yield built
    finally:
        service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per module; each test gets a fresh context."""
    executable = chromium_path()
    if executable is None:
        message = f"the dashboard tests need Chromium: {INSTALL}"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (REQUIRE_BROWSER=1: it may not be skipped)")
        pytest.skip(message)
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Phone:
    """A page at 390 x 844 that records every request, every console error, and aborts (and records)
    anything bound off this machine."""

    page: Any
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url)
    errors: list[str] = field(default_factory=list)
    off_machine: list[str] = field(default_factory=list)
    confirm: bool = True  # how the user answers each confirmation

    def console(self, kind: str, text: str, url: str) -> None:
        # Chromium logs every 4xx answer to fetch; "no flatten run this session" is /eod's 404, shown
        # as such in the eod panel. Any other failed load, and every script error, counts.
        expected = text.startswith("Failed to load resource") and urlsplit(url).path == EOD_PATH
        if kind == "error" and not expected:
            self.errors.append(f"{text} ({url})")

    def api_requests(self, method: str | None = None) -> list[str]:
        return [u for m, u in self.requests if "/api/alpaca/" in u and (method is None or m == method)]


@pytest.fixture
def phone(browser: Any) -> Iterator[Phone]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    recorded = Phone(page)

    def route(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            recorded.off_machine.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page.on("request", lambda r: recorded.requests.append((r.method, r.url)))
    page.on("console", lambda m: recorded.console(m.type, m.text, m.location.get("url", "")))
    page.on("pageerror", lambda e: recorded.errors.append(str(e)))
    page.on("dialog", lambda d: d.accept() if recorded.confirm else d.dismiss())
    page.set_default_timeout(15000)
    try:
        yield recorded
    finally:
        context.close()


def sign_in(phone: Phone, stack: Stack, token: str = TOKEN) -> None:
    phone.page.goto(stack.app)
    phone.page.fill("input[name=token]", token)
    phone.page.click("[data-testid=sign-in] button[type=submit]")
