"""What the flatten closes and how: bracket legs and resting orders cancelled first, long, short and
fractional positions closed, crypto left alone, a failed close retried until flat, and every step kept."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.app import build, install
from shared.clock import ManualClock
from shared.config import Settings
from shared.limits.protocol import Permit, Priority, Unlimited
from tests.eod.conftest import Market, deliver, run_doc
from tests.orders.conftest import events


def outcomes(body: dict[str, Any]) -> dict[str, str]:
    return {s["symbol"]: s["outcome"] for s in body["symbols"]}


def test_long_and_short_positions_with_bracket_legs_and_a_resting_limit_are_closed(
    gateway: Any, market: Market, db: Any
) -> None:
    """Legs and a resting limit hold the shares: they are cancelled, then both positions are closed."""
    market.trade(
        symbol="AAPL",
        qty="10",
        side="buy",
        order_class="bracket",
        take_profit={"limit_price": "900"},
        stop_loss={"stop_price": "5"},
    )
    market.trade(symbol="AAPL", qty="5", side="buy")
    market.trade(symbol="AAPL", qty="5", side="sell", type="limit", limit_price="950", time_in_force="gtc")
    market.trade(
        symbol="F",
        qty="30",
        side="sell",
        order_class="bracket",
        take_profit={"limit_price": "1"},
        stop_loss={"stop_price": "900"},
    )
    market.at("2026-11-17 15:52")
    done = deliver("flatten_positions")
    assert (done.status, done.body["state"]) == (200, "done"), done.text
    assert outcomes(done.body) == {"AAPL": "closed", "F": "closed"}
    assert market.positions() == {}
    assert market.orders("open") == []
    aapl = next(s for s in done.body["symbols"] if s["symbol"] == "AAPL")
    assert len(aapl["canceled"]) >= 2  # the legs, the resting limit (a group may go together)
    sides = sorted((o["symbol"], o["side"]) for o in market.liquidations())
    assert sides == [("AAPL", "sell"), ("F", "buy")]
    assert len(events(db, "order.cancel_requested")) == len(aapl["canceled"]) + len(
        next(s for s in done.body["symbols"] if s["symbol"] == "F")["canceled"]
    )


def test_fractional_position_is_closed_whole(gateway: Any, market: Market) -> None:
    """0.5 AAPL is sold as 0.5: a fractional DAY market order."""
    market.trade(symbol="AAPL", qty="0.5", side="buy")
    market.at("2026-11-17 15:52")
    done = deliver("flatten_positions")
    assert outcomes(done.body) == {"AAPL": "closed"}, done.text
    assert [o["qty"] for o in market.liquidations()] == ["0.5"]
    assert market.positions() == {}


def test_crypto_position_and_its_order_are_left_alone(gateway: Any, market: Market) -> None:
    """FLATTEN_ASSET_CLASSES is us_equity: BTC/USD and its resting order stay as they are."""
    market.trade(symbol="BTC/USD", qty="0.01", side="buy", time_in_force="gtc")
    resting = market.trade(
        symbol="BTC/USD", qty="0.01", side="sell", type="limit", limit_price="9999999", time_in_force="gtc"
    )
    market.trade(symbol="AAPL", qty="3", side="buy")
    market.at("2026-11-17 15:52")
    done = deliver("flatten_positions")
    assert outcomes(done.body) == {"AAPL": "closed"}, done.text
    assert [a["symbol"] for a in done.body["left_alone"]] == ["BTCUSD"]
    assert market.positions() == {"BTCUSD": "0.01"}
    assert [o["id"] for o in market.orders("open")] == [resting["id"]]


def test_close_that_fails_once_is_retried_until_flat(gateway: Any, market: Market, sandbox: Any) -> None:
    """The first liquidation meets a broker 500; the run reads its id back (not placed), sends it again."""
    market.trade(symbol="AAPL", qty="4", side="buy")
    market.at("2026-11-17 15:52")
    sandbox.fault(method="POST", path="/v2/orders", status=500, count=1)
    done = deliver("flatten_positions")
    assert (done.body["state"], outcomes(done.body)) == ("done", {"AAPL": "closed"}), done.text
    assert market.positions() == {}
    assert len(market.liquidations()) == 1
    steps = [(s["step"], s.get("status")) for s in done.body["steps"] if s["step"] == "liquidation"]
    assert steps == [("liquidation", "unknown"), ("liquidation", "filled")]


def test_run_records_snapshots_steps_and_the_trading_state(gateway: Any, market: Market, db: Any) -> None:
    """The eod_runs document holds the positions before and after, the steps and the reactivation."""
    market.trade(symbol="AAPL", qty="2", side="buy")
    market.at("2026-11-17 15:52")
    deliver("flatten_positions")
    record = run_doc(db, "flatten_2026-11-17")
    assert record is not None
    assert [p["symbol"] for p in record["before"]] == ["AAPL"] and record["after"] == []
    assert record["trading_state_before"] == "active"
    assert record["reactivate_at"] == "2026-11-18T09:30:00-05:00"
    names = [s["step"] for s in record["steps"]]
    assert names[0] == "started" and "trading_state_reducing" in names and names[-1] == "finished"
    assert [e["type"] for e in events(db) if e["type"].startswith("eod.")].count("eod.flatten") == 1


class RecordingLimiter(Unlimited):
    """No limit, but every priority asked for is kept."""

    def __init__(self) -> None:
        self.asked: list[Priority] = []

    def acquire(self, key: str, priority: Priority, units: int = 1) -> Permit:
        self.asked.append(priority)
        return Permit(key, units, None)


def test_every_upstream_call_of_the_flatten_takes_a_trade_slot(
    market: Market, db: Any, eod_settings: Settings, clock: ManualClock
) -> None:
    """Clock, calendar, positions, orders, cancels and closes all go through the limiter at trade priority."""
    market.trade(symbol="AAPL", qty="10", side="buy", type="limit", limit_price="1", time_in_force="gtc")
    market.trade(symbol="AAPL", qty="10", side="buy")
    market.at("2026-11-17 15:52")
    limiter = RecordingLimiter()
    install(build(eod_settings, db=db, clock=clock, limiter=limiter))
    try:
        assert deliver("flatten_positions").body["state"] == "done"
        assert deliver("snapshot_positions").status == 200
    finally:
        install(None)
    assert len(limiter.asked) >= 6 and set(limiter.asked) == {Priority.TRADE}


def test_close_refused_until_the_deadline_is_failed_with_its_reason_and_resumed_later(
    market: Market, db: Any, eod_settings: Settings, clock: ManualClock, sandbox: Any
) -> None:
    """Every liquidation is refused (403) for the whole FLATTEN_DEADLINE_SECONDS: the run ends
    incomplete, AAPL failed with the broker's reason; the next delivery resumes it and closes AAPL."""
    market.trade(symbol="AAPL", qty="4", side="buy")
    market.at("2026-11-17 15:50")
    install(build(replace(eod_settings, flatten_deadline_seconds=3.0), db=db, clock=clock))
    try:
        sandbox.fault(method="POST", path="/v2/orders", status=403, count=50)
        first = deliver("flatten_positions")
        assert first.body["state"] == "incomplete", first.text
        [aapl] = first.body["symbols"]
        assert (aapl["outcome"], aapl["reason"]) == ("failed", "broker_forbidden")
        assert market.positions() == {"AAPL": "4"}
        sandbox.admin.delete("/_sandbox/faults").raise_for_status()
        market.at("2026-11-17 15:55")
        second = deliver("flatten_positions")
    finally:
        install(None)
    assert (second.body["state"], second.body["resumes"]) == ("done", 1), second.text
    assert second.body["symbols"][0]["outcome"] == "closed"
    assert [o["client_order_id"] for o in market.liquidations()] == ["eod-20261117-AAPL-1"]
