"""Market data over plain HTTP: Alpaca's response shapes, next_page_token paging across symbols, sorting,
agreement between trades, bars and the broker's quotes, and the data API's errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox.fidelity_support import open_market


@pytest.fixture
def http(sandbox: Any) -> Iterator[httpx.Client]:
    """An authenticated client on a sandbox frozen at Tuesday 2026-11-17 10:00 ET."""
    open_market(sandbox)
    with sandbox.client() as client:
        yield client


def get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_limit_counts_items_of_all_symbols_and_the_token_continues_where_the_page_ended(
    http: httpx.Client,
) -> None:
    """limit=5 over two symbols' 7 daily bars each: pages of 5, 5, 4, symbol by symbol, then no token."""
    params = {"symbols": "MSFT,AAPL", "timeframe": "1Day", "start": "2026-11-09", "limit": 5}
    pages = []
    token = None
    while True:
        page = get(http, "/v2/stocks/bars", **params, **({"page_token": token} if token else {}))
        pages.append({symbol: [b["t"][:10] for b in bars] for symbol, bars in page["bars"].items()})
        token = page["next_page_token"]
        if token is None:
            break
    days = ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13", "2026-11-16", "2026-11-17"]
    assert pages == [{"AAPL": days[:5]}, {"AAPL": days[5:], "MSFT": days[:3]}, {"MSFT": days[3:]}]


def test_descending_sort_returns_newest_trades_first(http: httpx.Client) -> None:
    """sort=desc with limit=3 gives the three latest trades, newest first."""
    newest = get(http, "/v2/stocks/AAPL/trades", sort="desc", limit=3)["trades"]
    oldest_first = get(http, "/v2/stocks/AAPL/trades", start="2026-11-17T14:55:00Z")["trades"]
    assert newest == list(reversed(oldest_first[-3:]))


def test_single_symbol_routes_answer_with_the_symbol_beside_the_items(http: httpx.Client) -> None:
    """`/v2/stocks/{symbol}/bars` is `{"bars": [...], "symbol", "next_page_token"}`, as at Alpaca."""
    body = get(http, "/v2/stocks/SPY/bars", timeframe="1Hour", limit=2)
    assert set(body) == {"bars", "symbol", "next_page_token"}
    assert body["symbol"] == "SPY" and len(body["bars"]) == 2 and body["next_page_token"]


def test_stock_values_have_the_data_api_json_types(http: httpx.Client) -> None:
    """Prices are JSON numbers, share volumes, sizes and counts integers, timestamps RFC 3339."""
    bar = get(http, "/v2/stocks/AAPL/bars/latest")["bar"]
    trade = get(http, "/v2/stocks/AAPL/trades/latest")["trade"]
    quote = get(http, "/v2/stocks/AAPL/quotes/latest")["quote"]
    assert set(bar) == {"t", "o", "h", "l", "c", "v", "n", "vw"}
    assert all(isinstance(bar[k], float) for k in ("o", "h", "l", "c", "vw"))
    assert isinstance(bar["v"], int) and isinstance(bar["n"], int) and bar["t"].endswith(":00Z")
    assert set(trade) == {"t", "x", "p", "s", "c", "i", "z"} and isinstance(trade["s"], int)
    assert set(quote) == {"t", "ax", "ap", "as", "bx", "bp", "bs", "c", "z"} and isinstance(quote["bs"], int)


def test_minute_bar_aggregates_that_minutes_trades(http: httpx.Client) -> None:
    """Open, high, low, close, volume and count of a minute bar are those of its trades."""
    bar = get(http, "/v2/stocks/AAPL/bars", timeframe="1Min", start="2026-11-17T14:30:00Z", limit=1)["bars"][
        0
    ]
    trades = get(http, "/v2/stocks/AAPL/trades", start="2026-11-17T14:30:00Z", end="2026-11-17T14:30:59Z")
    prices = [t["p"] for t in trades["trades"]]
    assert (bar["o"], bar["h"], bar["l"], bar["c"]) == (prices[0], max(prices), min(prices), prices[-1])
    assert (bar["v"], bar["n"]) == (sum(t["s"] for t in trades["trades"]), len(prices))


def test_daily_bar_closes_at_the_last_minute_bar_close(http: httpx.Client) -> None:
    """Yesterday's daily bar opens and closes where its first and last regular-session minutes do."""
    daily = get(http, "/v2/stocks/AAPL/bars", timeframe="1Day", start="2026-11-16", end="2026-11-16")["bars"]
    minutes = get(
        http,
        "/v2/stocks/AAPL/bars",
        timeframe="1Min",
        start="2026-11-16T14:30:00Z",
        end="2026-11-16T20:59:00Z",
    )["bars"]
    assert len(daily) == 1 and len(minutes) == 390
    assert (daily[0]["o"], daily[0]["c"]) == (minutes[0]["o"], minutes[-1]["c"])


def test_latest_trade_prints_at_the_price_the_broker_marks_the_minute(
    sandbox: Any, http: httpx.Client
) -> None:
    """A minute's last trade is at the walk's price, the `last` that orders and positions are valued at."""
    open_market(sandbox, "2026-11-17T15:00:59Z")
    trade = get(http, "/v2/stocks/AAPL/trades/latest")["trade"]
    bought = http.post(
        "/v2/orders",
        json={"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"},
    )
    position = http.get("/v2/positions/AAPL").json()
    assert bought.status_code == 200 and trade["t"].startswith("2026-11-17T15:00:")
    assert float(position["current_price"]) == trade["p"]


def test_pinned_price_shows_in_latest_quote_and_trade(sandbox: Any, http: httpx.Client) -> None:
    """A pinned price is what the latest trade prints and what the quote brackets."""
    sandbox.set_price("AAPL", "250.00")
    trade = get(http, "/v2/stocks/AAPL/trades/latest")["trade"]
    quote = get(http, "/v2/stocks/AAPL/quotes/latest")["quote"]
    assert trade["p"] == 250.0 and quote["bp"] < 250.0 < quote["ap"]


def test_stock_history_has_no_trades_on_a_weekend(http: httpx.Client) -> None:
    """Stocks trade 04:00-20:00 ET on trading days only: Saturday and Sunday have no trades."""
    body = get(http, "/v2/stocks/trades", symbols="AAPL", start="2026-11-14", end="2026-11-15T23:59:59Z")
    assert body == {"trades": {}, "next_page_token": None}


def test_unknown_and_crypto_symbols_are_left_out_of_stock_answers(http: httpx.Client) -> None:
    """Like Alpaca, a multi-symbol answer only holds the symbols it knows in that asset class."""
    body = get(http, "/v2/stocks/quotes/latest", symbols="AAPL,NOPE,BTC/USD")
    assert list(body["quotes"]) == ["AAPL"]


def test_crypto_data_needs_no_credentials(sandbox: Any) -> None:
    """Crypto market data answers without keys, as Alpaca's does; wrong keys are still refused."""
    open_market(sandbox)
    url = f"{sandbox.url}/v1beta3/crypto/us/latest/trades"
    anonymous = httpx.get(url, params={"symbols": "BTC/USD"})
    wrong = httpx.get(
        url, params={"symbols": "BTC/USD"}, headers={"APCA-API-KEY-ID": "x", "APCA-API-SECRET-KEY": "y"}
    )
    assert anonymous.status_code == 200 and list(anonymous.json()["trades"]) == ["BTC/USD"]
    assert wrong.status_code == 401


def test_crypto_trades_carry_the_taker_side(http: httpx.Client) -> None:
    """Crypto trades have fractional sizes and a taker side, B or S, and no exchange or tape."""
    trades = get(http, "/v1beta3/crypto/us/trades", symbols="ETH/USD", limit=20)["trades"]["ETH/USD"]
    assert {t["tks"] for t in trades} <= {"B", "S"} and all("x" not in t for t in trades)
    assert all(isinstance(t["s"], float) and t["s"] < 1 for t in trades)


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        pytest.param({"symbols": "AAPL", "timeframe": "1Year"}, 422, "invalid timeframe", id="timeframe"),
        pytest.param({"symbols": "AAPL"}, 422, "invalid timeframe", id="no-timeframe"),
        pytest.param({"symbols": "AAPL", "timeframe": "60Min"}, 422, "invalid timeframe", id="60-minutes"),
        pytest.param(
            {"symbols": "AAPL", "timeframe": "1Day", "limit": "10001"},
            422,
            "invalid limit, limit must be between 1 and 10000",
            id="limit",
        ),
        pytest.param({"timeframe": "1Day"}, 400, "missing symbols", id="symbols"),
        pytest.param(
            {"symbols": "AAPL", "timeframe": "1Day", "start": "2026-11-10", "end": "2026-11-09"},
            422,
            "end should not be before start",
            id="end-before-start",
        ),
        pytest.param(
            {"symbols": "AAPL", "timeframe": "1Day", "page_token": "%%"},
            422,
            "invalid page token",
            id="token",
        ),
    ],
)
def test_bad_bar_queries_answer_the_data_api_errors(
    http: httpx.Client, params: dict[str, str], status: int, message: str
) -> None:
    """Bad parameters answer Alpaca's data API statuses and messages."""
    response = http.get("/v2/stocks/bars", params=params)
    assert response.status_code == status
    assert response.json()["message"] == message
