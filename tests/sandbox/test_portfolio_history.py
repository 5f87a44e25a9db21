"""GET /v2/account/portfolio/history: parsed by alpaca-py, rebuilt from the account's fills, valued like
the account endpoint, with Alpaca's timestamps, bases and parameter rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.models import PortfolioHistory
from alpaca.trading.requests import GetPortfolioHistoryRequest, MarketOrderRequest

from tests.sandbox.fidelity_support import open_market, trading_client

MONDAY_10AM = "2026-11-16T15:00:00Z"
TUESDAY_10AM = "2026-11-17T15:00:00Z"
PATH = "/v2/account/portfolio/history"


@pytest.fixture
def tc(sandbox: Any) -> TradingClient:
    """alpaca-py on an account that bought 100 AAPL on Monday at 10:00 ET; now is Tuesday 10:00 ET."""
    open_market(sandbox, MONDAY_10AM)
    client = trading_client(sandbox)
    client.submit_order(MarketOrderRequest(symbol="AAPL", qty=100, side="buy", time_in_force="day"))
    open_market(sandbox, TUESDAY_10AM)
    return client


@pytest.fixture
def http(sandbox: Any, tc: TradingClient) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def stamp(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def test_default_history_parses_as_a_month_of_daily_points(tc: TradingClient) -> None:
    """No parameters: one month of 1D points, labelled 20:00 ET of each trading day, parsed by alpaca-py."""
    history = tc.get_portfolio_history()
    assert isinstance(history, PortfolioHistory)
    assert history.timeframe == "1D" and len(history.timestamp) == 22
    assert history.timestamp[-1] == stamp("2026-11-17T20:00:00-05:00")
    assert len(history.equity) == len(history.profit_loss) == len(history.profit_loss_pct) == 22


def test_last_point_is_the_account_equity_now(tc: TradingClient) -> None:
    """The newest point values the holdings at the current prices, as GET /v2/account does."""
    history = tc.get_portfolio_history(GetPortfolioHistoryRequest(period="1W", timeframe="1D"))
    assert Decimal(str(history.equity[-1])) == Decimal(str(tc.get_account().equity))


def test_days_before_the_first_fill_show_the_initial_cash(tc: TradingClient) -> None:
    """Until Monday's buy the account held $100,000 cash and nothing else."""
    history = tc.get_portfolio_history(GetPortfolioHistoryRequest(period="1W", timeframe="1D"))
    assert history.equity[:3] == [100000.0, 100000.0, 100000.0]
    assert history.base_value == 100000.0 and history.profit_loss[0] == 0.0


def test_daily_profit_loss_is_measured_from_the_first_point(tc: TradingClient) -> None:
    """For 1D resolution every P/L is equity minus the first point's equity, the pct divided by it."""
    history = tc.get_portfolio_history(GetPortfolioHistoryRequest(period="1W", timeframe="1D"))
    base = history.equity[0]
    assert history.profit_loss == [round(e - base, 4) for e in history.equity]
    assert history.profit_loss_pct == [round((e - base) / base, 6) for e in history.equity]


def test_intraday_points_run_from_the_open_to_now_in_steps_of_the_timeframe(tc: TradingClient) -> None:
    """period=1D timeframe=5Min at 10:00 ET: 09:30, 09:35, ... 10:00, seven points of today."""
    history = tc.get_portfolio_history(GetPortfolioHistoryRequest(period="1D", timeframe="5Min"))
    start = stamp("2026-11-17T09:30:00-05:00")
    assert history.timestamp == [start + 300 * i for i in range(7)]


def test_intraday_profit_loss_is_measured_from_the_previous_close(
    tc: TradingClient, http: httpx.Client
) -> None:
    """Intraday P/L resets to the previous trading day's closing equity, named by base_value_asof."""
    body = http.get(PATH, params={"period": "1D", "timeframe": "15Min"}).json()
    monday = http.get(PATH, params={"period": "1W", "timeframe": "1D"}).json()
    assert body["base_value_asof"] == "2026-11-16"
    assert body["base_value"] == monday["equity"][-2]
    assert body["profit_loss"] == [round(e - body["base_value"], 4) for e in body["equity"]]


def test_extended_hours_points_start_at_four_am(tc: TradingClient) -> None:
    """extended_hours=true (the deprecated flag) reports from 04:00 ET instead of the 09:30 open."""
    history = tc.get_portfolio_history(
        GetPortfolioHistoryRequest(period="1D", timeframe="1H", extended_hours=True)
    )
    assert history.timestamp[0] == stamp("2026-11-17T04:00:00-05:00") and len(history.timestamp) == 7


def test_date_end_ends_the_period_on_that_day(tc: TradingClient) -> None:
    """date_end=2026-11-13 with period=1W gives the five trading days up to that Friday."""
    history = tc.get_portfolio_history(
        GetPortfolioHistoryRequest(period="1W", timeframe="1D", date_end="2026-11-13")
    )
    days = [datetime.fromtimestamp(t, UTC).date().isoformat() for t in history.timestamp]
    assert days == [
        "2026-11-10",
        "2026-11-11",
        "2026-11-12",
        "2026-11-13",
        "2026-11-14",
    ]  # 20:00 ET is 01:00Z


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"period": "1X"}, "invalid period", id="period"),
        pytest.param({"timeframe": "2H"}, "invalid timeframe", id="timeframe"),
        pytest.param(
            {"period": "1W", "start": "2026-11-10T00:00:00Z", "end": "2026-11-12T00:00:00Z"},
            "only two of start, end and period can be specified",
            id="all-three",
        ),
        pytest.param(
            {"period": "3M", "timeframe": "1H"},
            "intraday timeframes can only be queried for 30 days or less",
            id="long-intraday",
        ),
    ],
)
def test_bad_history_parameters_are_422(http: httpx.Client, params: dict[str, str], message: str) -> None:
    """Parameters Alpaca refuses answer 422 with the reason."""
    response = http.get(PATH, params=params)
    assert response.status_code == 422
    assert response.json()["message"] == message
