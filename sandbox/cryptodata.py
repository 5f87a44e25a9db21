"""Crypto market-data routes of Alpaca's Market Data API v1beta3, location `us`: bars, trades, quotes,
the latest of each, and snapshots, for pairs like BTC/USD. As at Alpaca, they need no credentials."""

from __future__ import annotations

from flask import Flask, Response

from sandbox import dataroutes, http
from sandbox.clock import CENTRAL
from sandbox.dataroutes import SeriesOf, ValueOf
from sandbox.marketdata import Feed
from sandbox.state import Sandbox

PREFIX = "/v1beta3/crypto/us"


def register(app: Flask, sandbox: Sandbox) -> None:
    feed = Feed(sandbox)
    histories: dict[str, SeriesOf] = {
        "bars": dataroutes.bars_of(feed),
        "trades": feed.trades,
        "quotes": feed.quotes,
    }
    latests: dict[str, ValueOf] = {
        "bars": lambda asset: feed.latest_bar(asset, feed.now()),
        "trades": lambda asset: feed.latest_trade(asset, feed.now()),
        "quotes": lambda asset: feed.latest_quote(asset, feed.now()),
    }
    for key, series_of in histories.items():
        app.add_url_rule(
            f"{PREFIX}/{key}", f"crypto_{key}", dataroutes.history(feed, key, series_of, True, CENTRAL)
        )
    for key, value_of in latests.items():
        app.add_url_rule(
            f"{PREFIX}/latest/{key}", f"crypto_latest_{key}", dataroutes.latest(feed, key, value_of, True)
        )

    @app.get(f"{PREFIX}/snapshots")
    def crypto_snapshots() -> Response:
        now = feed.now()
        found = sorted(dataroutes.requested(feed, crypto=True).items())
        return http.json_response(
            {"snapshots": {symbol: feed.snapshot(asset, now) for symbol, asset in found}}
        )
