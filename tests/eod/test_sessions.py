"""When the scheduled flatten acts: inside FLATTEN_LEAD_MINUTES of Alpaca's next_close, on a regular day
and on the 13:00 close after Thanksgiving; never on a holiday, a weekend or outside the session."""

from __future__ import annotations

from typing import Any

from infra.gateway_server import create_app
from tests.eod.conftest import Market, deliver, run_doc


def hold_aapl(market: Market) -> None:
    market.trade(symbol="AAPL", qty="10", side="buy")


def test_regular_day_is_skipped_at_1545_and_flattened_at_1552(gateway: Any, market: Market, db: Any) -> None:
    """A 16:00 close: 15:45 is too early; 15:52 closes the position and records the run."""
    hold_aapl(market)
    market.at("2026-11-17 15:45")
    early = deliver("flatten_positions")
    assert (early.status, early.body["skipped"]) == (200, "too_early"), early.text
    assert early.body["acts_from"] == "2026-11-17T15:50:00-05:00"
    assert market.positions() == {"AAPL": "10"} and run_doc(db, "flatten_2026-11-17") is None
    market.at("2026-11-17 15:52")
    done = deliver("flatten_positions")
    assert (done.status, done.body["state"]) == (200, "done"), done.text
    assert [(s["symbol"], s["outcome"]) for s in done.body["symbols"]] == [("AAPL", "closed")]
    assert market.positions() == {}
    assert [o["client_order_id"] for o in market.liquidations()] == ["eod-20261117-AAPL-1"]


def test_early_close_after_thanksgiving_is_skipped_at_1245_and_flattened_at_1252(
    gateway: Any, market: Market, db: Any
) -> None:
    """2026-11-27 closes at 13:00: the flatten acts from 12:50, not at 15:50."""
    market.at("2026-11-27 10:00")
    hold_aapl(market)
    market.at("2026-11-27 12:45")
    early = deliver("flatten_positions")
    assert (early.body["skipped"], early.body["next_close"]) == ("too_early", "2026-11-27T13:00:00-05:00")
    market.at("2026-11-27 12:52")
    done = deliver("flatten_positions")
    assert (done.body["state"], done.body["session"]) == ("done", "2026-11-27"), done.text
    assert market.positions() == {}
    assert run_doc(db, "flatten_2026-11-27") is not None


def test_thanksgiving_is_skipped_as_a_holiday(gateway: Any, market: Market) -> None:
    """2026-11-26 has no session: at 12:52 (or 15:52) nothing is done."""
    hold_aapl(market)
    market.at("2026-11-26 15:52")
    reply = deliver("flatten_positions")
    assert (reply.status, reply.body["skipped"]) == (200, "holiday"), reply.text
    assert market.positions() == {"AAPL": "10"}


def test_weekend_is_skipped(gateway: Any, market: Market) -> None:
    """Saturday 2026-11-28: no session, nothing done."""
    hold_aapl(market)
    market.at("2026-11-28 15:52")
    reply = deliver("flatten_positions")
    assert (reply.status, reply.body["skipped"]) == (200, "weekend"), reply.text
    assert market.positions() == {"AAPL": "10"}


def test_after_the_close_is_skipped_as_market_closed(gateway: Any, market: Market) -> None:
    """A late delivery (16:05) does not send a DAY order that would wait for the next session."""
    hold_aapl(market)
    market.at("2026-11-17 16:05")
    reply = deliver("flatten_positions")
    assert reply.body["skipped"] == "market_closed", reply.text
    assert market.liquidations() == []


def test_local_server_mounts_the_jobs(gateway: Any, market: Market) -> None:
    """`make run` serves each scheduled entry point at POST /jobs/<entry_point>."""
    client = create_app().test_client()
    reply = client.post("/jobs/flatten_positions", headers={"Authorization": "Bearer dev-token"})
    assert (reply.status_code, reply.get_json()["skipped"]) == (200, "too_early")
    snapshot = client.post("/jobs/snapshot_positions", headers={"Authorization": "Bearer dev-token"})
    assert snapshot.status_code == 200 and snapshot.get_json()["schedule_time"] is None
