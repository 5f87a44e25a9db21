"""Admin routes and the HTTP envelope: auth, rate limit, faults, stats, reset, clock, 404s."""

from __future__ import annotations

import time

import httpx
import pytest

from infra.stack import Service
from tests.conftest import SANDBOX_KEY, SANDBOX_SECRET, Sandbox
from tests.sandbox.conftest import TUESDAY_10AM, Trader


def test_missing_credentials_get_401_json(sandbox: Sandbox) -> None:
    """No key headers: 401 with Alpaca's JSON error body."""
    response = httpx.get(f"{sandbox.url}/v2/account")
    assert response.status_code == 401
    assert response.json() == {"code": 40110000, "message": "unauthorized."}


def test_unknown_route_is_json_404_and_wrong_method_json_405(sandbox: Sandbox) -> None:
    """Unknown paths and methods answer JSON, never HTML."""
    with sandbox.client() as http:
        missing = http.get("/v2/nothing")
        wrong = http.put("/v2/account")
    assert missing.status_code == 404
    assert missing.json() == {"code": 40410000, "message": "endpoint not found"}
    assert wrong.status_code == 405 and wrong.json()["code"] == 40510000


def test_every_response_carries_rate_limit_headers(sandbox: Sandbox) -> None:
    """X-RateLimit-Limit/Remaining/Reset are on trading responses."""
    with sandbox.client() as http:
        response = http.get("/v2/clock")
    assert response.headers["X-RateLimit-Limit"] == "200"
    assert int(response.headers["X-RateLimit-Remaining"]) == 199
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_rate_limit_answers_429_and_counts_stats(tight_sandbox: Service) -> None:
    """Past 5 requests in the window the key gets 429s, which are counted but not admitted."""
    headers = {"APCA-API-KEY-ID": SANDBOX_KEY, "APCA-API-SECRET-KEY": SANDBOX_SECRET}
    httpx.post(f"{tight_sandbox.url}/_sandbox/reset").raise_for_status()
    with httpx.Client(base_url=tight_sandbox.url, headers=headers) as http:
        statuses = [http.get("/v2/clock").status_code for _ in range(7)]
        limited = http.get("/v2/clock")
    assert statuses == [200] * 5 + [429] * 2
    assert limited.json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    stats = httpx.get(f"{tight_sandbox.url}/_sandbox/stats").json()
    assert stats["keys"][SANDBOX_KEY] == {"requests": 8, "rate_limited": 3, "max_in_window": 5, "faults": 0}
    assert (stats["limit"], stats["window_seconds"]) == (5, 2.0)


def test_error_fault_answers_status_without_doing_the_work(sandbox: Sandbox) -> None:
    """An error fault returns its status with an Alpaca body and creates no order."""
    sandbox.set_clock(TUESDAY_10AM)
    sandbox.fault(method="POST", path="/v2/orders", status=503)
    trader = Trader(sandbox)
    response = trader.order(symbol="AAPL")
    assert response.status_code == 503 and response.json()["code"] == 50310000
    assert trader.http.get("/v2/orders", params={"status": "all"}).json() == []
    assert trader.order(symbol="AAPL").status_code == 200
    assert sandbox.stats()["keys"][SANDBOX_KEY]["faults"] == 1


def test_429_fault_sends_exhausted_rate_limit_headers(sandbox: Sandbox) -> None:
    """A 429 fault says Remaining 0 and a Reset reset_after_seconds ahead."""
    sandbox.fault(path="/v2/*", status=429, reset_after_seconds=30)
    with sandbox.client() as http:
        response = http.get("/v2/account")
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) == pytest.approx(time.time() + 30, abs=2)


def test_timeout_after_accept_creates_the_order_but_replies_late(sandbox: Sandbox) -> None:
    """The order exists even though the client's read timeout fired first."""
    sandbox.set_clock(TUESDAY_10AM)
    sandbox.fault(method="POST", path="/v2/orders", mode="timeout_after_accept", latency_ms=1500)
    trader = Trader(sandbox)
    with pytest.raises(httpx.ReadTimeout):
        trader.http.post(
            "/v2/orders",
            json={
                "symbol": "AAPL",
                "qty": "1",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "client_order_id": "late-1",
            },
            timeout=0.3,
        )
    started = time.monotonic()
    found = trader.http.get("/v2/orders:by_client_order_id", params={"client_order_id": "late-1"})
    assert time.monotonic() - started < 1.0  # the sleeping request holds no lock
    assert found.status_code == 200 and found.json()["status"] == "filled"


def test_reset_restores_initial_state(sandbox: Sandbox) -> None:
    """Reset clears orders, positions, pins and returns the clock to real time."""
    sandbox.set_clock(TUESDAY_10AM)
    sandbox.set_price("AAPL", "10.00")
    trader = Trader(sandbox)
    trader.placed(symbol="AAPL")
    sandbox.reset()
    assert sandbox.admin.get("/_sandbox/clock").json()["frozen"] is False
    assert trader.positions() == {}
    assert trader.account()["cash"] == "100000"
    quote = trader.http.get("/v2/stocks/AAPL/quotes/latest").json()["quote"]
    assert quote["ap"] > 100


def test_clock_uses_eastern_offsets_and_next_session(sandbox: Sandbox) -> None:
    """/v2/clock on a Saturday: closed, next open Monday 09:30 -04:00."""
    sandbox.set_clock("2025-06-21T16:00:00Z")
    with sandbox.client() as http:
        clock = http.get("/v2/clock").json()
    assert clock == {
        "timestamp": "2025-06-21T12:00:00-04:00",
        "is_open": False,
        "next_open": "2025-06-23T09:30:00-04:00",
        "next_close": "2025-06-23T16:00:00-04:00",
    }


def test_running_clock_set_in_the_past_moves_forward(sandbox: Sandbox) -> None:
    """A non-frozen set time keeps running from the given instant."""
    sandbox.set_clock(TUESDAY_10AM, frozen=False)
    time.sleep(0.2)
    now = sandbox.admin.get("/_sandbox/clock").json()
    assert now["frozen"] is False and now["now"] > "2025-06-24T14:00:00.1"


def test_calendar_marks_holidays_and_early_closes(sandbox: Sandbox) -> None:
    """Good Friday and observed holidays are absent; the day after Thanksgiving closes at 13:00."""
    with sandbox.client() as http:
        days = {
            d["date"]: d
            for d in http.get("/v2/calendar", params={"start": "2026-01-01", "end": "2027-12-31"}).json()
        }
    assert "2026-04-03" not in days  # Good Friday
    assert "2026-07-03" not in days  # Independence Day observed (July 4 is a Saturday)
    assert "2027-06-18" not in days  # Juneteenth observed (June 19 is a Saturday)
    assert "2027-12-24" not in days  # Christmas observed
    assert days["2026-11-27"]["close"] == "13:00"
    assert days["2026-12-24"]["close"] == "13:00"
    assert days["2026-01-02"] == {
        "date": "2026-01-02",
        "open": "09:30",
        "close": "16:00",
        "session_open": "0400",
        "session_close": "2000",
        "settlement_date": "2026-01-05",
    }
