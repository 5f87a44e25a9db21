"""Market-data subset in the data API's paths and shapes: latest quotes and trades, bars, crypto quotes."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from sandbox import calendar, server
from sandbox.assets import Asset
from sandbox.clock import parse_time, rfc3339
from sandbox.errors import ApiError
from sandbox.market import Market, minute_of, minute_start, volume_of
from sandbox.state import Sandbox

TAPES = {"NYSE": "A", "AMEX": "B", "ARCA": "B", "BATS": "B", "NASDAQ": "C"}
TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
UNIT_MINUTES = {"Min": 1, "T": 1, "Hour": 60, "H": 60, "Day": 1440, "D": 1440, "Week": 10080, "W": 10080}


def _bad(message: str) -> ApiError:
    return ApiError(400, 40010000, message)


def _num(value: Decimal) -> float:
    return float(value)  # the data API sends prices as JSON numbers


def _size(asset: Asset, minute: int, salt: int) -> int | float:
    raw = volume_of(asset.symbol + str(salt), minute) // 100
    return raw / 1000 if asset.is_crypto else raw


def quote_json(market: Market, asset: Asset, moment: datetime) -> dict[str, Any]:
    quote = market.quote(asset, moment)
    minute = minute_of(moment)
    body: dict[str, Any] = {
        "t": rfc3339(quote.at),
        "bp": _num(quote.bid),
        "bs": _size(asset, minute, 1),
        "ap": _num(quote.ask),
        "as": _size(asset, minute, 2),
    }
    if not asset.is_crypto:
        body.update({"ax": "V", "bx": "V", "c": ["R"], "z": TAPES.get(asset.exchange, "A")})
    return body


def trade_json(market: Market, asset: Asset, moment: datetime) -> dict[str, Any]:
    quote = market.quote(asset, moment)
    minute = minute_of(moment)
    body: dict[str, Any] = {"t": rfc3339(quote.at), "p": _num(quote.last), "s": _size(asset, minute, 3)}
    body["i"] = minute
    if not asset.is_crypto:
        body.update({"x": "V", "c": ["@"], "z": TAPES.get(asset.exchange, "A")})
    return body


def _bar(market: Market, asset: Asset, start: int, minutes: list[int]) -> dict[str, Any]:
    stride = max(1, len(minutes) // 120)  # sample long bars so a daily bar costs ~120 prices
    sampled = [*minutes[::stride], minutes[-1]]
    prices = [market.walk_price(asset, m) for m in sampled]
    opening = market.walk_price(asset, minutes[0] - 1)
    high, low = max([opening, *prices]), min([opening, *prices])
    volume = sum(volume_of(asset.symbol, m) for m in sampled) * stride
    close = prices[-1]
    vwap = market.round(asset, (high + low + close) / 3)
    return {
        "t": rfc3339(minute_start(start)),
        "o": _num(opening),
        "h": _num(high),
        "l": _num(low),
        "c": _num(close),
        "v": volume,
        "n": max(1, volume // 90),
        "vw": _num(vwap),
    }


def _session_minutes(asset: Asset, first: int, last: int) -> list[int]:
    """Minutes with trading in [first, last]: all for crypto, 04:00-20:00 ET of trading days otherwise."""
    if asset.is_crypto:
        return list(range(first, last + 1))
    result: list[int] = []
    day = calendar.eastern_date(minute_start(first))
    while minute_start(first) <= minute_start(last) and day <= calendar.eastern_date(minute_start(last)):
        found = calendar.trading_day(day)
        if found is not None:
            lo, hi = max(first, minute_of(found.session_open)), min(last, minute_of(found.session_close) - 1)
            result.extend(range(lo, hi + 1))
        day += timedelta(days=1)
    return result


def bars(
    market: Market, asset: Asset, timeframe: str, start: datetime, end: datetime, limit: int
) -> list[Any]:
    match = TIMEFRAME.match(timeframe)
    if match is None or match.group(2) in ("Month", "M"):
        raise _bad("invalid timeframe")
    width = int(match.group(1)) * UNIT_MINUTES[match.group(2)]
    result: list[Any] = []
    if width >= 1440 and not asset.is_crypto:
        day = calendar.eastern_date(start)
        while day <= calendar.eastern_date(end) and len(result) <= limit:
            found = calendar.trading_day(day)
            if found is not None and found.open <= end:
                stamp = minute_of(datetime.combine(day, datetime.min.time(), calendar.EASTERN))
                last = min(minute_of(found.close) - 1, minute_of(end))
                result.append(_bar(market, asset, stamp, list(range(minute_of(found.open), last + 1))))
            day += timedelta(days=max(1, width // 1440))
        return result
    minutes = _session_minutes(asset, minute_of(start), minute_of(end))
    buckets: dict[int, list[int]] = {}
    for minute in minutes:
        buckets.setdefault(minute - minute % width, []).append(minute)
        if len(buckets) > limit:
            break
    return [_bar(market, asset, key, group) for key, group in buckets.items()]


def register(app: Flask, sandbox: Sandbox) -> None:
    market, universe = sandbox.market, sandbox.universe
    respond = server.json_response

    def stock(symbol: str) -> Asset:
        asset = universe.find(symbol)
        if asset is None or asset.is_crypto:
            raise ApiError(404, 40410000, f"asset not found for {symbol}")
        return asset

    def symbols(crypto: bool) -> list[Asset]:
        raw = request.args.get("symbols", "")
        names = [s.strip() for s in raw.split(",") if s.strip()]
        if not names:
            raise _bad("missing symbols")
        found = [universe.find(n) for n in names]
        return [a for a in found if a is not None and a.is_crypto == crypto]

    @app.get("/v2/stocks/<symbol>/quotes/latest")
    def latest_quote(symbol: str) -> Response:
        asset = stock(symbol)
        return respond({"symbol": asset.symbol, "quote": quote_json(market, asset, sandbox.clock.now())})

    @app.get("/v2/stocks/quotes/latest")
    def latest_quotes() -> Response:
        now = sandbox.clock.now()
        return respond({"quotes": {a.symbol: quote_json(market, a, now) for a in symbols(False)}})

    @app.get("/v2/stocks/<symbol>/trades/latest")
    def latest_trade(symbol: str) -> Response:
        asset = stock(symbol)
        return respond({"symbol": asset.symbol, "trade": trade_json(market, asset, sandbox.clock.now())})

    @app.get("/v2/stocks/trades/latest")
    def latest_trades() -> Response:
        now = sandbox.clock.now()
        return respond({"trades": {a.symbol: trade_json(market, a, now) for a in symbols(False)}})

    @app.get("/v1beta3/crypto/us/latest/quotes")
    def crypto_quotes() -> Response:
        now = sandbox.clock.now()
        return respond({"quotes": {a.symbol: quote_json(market, a, now) for a in symbols(True)}})

    @app.get("/v1beta3/crypto/us/latest/trades")
    def crypto_trades() -> Response:
        now = sandbox.clock.now()
        return respond({"trades": {a.symbol: trade_json(market, a, now) for a in symbols(True)}})

    @app.get("/v2/stocks/<symbol>/bars")
    def stock_bars(symbol: str) -> Response:
        asset = stock(symbol)
        now = sandbox.clock.now()
        try:
            start = parse_time(request.args["start"]) if request.args.get("start") else None
            end = parse_time(request.args["end"]) if request.args.get("end") else now
        except ValueError:
            raise _bad("invalid start or end") from None
        end = min(end, now)
        if start is None:
            start = datetime.combine(calendar.eastern_date(now), datetime.min.time(), calendar.EASTERN)
        token = request.args.get("page_token")
        if token:
            try:
                start = parse_time(base64.b64decode(token).decode())
            except ValueError:
                raise _bad("invalid page_token") from None
        raw_limit = request.args.get("limit", "1000")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 10000:
            raise _bad("invalid limit")
        limit = int(raw_limit)
        found = bars(market, asset, request.args.get("timeframe", "1Day"), start, end, limit)
        next_token = None
        if len(found) > limit:
            next_token = base64.b64encode(found[limit]["t"].encode()).decode()
            found = found[:limit]
        return respond({"bars": found, "symbol": asset.symbol, "next_page_token": next_token})
