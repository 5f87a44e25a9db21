"""Admin routes under /_sandbox: clock, prices, faults, stats, reset. No auth, never rate limited."""

from __future__ import annotations

from flask import Flask, Response

from sandbox import server
from sandbox.clock import parse_time, rfc3339
from sandbox.decimals import parse_decimal
from sandbox.errors import invalid, not_found
from sandbox.faults import parse_fault
from sandbox.state import Sandbox


def register(app: Flask, sandbox: Sandbox) -> None:
    broker, clock = sandbox.broker, sandbox.clock
    respond = server.json_response

    def clock_body() -> Response:
        return respond({"now": rfc3339(clock.now()), "frozen": clock.frozen})

    @app.get("/_sandbox/clock")
    def get_clock() -> Response:
        return clock_body()

    @app.put("/_sandbox/clock")
    def put_clock() -> Response:
        body = server.request_json()
        if not isinstance(body, dict):
            raise invalid("body must be an object")
        raw = body.get("now")
        try:
            target = parse_time(raw) if isinstance(raw, str) else None
        except ValueError:
            raise invalid("now must be RFC3339 or null") from None
        if raw is not None and target is None:
            raise invalid("now must be RFC3339 or null")
        with broker.lock:
            clock.set(target, bool(body.get("frozen", target is not None)))
            sandbox.now()
        return clock_body()

    @app.post("/_sandbox/clock/advance")
    def advance() -> Response:
        body = server.request_json()
        seconds = parse_decimal(body.get("seconds")) if isinstance(body, dict) else None
        if seconds is None or seconds < 0:
            raise invalid("seconds must be a number >= 0")
        with broker.lock:
            sandbox.now()
            clock.advance(float(seconds))
            sandbox.now()
        return clock_body()

    @app.put("/_sandbox/prices/<path:symbol>")
    def pin_price(symbol: str) -> Response:
        body = server.request_json()
        price = parse_decimal(body.get("price")) if isinstance(body, dict) else None
        asset = sandbox.universe.find(symbol)
        if asset is None:
            raise not_found(f"asset not found for {symbol}")
        if price is None or price <= 0:
            raise invalid("price must be a positive decimal")
        with broker.lock:
            now = sandbox.now()
            sandbox.market.pin(asset, price)
            broker.evaluate_all(now, asset.symbol)
        quote = sandbox.market.quote(asset, now)
        return respond(
            {"symbol": asset.symbol, "price": str(price), "bid": str(quote.bid), "ask": str(quote.ask)}
        )

    @app.post("/_sandbox/faults")
    def add_fault() -> Response:
        fault = parse_fault(server.request_json())
        sandbox.faults.add(fault)
        return respond({"faults": sandbox.faults.pending()})

    @app.delete("/_sandbox/faults")
    def clear_faults() -> Response:
        sandbox.faults.clear()
        return respond({"faults": []})

    @app.get("/_sandbox/stats")
    def stats() -> Response:
        return respond(sandbox.limiter.stats())

    @app.post("/_sandbox/reset")
    def reset() -> Response:
        sandbox.reset()
        return respond({"reset": True, "now": rfc3339(clock.now())})
