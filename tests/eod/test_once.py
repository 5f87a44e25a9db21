"""Exactly once per session: duplicate and overlapping deliveries flatten once, and a run whose worker
died half way is resumed by the next delivery without selling anything twice."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from shared.app import build, install
from shared.clock import ManualClock
from shared.config import Settings
from shared.eod.runs import LEASE_SECONDS
from tests.eod.conftest import Market, deliver, run_doc
from tests.gateway.conftest import Reply

SCHEDULED = "2026-11-17T20:50:00Z"  # 15:50 ET


class WorkerDied(BaseException):
    """The instance running the flatten went away (not an error any handler would catch)."""


class DyingTransport(httpx.BaseTransport):
    """The real sandbox, until the first liquidation order has been placed: then the worker dies."""

    def __init__(self) -> None:
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        if request.method == "POST" and request.url.path == "/v2/orders":
            response.read()
            raise WorkerDied
        return response


def test_duplicate_delivery_of_one_schedule_time_flattens_once(gateway: Any, market: Market) -> None:
    """The second delivery answers the finished run with duplicate: true and sends nothing."""
    market.trade(symbol="AAPL", qty="10", side="buy")
    market.at("2026-11-17 15:52")
    first = deliver("flatten_positions", SCHEDULED)
    again = deliver("flatten_positions", SCHEDULED)
    later = deliver("flatten_positions", "2026-11-17T20:55:00Z")
    assert first.body["state"] == "done" and "duplicate" not in first.body, first.text
    assert again.body["duplicate"] is True and again.body["run"] == first.body["run"]
    assert later.body["duplicate"] is True  # the 15:55 delivery: the session is done
    assert len(market.liquidations()) == 1


def test_overlapping_deliveries_flatten_once(gateway: Any, market: Market) -> None:
    """Four deliveries at once: one works, the others answer the run in progress (or done)."""
    for symbol in ("AAPL", "MSFT", "F"):
        market.trade(symbol=symbol, qty="3", side="buy")
    market.at("2026-11-17 15:52")
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda: replies.append(deliver("flatten_positions"))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in replies) == [200] * 4
    assert sum(1 for r in replies if not r.body.get("duplicate")) == 1
    assert sorted(o["symbol"] for o in market.liquidations()) == ["AAPL", "F", "MSFT"]
    assert market.positions() == {}


def test_run_interrupted_half_way_is_resumed_and_sells_nothing_twice(
    market: Market, db: Any, eod_settings: Settings, clock: ManualClock
) -> None:
    """The worker dies right after its first liquidation order; the next delivery, once the lease is over,
    takes the run over, reads that order back by its client order id, and closes only what is left."""
    market.trade(symbol="AAPL", qty="10", side="buy")
    market.trade(symbol="MSFT", qty="2", side="buy")
    market.at("2026-11-17 15:52")
    dying = build(eod_settings, db=db, clock=clock, http=httpx.Client(transport=DyingTransport()))
    with pytest.raises(WorkerDied):
        dying.flatten.scheduled("dev", "dying-run")
    record = run_doc(db, "flatten_2026-11-17")
    assert record is not None and record["state"] == "running"
    assert len(market.liquidations()) == 1 and len(market.positions()) == 1

    install(build(eod_settings, db=db, clock=clock))
    try:
        busy = deliver("flatten_positions")
        assert busy.body["duplicate"] is True and busy.body["state"] == "running"  # its lease still holds
        clock.advance(LEASE_SECONDS + 1)
        resumed = deliver("flatten_positions")
    finally:
        install(None)
    assert (resumed.body["state"], resumed.body["resumes"]) == ("done", 1), resumed.text
    assert {s["symbol"]: s["outcome"] for s in resumed.body["symbols"]} == {
        "AAPL": "closed",
        "MSFT": "closed",
    }
    assert sorted(o["symbol"] for o in market.liquidations()) == ["AAPL", "MSFT"]
    assert all(o["client_order_id"].endswith("-1") for o in market.liquidations())
    assert market.positions() == {}


def test_run_stopped_by_a_broker_failure_is_resumed_by_the_next_delivery(
    gateway: Any, market: Market, sandbox: Any
) -> None:
    """Positions cannot be read (503): the delivery answers the error, gives its lease up, and the retry
    resumes the run at once instead of waiting for the lease to run out."""
    market.trade(symbol="AAPL", qty="10", side="buy")
    market.at("2026-11-17 15:52")
    sandbox.fault(method="GET", path="/v2/positions", status=503, count=3)
    failed = deliver("flatten_positions")
    assert failed.status == 502, failed.text
    retried = deliver("flatten_positions")
    assert (retried.body["state"], retried.body["resumes"]) == ("done", 1), retried.text
    assert len(market.liquidations()) == 1
