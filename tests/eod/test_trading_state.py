"""The flatten switches trading to reducing-only before it acts, and the next session's open ends that
(FLATTEN_REACTIVATE=next_open) unless the setting says manual; a halted gateway is not flattened."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.app import build, install
from shared.clock import ManualClock
from shared.config import Settings
from tests.eod.conftest import Market, deliver
from tests.orders.conftest import place, set_risk

BUY = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


def test_webhook_order_after_the_flatten_is_refused_until_the_next_open(gateway: Any, market: Market) -> None:
    """reducing_only after the 15:52 flatten, through the evening; accepted again at 09:31 the next day."""
    market.trade(symbol="AAPL", qty="5", side="buy")
    market.at("2026-11-17 15:52")
    assert deliver("flatten_positions").body["state"] == "done"
    refused = place({**BUY, "client_order_id": "after-flatten"})
    assert (refused.status, refused.body["error"]) == (403, "reducing_only"), refused.text
    market.at("2026-11-18 09:29")
    assert place({**BUY, "client_order_id": "before-open"}).body["error"] == "reducing_only"
    market.at("2026-11-18 09:31")
    accepted = place({**BUY, "client_order_id": "next-session"})
    assert (accepted.status, accepted.body["status"]) == (200, "filled"), accepted.text


def test_manual_reactivation_keeps_reducing_after_the_open(
    market: Market, db: Any, eod_settings: Settings, clock: ManualClock
) -> None:
    """FLATTEN_REACTIVATE=manual: the state stays reducing until an admin changes it."""
    install(build(replace(eod_settings, flatten_reactivate="manual"), db=db, clock=clock))
    try:
        market.at("2026-11-17 15:52")
        done = deliver("flatten_positions")
        assert (done.body["state"], done.body["reactivate_at"]) == ("done", None), done.text
        market.at("2026-11-18 10:00")
        assert place({**BUY, "client_order_id": "manual"}).body["error"] == "reducing_only"
    finally:
        install(None)


def test_halted_gateway_is_not_flattened(gateway: Any, market: Market, db: Any) -> None:
    """The kill switch allows only cancels: the flatten skips, and a later delivery may still act."""
    market.trade(symbol="AAPL", qty="5", side="buy")
    set_risk(db, trading_state="halted")
    market.at("2026-11-17 15:52")
    reply = deliver("flatten_positions")
    assert reply.body["skipped"] == "trading_halted", reply.text
    assert market.positions() == {"AAPL": "5"}
    set_risk(db, trading_state="active")
    gateway.clock.sleep(1.1)  # past the risk cache
    assert deliver("flatten_positions").body["state"] == "done"
