"""Views shared by the stock and crypto data routes: a page of series for several symbols, the latest
value of each symbol, and the `timeframe` parameter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, request

from sandbox import http
from sandbox.assets import Asset
from sandbox.bars import parse_timeframe
from sandbox.dataquery import Series, invalid, paginate, parse_query, symbol_names
from sandbox.marketdata import Feed

View = Callable[[], Response]
SeriesOf = Callable[[Asset], Series]
ValueOf = Callable[[Asset], dict[str, Any] | None]


def bars_of(feed: Feed) -> SeriesOf:
    """Bar series in the request's `timeframe` (required, as at Alpaca)."""

    def series_of(asset: Asset) -> Series:
        timeframe = parse_timeframe(request.args.get("timeframe", ""))
        if timeframe is None:
            raise invalid("invalid timeframe")
        return feed.bars(asset, timeframe)

    return series_of


def requested(feed: Feed, crypto: bool) -> dict[str, Asset]:
    return feed.assets(symbol_names(request.args), crypto)


def page(feed: Feed, assets: dict[str, Asset], series_of: SeriesOf, zone: ZoneInfo) -> tuple[Any, str | None]:
    query = parse_query(request.args, feed.now(), zone)
    return paginate({symbol: series_of(asset) for symbol, asset in assets.items()}, query)


def history(feed: Feed, key: str, series_of: SeriesOf, crypto: bool, zone: ZoneInfo) -> View:
    """`{key: {symbol: [items]}, "next_page_token"}` for the `symbols` query parameter."""

    def view() -> Response:
        found, token = page(feed, requested(feed, crypto), series_of, zone)
        return http.json_response({key: found, "next_page_token": token})

    return view


def latest(feed: Feed, key: str, value_of: ValueOf, crypto: bool) -> View:
    """`{key: {symbol: value}}`, leaving out symbols without a value."""

    def view() -> Response:
        values = {symbol: value_of(asset) for symbol, asset in sorted(requested(feed, crypto).items())}
        return http.json_response({key: {s: v for s, v in values.items() if v is not None}})

    return view
