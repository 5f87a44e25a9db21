"""Stock market-data routes of Alpaca's Market Data API v2: bars, trades and quotes (historical and
latest, for several symbols or one) and snapshots."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response

from sandbox import dataroutes, http
from sandbox.clock import EASTERN
from sandbox.dataroutes import SeriesOf, ValueOf, View
from sandbox.marketdata import Feed
from sandbox.state import Sandbox

PREFIX = "/v2/stocks"
SingleView = Callable[[str], Response]


def register(app: Flask, sandbox: Sandbox) -> None:
    feed = Feed(sandbox)
    histories: dict[str, SeriesOf] = {
        "bars": dataroutes.bars_of(feed),
        "trades": feed.trades,
        "quotes": feed.quotes,
    }
    latests: dict[str, tuple[str, ValueOf]] = {
        "bars": ("bar", lambda asset: feed.latest_bar(asset, feed.now())),
        "trades": ("trade", lambda asset: feed.latest_trade(asset, feed.now())),
        "quotes": ("quote", lambda asset: feed.latest_quote(asset, feed.now())),
    }
    for key, series_of in histories.items():
        many: View = dataroutes.history(feed, key, series_of, False, EASTERN)
        app.add_url_rule(f"{PREFIX}/{key}", f"stock_{key}", many)
        app.add_url_rule(f"{PREFIX}/<symbol>/{key}", f"stock_{key}_one", _history_one(feed, key, series_of))
    for key, (single, value_of) in latests.items():
        app.add_url_rule(
            f"{PREFIX}/{key}/latest", f"stock_{key}_latest", dataroutes.latest(feed, key, value_of, False)
        )
        app.add_url_rule(
            f"{PREFIX}/<symbol>/{key}/latest", f"stock_{key}_latest_one", _latest_one(feed, single, value_of)
        )

    @app.get(f"{PREFIX}/snapshots")
    def stock_snapshots() -> Response:
        now = feed.now()
        found = sorted(dataroutes.requested(feed, crypto=False).items())
        return http.json_response({symbol: feed.snapshot(asset, now) for symbol, asset in found})

    @app.get(f"{PREFIX}/<symbol>/snapshot")
    def stock_snapshot(symbol: str) -> Response:
        asset = feed.stock(symbol)
        return http.json_response({"symbol": asset.symbol, **feed.snapshot(asset, feed.now())})


def _history_one(feed: Feed, key: str, series_of: SeriesOf) -> SingleView:
    """`{key: [items], "symbol", "next_page_token"}` for the symbol in the path."""

    def view(symbol: str) -> Response:
        asset = feed.stock(symbol)
        found, token = dataroutes.page(feed, {asset.symbol: asset}, series_of, EASTERN)
        body = {key: found.get(asset.symbol, []), "symbol": asset.symbol, "next_page_token": token}
        return http.json_response(body)

    return view


def _latest_one(feed: Feed, single: str, value_of: ValueOf) -> SingleView:
    def view(symbol: str) -> Response:
        asset = feed.stock(symbol)
        return http.json_response({"symbol": asset.symbol, single: value_of(asset)})

    return view
