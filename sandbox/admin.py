"""Admin routes under /_sandbox: clock, prices, faults, stats, reset. No auth, never rate limited."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response

from sandbox import calendar, http
from sandbox.broker import Broker
from sandbox.clock import parse_time, rfc3339, utc_now
from sandbox.decimals import parse_decimal
from sandbox.errors import ApiError, invalid, not_found
from sandbox.faults import parse_fault
from sandbox.state import Sandbox

EDGES = {"next_open": calendar.next_open, "next_close": calendar.next_close}


def register(app: Flask, sandbox: Sandbox) -> None:
    broker, clock = sandbox.broker, sandbox.clock
    respond = http.json_response

    def clock_body() -> Response:
        return respond({"now": rfc3339(clock.now()), "frozen": clock.frozen})

    @app.get("/_sandbox/clock")
    def get_clock() -> Response:
        return clock_body()

    @app.put("/_sandbox/clock")
    def put_clock() -> Response:
        body = http.request_json()
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
            current = sandbox.now()
            _check_rewind(broker, current, target or utc_now())
            clock.set(target, bool(body.get("frozen", target is not None)))
            sandbox.now()
        return clock_body()

    @app.post("/_sandbox/clock/advance")
    def advance() -> Response:
        """`{"seconds": n}`, or `{"to": "next_open"}` / `{"to": "next_close"}` of the sandbox calendar."""
        body = http.request_json()
        if not isinstance(body, dict) or ("to" in body) == ("seconds" in body):
            raise invalid("give either seconds or to")
        seconds = parse_decimal(body.get("seconds"))
        if "to" not in body and (seconds is None or seconds < 0):
            raise invalid("seconds must be a number >= 0")
        if "to" in body and body["to"] not in EDGES:
            raise invalid("to must be next_open or next_close")
        with broker.lock:
            current = sandbox.now()
            if "to" in body:
                clock.set(EDGES[body["to"]](current), clock.frozen)
            else:
                clock.advance(float(seconds or 0))
            sandbox.now()  # fills, triggers and expiries due on the way happen here, in time order
        return clock_body()

    @app.put("/_sandbox/prices/<path:symbol>")
    def pin_price(symbol: str) -> Response:
        body = http.request_json()
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

    @app.get("/_sandbox/liquidity")
    def get_liquidity() -> Response:
        return respond({"liquidity": {k: str(v) for k, v in sorted(broker.liquidity.items())}})

    @app.put("/_sandbox/liquidity/<path:symbol>")
    def put_liquidity(symbol: str) -> Response:
        """`{"qty": "100"}`: an order in `symbol` (or `*`: any) fills at most 100 a minute; null: no limit."""
        body = http.request_json()
        if not isinstance(body, dict) or "qty" not in body:
            raise invalid("body must be an object with qty (a positive decimal, or null)")
        qty = parse_decimal(body["qty"]) if body["qty"] is not None else None
        if body["qty"] is not None and (qty is None or qty <= 0):
            raise invalid("qty must be a positive decimal or null")
        asset = None if symbol == "*" else sandbox.universe.find(symbol)
        if symbol != "*" and asset is None:
            raise not_found(f"asset not found for {symbol}")
        name = asset.symbol if asset is not None else "*"
        with broker.lock:
            sandbox.now()
            if qty is None:
                broker.liquidity.pop(name, None)
            else:
                broker.liquidity[name] = qty
        return get_liquidity()

    @app.post("/_sandbox/faults")
    def add_fault() -> Response:
        fault = parse_fault(http.request_json())
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


def _check_rewind(broker: Broker, current: datetime, target: datetime) -> None:
    """Moving the clock back is refused while orders or fills dated after the target exist: they would
    come from the future (and their expiries and fills could never be replayed). Reset first."""
    if target >= current:
        return
    later = [o for o in broker.book.by_id.values() if (o.updated_at or o.created_at) > target]
    fills = [a for acct in broker.accounts.values() for a in acct.activities if a.at > target]
    if later or fills:
        raise ApiError(
            409,
            40910000,
            f"cannot move the clock back to {rfc3339(target)}: orders or fills are dated after it; "
            "POST /_sandbox/reset first",
            orders=len(later),
            fills=len(fills),
        )
