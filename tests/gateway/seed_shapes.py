"""The seed document's response shapes, field by field, and a checker for their JSON types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Kinds: "str", "dec" (a decimal as a string), "ts" (an RFC 3339 string), "bool", "int", "list";
# a trailing "?" means the seed shows null there (null, or the kind once set).
ACCOUNT = {
    "account_id": "str",
    "status": "str",
    "currency": "str",
    "buying_power": "dec",
    "regt_buying_power": "dec",
    "daytrading_buying_power": "dec",
    "cash": "dec",
    "portfolio_value": "dec",
    "pattern_day_trader": "bool",
    "trading_blocked": "bool",
    "transfers_blocked": "bool",
    "account_blocked": "bool",
    "created_at": "ts",
    "trade_suspended_by_user": "bool",
    "multiplier": "dec",
    "shorting_enabled": "bool",
    "equity": "dec",
    "last_equity": "dec",
    "long_market_value": "dec",
    "short_market_value": "dec",
    "initial_margin": "dec",
    "maintenance_margin": "dec",
    "last_maintenance_margin": "dec",
    "sma": "dec",
    "daytrade_count": "int",
}

POSITION = {
    "asset_id": "str",
    "symbol": "str",
    "exchange": "str",
    "asset_class": "str",
    "qty": "dec",
    "side": "str",
    "market_value": "dec",
    "cost_basis": "dec",
    "unrealized_pl": "dec",
    "unrealized_plpc": "dec",
    "unrealized_intraday_pl": "dec",
    "unrealized_intraday_plpc": "dec",
    "current_price": "dec",
    "lastday_price": "dec",
    "change_today": "dec",
}

CLOSE_POSITION = {
    "order_id": "str",
    "symbol": "str",
    "side": "str",
    "quantity": "dec",
    "order_type": "str",
    "status": "str",
    "created_at": "ts",
}

ORDER_PLACED = {
    "id": "str",
    "client_order_id": "str",
    "created_at": "ts",
    "updated_at": "ts",
    "submitted_at": "ts",
    "asset_id": "str",
    "symbol": "str",
    "asset_class": "str",
    "notional": "dec?",
    "qty": "dec",
    "filled_qty": "dec",
    "filled_avg_price": "dec?",
    "order_class": "str",
    "order_type": "str",
    "type": "str",
    "side": "str",
    "time_in_force": "str",
    "limit_price": "dec?",
    "stop_price": "dec?",
    "status": "str",
    "extended_hours": "bool",
}

ORDER = {
    **ORDER_PLACED,
    "filled_at": "ts?",
    "expired_at": "ts?",
    "canceled_at": "ts?",
    "failed_at": "ts?",
    "replaced_at": "ts?",
    "replaced_by": "str?",
    "replaces": "str?",
    "legs": "list?",
    "trail_percent": "dec?",
    "trail_price": "dec?",
    "hwm": "dec?",
}

CANCEL = {"id": "str", "status": "str", "canceled_at": "ts?"}

TRADE = {
    "id": "str",
    "order_id": "str",
    "symbol": "str",
    "asset_class": "str",
    "notional": "dec",
    "qty": "dec",
    "filled_qty": "dec",
    "filled_avg_price": "dec",
    "order_class": "str",
    "order_type": "str",
    "type": "str",
    "side": "str",
    "time_in_force": "str",
    "status": "str",
    "created_at": "ts",
    "filled_at": "ts",
}

CLOCK = {"timestamp": "ts", "is_open": "bool", "next_open": "ts", "next_close": "ts"}

CONFIG = {
    "base_url": "str",
    "data_url": "str",
    "api_key_configured": "bool",
    "secret_key_configured": "bool",
    "trading_mode": "str",
}

ERROR = {"error": "str", "message": "str", "code": "int"}


def _problem(kind: str, value: Any) -> str | None:
    if kind.endswith("?"):
        return None if value is None else _problem(kind[:-1], value)
    if kind == "bool":
        return None if isinstance(value, bool) else "a JSON boolean"
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "a JSON integer"
    if kind == "list":
        return None if isinstance(value, list) else "a JSON array"
    if not isinstance(value, str):
        return "a JSON string"
    if kind == "dec":
        try:
            Decimal(value)
        except InvalidOperation:
            return "a decimal string"
        return None if value.strip() else "a decimal string"
    if kind == "ts":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "an RFC 3339 timestamp"
    return None


def assert_shape(body: Any, shape: dict[str, str]) -> None:
    """Every field of the seed shape is present with its JSON type; extra fields are allowed."""
    assert isinstance(body, dict), f"expected a JSON object, got {body!r}"
    missing = sorted(set(shape) - set(body))
    assert not missing, f"missing fields {missing} in {body}"
    wrong = {
        name: f"{body[name]!r} is not {problem}"
        for name, kind in shape.items()
        if (problem := _problem(kind, body[name])) is not None
    }
    assert not wrong, f"wrong JSON types: {wrong}"


def assert_list_of(body: Any, shape: dict[str, str]) -> None:
    assert isinstance(body, list), f"expected a JSON array, got {body!r}"
    for item in body:
        assert_shape(item, shape)


def assert_error(body: Any, status: int, reason: str | None = None) -> None:
    """An error body in the seed's format with `code` equal to the HTTP status."""
    assert_shape(body, ERROR)
    assert body["code"] == status, body
    if reason is not None:
        assert body["error"] == reason, body
