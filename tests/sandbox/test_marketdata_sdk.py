"""alpaca-py's StockHistoricalDataClient and CryptoHistoricalDataClient on the sandbox: bars, latest bars,
quotes, trades and snapshots for several symbols, parsed into alpaca-py's own models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.models import Bar, BarSet, Quote, QuoteSet, Snapshot, Trade, TradeSet
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestBarRequest,
    CryptoLatestQuoteRequest,
    CryptoSnapshotRequest,
    StockBarsRequest,
    StockLatestBarRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockQuotesRequest,
    StockSnapshotRequest,
    StockTradesRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from tests.sandbox.fidelity_support import TRADING_NOW, open_market

NOW = datetime.fromisoformat(TRADING_NOW.replace("Z", "+00:00"))  # Tuesday 2026-11-17 10:00 ET
STOCKS = ["AAPL", "MSFT", "SPY"]
COINS = ["BTC/USD", "ETH/USD"]


@pytest.fixture
def stocks(sandbox: Any) -> StockHistoricalDataClient:
    open_market(sandbox)
    return StockHistoricalDataClient(sandbox.key, sandbox.secret, url_override=sandbox.url)


@pytest.fixture
def crypto(sandbox: Any) -> CryptoHistoricalDataClient:
    """The crypto client without keys: Alpaca serves crypto data to anyone, and so does the sandbox."""
    open_market(sandbox)
    return CryptoHistoricalDataClient(url_override=sandbox.url)


def test_stock_daily_bars_parse_for_every_symbol_one_per_trading_day(
    stocks: StockHistoricalDataClient,
) -> None:
    """Daily bars from 2026-11-09 to now: one per trading day for each symbol, stamped at midnight ET."""
    found = stocks.get_stock_bars(
        StockBarsRequest(symbol_or_symbols=STOCKS, timeframe=TimeFrame.Day, start=datetime(2026, 11, 9))
    )
    assert isinstance(found, BarSet)
    assert sorted(found.data) == STOCKS
    for symbol in STOCKS:
        bars = found[symbol]
        assert all(isinstance(b, Bar) for b in bars)
        assert [b.timestamp.date().isoformat() for b in bars] == [
            f"2026-11-{d:02d}" for d in (9, 10, 11, 12, 13, 16, 17)
        ]
        assert all(b.timestamp.hour == 5 for b in bars)  # midnight EST
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)


def test_stock_five_minute_bars_cover_the_extended_session_for_every_symbol(
    stocks: StockHistoricalDataClient,
) -> None:
    """Five-minute bars from 04:00 ET to the last complete bar: 72 per symbol, in time order."""
    request = StockBarsRequest(
        symbol_or_symbols=STOCKS,
        timeframe=TimeFrame(5, TimeFrameUnit.Minute),
        start=NOW - timedelta(hours=6),
        end=NOW - timedelta(minutes=1),
    )
    found = stocks.get_stock_bars(request)
    assert {symbol: len(found[symbol]) for symbol in STOCKS} == {symbol: 72 for symbol in STOCKS}
    stamps = [b.timestamp for b in found["MSFT"]]
    assert stamps[0] == datetime(2026, 11, 17, 9, 0, tzinfo=UTC) and stamps == sorted(stamps)


def test_stock_latest_bars_parse_as_the_last_minute(stocks: StockHistoricalDataClient) -> None:
    """The latest bar of each symbol is the minute before now, with at least one trade."""
    found = stocks.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols=STOCKS))
    assert sorted(found) == STOCKS
    for bar in found.values():
        assert isinstance(bar, Bar)
        assert bar.timestamp == NOW - timedelta(minutes=1)
        assert bar.trade_count is not None and bar.trade_count >= 1


def test_stock_latest_quotes_parse_with_bid_below_ask(stocks: StockHistoricalDataClient) -> None:
    """Latest quotes for several symbols: bid under ask, sizes in whole shares, IEX as the exchange."""
    found = stocks.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=STOCKS))
    assert sorted(found) == STOCKS
    for quote in found.values():
        assert isinstance(quote, Quote)
        assert 0 < quote.bid_price < quote.ask_price
        assert quote.bid_size >= 1 and quote.ask_exchange == "V"


def test_stock_latest_trades_parse_before_now(stocks: StockHistoricalDataClient) -> None:
    """Latest trades are printed at or before now, with an id and a tape."""
    found = stocks.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=STOCKS))
    assert sorted(found) == STOCKS
    for trade in found.values():
        assert isinstance(trade, Trade)
        assert trade.timestamp <= NOW and trade.id is not None and trade.tape in ("B", "C")


def test_stock_trades_parse_in_time_order_for_several_symbols(stocks: StockHistoricalDataClient) -> None:
    """Half an hour of trades per symbol, oldest first, all within the requested window."""
    start = NOW - timedelta(minutes=30)
    found = stocks.get_stock_trades(StockTradesRequest(symbol_or_symbols=STOCKS, start=start))
    assert isinstance(found, TradeSet) and sorted(found.data) == STOCKS
    for symbol in STOCKS:
        stamps = [t.timestamp for t in found[symbol]]
        assert len(stamps) >= 30 and stamps == sorted(stamps)
        assert start <= stamps[0] and stamps[-1] <= NOW


def test_stock_quotes_parse_one_per_minute(stocks: StockHistoricalDataClient) -> None:
    """Quotes change once a minute, at the minute: 31 quotes in the half hour up to now, inclusive."""
    found = stocks.get_stock_quotes(
        StockQuotesRequest(symbol_or_symbols=STOCKS, start=NOW - timedelta(minutes=30))
    )
    assert isinstance(found, QuoteSet)
    assert {symbol: len(found[symbol]) for symbol in STOCKS} == {symbol: 31 for symbol in STOCKS}


def test_stock_snapshots_parse_every_part(stocks: StockHistoricalDataClient) -> None:
    """Snapshots carry the latest trade and quote, the minute bar, and today's and yesterday's bars."""
    found = stocks.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=STOCKS))
    assert sorted(found) == STOCKS
    for snapshot in found.values():
        assert isinstance(snapshot, Snapshot)
        assert snapshot.latest_trade is not None and snapshot.latest_quote is not None
        assert snapshot.minute_bar is not None
        assert (
            snapshot.daily_bar is not None and snapshot.daily_bar.timestamp.date().isoformat() == "2026-11-17"
        )
        assert snapshot.previous_daily_bar is not None
        assert snapshot.previous_daily_bar.timestamp.date().isoformat() == "2026-11-16"


def test_crypto_hourly_bars_parse_around_the_clock(crypto: CryptoHistoricalDataClient) -> None:
    """Crypto trades all night: hourly bars for every hour since midnight Central time."""
    found = crypto.get_crypto_bars(CryptoBarsRequest(symbol_or_symbols=COINS, timeframe=TimeFrame.Hour))
    assert sorted(found.data) == COINS
    for symbol in COINS:
        stamps = [b.timestamp for b in found[symbol]]
        assert stamps[0] == datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # 00:00 CST
        assert stamps[-1] == datetime(2026, 11, 17, 14, 0, tzinfo=UTC) and len(stamps) == 9


def test_crypto_latest_bars_parse_with_fractional_volume(crypto: CryptoHistoricalDataClient) -> None:
    """Crypto volumes are fractions of a coin."""
    found = crypto.get_crypto_latest_bar(CryptoLatestBarRequest(symbol_or_symbols=COINS))
    assert sorted(found) == COINS
    assert all(isinstance(b, Bar) and 0 < b.volume < 10 for b in found.values())


def test_crypto_latest_quotes_parse_for_several_pairs(crypto: CryptoHistoricalDataClient) -> None:
    """Latest crypto quotes: bid under ask, no exchange or tape fields (as Alpaca's)."""
    found = crypto.get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols=COINS))
    assert sorted(found) == COINS
    for quote in found.values():
        assert 0 < quote.bid_price < quote.ask_price and quote.ask_exchange is None


def test_crypto_snapshots_parse_every_part(crypto: CryptoHistoricalDataClient) -> None:
    """Crypto snapshots have all five parts, the daily bars starting at midnight Central time."""
    found = crypto.get_crypto_snapshot(CryptoSnapshotRequest(symbol_or_symbols=COINS))
    assert sorted(found) == COINS
    for snapshot in found.values():
        assert snapshot.latest_trade is not None and snapshot.latest_quote is not None
        assert snapshot.minute_bar is not None and snapshot.previous_daily_bar is not None
        assert snapshot.daily_bar is not None
        assert snapshot.daily_bar.timestamp == datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
