"""Market data in Alpaca's shapes, read off the tape: bar, trade and quote series, latest values and
snapshots. Historical data follows the walk; the latest quote and trade also show pinned prices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox import bars, tape
from sandbox.assets import Asset
from sandbox.bars import Timeframe
from sandbox.clock import rfc3339
from sandbox.dataquery import Series
from sandbox.errors import not_found
from sandbox.market import minute_of
from sandbox.state import Sandbox

TAPES = {"NYSE": "A", "AMEX": "B", "ARCA": "B", "BATS": "B", "NASDAQ": "C"}
EXCHANGE = "V"  # IEX, the feed a free Alpaca account reads
DAY = Timeframe(1, "Day")


def _num(value: Decimal) -> float:
    return float(value)  # the data API sends prices and sizes as JSON numbers


def _size(asset: Asset, value: Decimal) -> int | float:
    return float(value) if asset.is_crypto else int(value)


def _bar_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bar_json(asset: Asset, bar: tape.Bar) -> dict[str, Any]:
    return {
        "t": _bar_time(bar.at),
        "o": _num(bar.open),
        "h": _num(bar.high),
        "l": _num(bar.low),
        "c": _num(bar.close),
        "v": _size(asset, bar.volume),
        "n": bar.count,
        "vw": round(float(bar.vwap), 6),
    }


def trade_json(asset: Asset, trade: tape.Trade) -> dict[str, Any]:
    body: dict[str, Any] = {"t": rfc3339(trade.at), "p": _num(trade.price), "s": _size(asset, trade.size)}
    body["i"] = trade.id
    if asset.is_crypto:
        body["tks"] = trade.taker
    else:
        body.update({"x": EXCHANGE, "c": ["@"], "z": TAPES.get(asset.exchange, "A")})
    return body


def quote_json(asset: Asset, at: datetime, bid: Decimal, ask: Decimal, minute: int) -> dict[str, Any]:
    bid_size, ask_size = tape.quote_sizes(asset, minute)
    body: dict[str, Any] = {
        "t": rfc3339(at),
        "bp": _num(bid),
        "bs": _size(asset, bid_size),
        "ap": _num(ask),
        "as": _size(asset, ask_size),
    }
    if not asset.is_crypto:
        body.update({"ax": EXCHANGE, "bx": EXCHANGE, "c": ["R"], "z": TAPES.get(asset.exchange, "A")})
    return body


class Feed:
    """What the data routes answer, for one sandbox: series for paging, latest values, snapshots."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.market, self.clock, self.universe = sandbox.market, sandbox.clock, sandbox.universe

    def now(self) -> datetime:
        return self.clock.now()

    def assets(self, names: list[str], crypto: bool) -> dict[str, Asset]:
        """The known assets of the asset class among `names`, by symbol; Alpaca leaves out the others."""
        found = (self.universe.find(name) for name in names)
        return {a.symbol: a for a in found if a is not None and a.is_crypto == crypto}

    def stock(self, symbol: str) -> Asset:
        asset = self.universe.find(symbol)
        if asset is None or asset.is_crypto:
            raise not_found(f"asset not found for {symbol}")
        return asset

    def bars(self, asset: Asset, timeframe: Timeframe) -> Series:
        def items(start: datetime, end: datetime, reverse: bool) -> Iterator[tuple[datetime, Any]]:
            for bar in bars.series(asset, timeframe, start, end, self.now(), reverse):
                yield bar.at, bar_json(asset, bar)

        return items

    def trades(self, asset: Asset) -> Series:
        def items(start: datetime, end: datetime, reverse: bool) -> Iterator[tuple[datetime, Any]]:
            for minute in tape.session_minutes(asset, minute_of(start), minute_of(end), reverse):
                printed = tape.trades(asset, minute)
                for trade in reversed(printed) if reverse else printed:
                    if start <= trade.at <= end:
                        yield trade.at, trade_json(asset, trade)

        return items

    def quotes(self, asset: Asset) -> Series:
        def items(start: datetime, end: datetime, reverse: bool) -> Iterator[tuple[datetime, Any]]:
            for minute in tape.session_minutes(asset, minute_of(start), minute_of(end), reverse):
                quote = self.market.walk_quote(asset, minute)
                if start <= quote.at <= end:
                    yield quote.at, quote_json(asset, quote.at, quote.bid, quote.ask, minute)

        return items

    def latest_quote(self, asset: Asset, now: datetime) -> dict[str, Any]:
        quote = self.market.quote(asset, now)  # what orders are priced against, pins included
        return quote_json(asset, quote.at, quote.bid, quote.ask, minute_of(now))

    def latest_trade(self, asset: Asset, now: datetime) -> dict[str, Any] | None:
        pinned = self.market.pinned(asset)
        if pinned is not None:
            last = tape.trades(asset, minute_of(now))[-1]  # a print at the pin, in the tape's id sequence
            return trade_json(asset, tape.Trade(now, pinned, last.size, last.id, last.taker))
        trade = tape.last_trade(asset, now)
        return trade_json(asset, trade) if trade is not None else None

    def latest_bar(self, asset: Asset, now: datetime) -> dict[str, Any] | None:
        bar = tape.last_minute_bar(asset, now)
        return bar_json(asset, bar) if bar is not None else None

    def snapshot(self, asset: Asset, now: datetime) -> dict[str, Any]:
        daily = bars.series(asset, DAY, now - timedelta(days=15), now, now, reverse=True)
        recent = [bar_json(asset, bar) for bar, _ in zip(daily, range(2), strict=False)]
        return {
            "latestTrade": self.latest_trade(asset, now),
            "latestQuote": self.latest_quote(asset, now),
            "minuteBar": self.latest_bar(asset, now),
            "dailyBar": recent[0] if recent else None,
            "prevDailyBar": recent[1] if len(recent) > 1 else None,
        }
