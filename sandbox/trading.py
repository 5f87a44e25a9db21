"""Trading API v2 routes: account, configurations, assets, orders, positions, activities, clock, calendar."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask, Response, request

from sandbox import history, http, liquidation, views
from sandbox.errors import ApiError, invalid, not_found
from sandbox.rules import parse_bool
from sandbox.state import Sandbox

CONFIG_CHOICES = {
    "dtbp_check": ("both", "entry", "exit"),
    "pdt_check": ("both", "entry", "exit"),
    "trade_confirm_email": ("all", "none"),
    "max_margin_multiplier": ("1", "2", "4"),
}
CONFIG_BOOLS = (
    "suspend_trade",
    "no_shorting",
    "fractional_trading",
    "ptp_no_exception_entry",
    "disable_overnight_trading",
)


def _date_arg(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise invalid(f"invalid {name}") from None


def register(app: Flask, sandbox: Sandbox) -> None:
    broker = sandbox.broker
    respond = http.json_response

    @app.get("/v2/account")
    def account() -> Response:
        with broker.lock:
            now = sandbox.now()
            return respond(views.account_json(broker, http.current_account(), now))

    @app.get("/v2/account/configurations")
    def configurations() -> Response:
        return respond(http.current_account().configuration)

    @app.patch("/v2/account/configurations")
    def patch_configurations() -> Response:
        body = http.request_json()
        if not isinstance(body, dict):
            raise ApiError(400, 40010000, "request body format is invalid")
        with broker.lock:
            config = http.current_account().configuration
            updates: dict[str, Any] = {}
            for key, value in body.items():
                if value is None or key not in config:
                    continue  # alpaca-py sends every field, unset ones as null
                if key in CONFIG_CHOICES and str(value) not in CONFIG_CHOICES[key]:
                    raise ApiError(400, 40010000, f"invalid {key}")
                if key in CONFIG_BOOLS and not isinstance(value, bool):
                    raise ApiError(400, 40010000, f"invalid {key}")
                updates[key] = str(value) if key in CONFIG_CHOICES else value
            config.update(updates)
            return respond(config)

    @app.get("/v2/assets")
    def assets() -> Response:
        status = request.args.get("status")
        asset_class = request.args.get("asset_class", "us_equity")
        exchange = request.args.get("exchange")
        attributes = {a for a in request.args.get("attributes", "").split(",") if a}
        found = [
            a.to_json()
            for a in sandbox.universe.assets
            if (not status or a.status == status)
            and a.asset_class == asset_class
            and (not exchange or a.exchange == exchange)
            and (not attributes or attributes & set(a.attributes))
        ]
        return respond(found)

    @app.get("/v2/assets/<path:symbol_or_id>")
    def asset(symbol_or_id: str) -> Response:
        found = sandbox.universe.find(symbol_or_id)
        if found is None:
            raise not_found(f"asset not found for {symbol_or_id}")
        return respond(found.to_json())

    @app.post("/v2/orders")
    def submit() -> Response:
        body = http.request_json()
        with broker.lock:
            order = broker.submit(http.current_account(), body, sandbox.now())
            legs = broker.book.legs(order) if order.leg_ids else None
            return respond(order.to_json(legs))

    @app.get("/v2/orders")
    def list_orders() -> Response:
        status = request.args.get("status", "open").lower()
        if status not in ("open", "closed", "all"):
            raise invalid("invalid status")
        raw_limit = request.args.get("limit", "50")
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            raise invalid("invalid limit")
        direction = request.args.get("direction", "desc").lower()
        if direction not in ("asc", "desc"):
            raise invalid("invalid direction")
        side = request.args.get("side")
        symbols_raw = request.args.get("symbols")
        symbols = {s.strip().upper() for s in symbols_raw.split(",") if s.strip()} if symbols_raw else None
        nested = parse_bool(request.args.get("nested", "false"))
        after, until = views.time_param(request.args, "after"), views.time_param(request.args, "until")
        with broker.lock:
            sandbox.now()
            key = http.current_account().spec.key
            found = broker.book.query(
                key, status, after, until, side, symbols, nested, direction == "asc", min(int(raw_limit), 500)
            )
            return respond([o.to_json(broker.book.legs(o) if nested and o.leg_ids else None) for o in found])

    @app.get("/v2/orders:by_client_order_id")
    def by_client_id() -> Response:
        client_id = request.args.get("client_order_id")
        if not client_id:
            raise invalid("client_order_id is required")
        with broker.lock:
            sandbox.now()
            order = broker.book.by_client_id(http.current_account().spec.key, client_id)
            if order is None:
                raise not_found("order not found")
            return respond(order.to_json(broker.book.legs(order) if order.leg_ids else None))

    @app.get("/v2/orders/<order_id>")
    def get_order(order_id: str) -> Response:
        nested = parse_bool(request.args.get("nested", "false"))
        with broker.lock:
            sandbox.now()
            order = broker.book.get(http.current_account().spec.key, order_id)
            if order is None:
                raise not_found("order not found")
            return respond(order.to_json(broker.book.legs(order) if nested and order.leg_ids else None))

    @app.patch("/v2/orders/<order_id>")
    def replace(order_id: str) -> Response:
        body = http.request_json()
        with broker.lock:
            order = broker.replace(http.current_account(), order_id, body, sandbox.now())
            return respond(order.to_json())

    @app.delete("/v2/orders/<order_id>")
    def cancel(order_id: str) -> Response:
        with broker.lock:
            broker.cancel(http.current_account(), order_id, sandbox.now())
        return Response(status=204)

    @app.delete("/v2/orders")
    def cancel_all() -> Response:
        with broker.lock:
            return respond(broker.cancel_all(http.current_account(), sandbox.now()), 207)

    @app.get("/v2/positions")
    def positions() -> Response:
        with broker.lock:
            now = sandbox.now()
            return respond(views.positions_json(broker, http.current_account(), now))

    @app.get("/v2/positions/<path:symbol_or_id>")
    def position(symbol_or_id: str) -> Response:
        with broker.lock:
            now = sandbox.now()
            account = http.current_account()
            asset = sandbox.universe.find(symbol_or_id)
            found = account.positions.get(asset.symbol) if asset else None
            if found is None:
                raise not_found("position does not exist")
            return respond(views.position_json(broker, account, found, now))

    @app.delete("/v2/positions/<path:symbol_or_id>")
    def close_position(symbol_or_id: str) -> Response:
        args = {k: v for k, v in request.args.items() if k in ("qty", "percentage")}
        with broker.lock:
            order = liquidation.close_position(
                broker, http.current_account(), symbol_or_id, args, sandbox.now()
            )
            return respond(order.to_json())

    @app.delete("/v2/positions")
    def close_all() -> Response:
        cancel_orders = parse_bool(request.args.get("cancel_orders", "false"))
        with broker.lock:
            return respond(
                liquidation.close_all(broker, http.current_account(), cancel_orders, sandbox.now()), 207
            )

    @app.get("/v2/account/activities")
    @app.get("/v2/account/activities/<activity_type>")
    def activities(activity_type: str | None = None) -> Response:
        with broker.lock:
            sandbox.now()
            args = dict(request.args.items())
            return respond(views.activities_json(http.current_account(), args, activity_type))

    @app.get("/v2/account/portfolio/history")
    def portfolio_history() -> Response:
        with broker.lock:
            now = sandbox.now()
            args = dict(request.args.items())
            return respond(
                history.portfolio_history(http.current_account(), broker.market, sandbox.universe, args, now)
            )

    @app.get("/v2/clock")
    def clock() -> Response:
        with broker.lock:
            return respond(views.clock_json(sandbox.now()))

    @app.get("/v2/calendar")
    def calendar_days() -> Response:
        start = _date_arg("start", date(1970, 1, 1))
        end = _date_arg("end", date(2029, 12, 31))
        if (end - start).days > 366 * 200:
            raise invalid("date range too large")
        settlement = request.args.get("date_type", "TRADING").upper() == "SETTLEMENT"
        return respond(views.calendar_json(start, end, settlement))
