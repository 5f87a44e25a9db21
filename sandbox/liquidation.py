"""Closing positions: one by qty or percentage, or all of them, as market orders."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN
from typing import Any

from sandbox.broker import Broker
from sandbox.decimals import parse_decimal
from sandbox.errors import ApiError, invalid, not_found
from sandbox.orders import Order
from sandbox.portfolio import Account


def close_position(
    broker: Broker, account: Account, symbol: str, args: dict[str, str], moment: datetime
) -> Order:
    """DELETE /v2/positions/{symbol}: a market order for all of it, or for `qty` or `percentage`."""
    asset = broker.universe.find(symbol)
    position = account.positions.get(asset.symbol) if asset else None
    if asset is None or position is None:
        raise not_found("position does not exist")
    qty_arg, pct_arg = args.get("qty"), args.get("percentage")
    if qty_arg is not None and pct_arg is not None:
        raise invalid("only one of qty or percentage is accepted")
    held = abs(position.qty)
    qty = held
    if qty_arg is not None:
        parsed = parse_decimal(qty_arg)
        if parsed is None or parsed <= 0:
            raise invalid("qty must be > 0")
        qty = parsed
    elif pct_arg is not None:
        pct = parse_decimal(pct_arg)
        if pct is None or not 0 < pct <= 100:
            raise invalid("percentage must be between 0 and 100")
        qty = held * pct / 100
        if held % 1 == 0 and not asset.is_crypto:
            qty = qty.to_integral_value(rounding=ROUND_DOWN)  # whole-share positions sell whole shares
        if qty <= 0:
            raise invalid("qty must be > 0")
    body = {
        "symbol": asset.symbol,
        "qty": str(qty),
        "side": "sell" if position.qty > 0 else "buy",
        "type": "market",
        "time_in_force": "gtc" if asset.is_crypto else "day",
    }
    return broker.submit(account, body, moment)


def close_all(
    broker: Broker, account: Account, cancel_orders: bool, moment: datetime
) -> list[dict[str, Any]]:
    """DELETE /v2/positions: every position closed, one 207 item each."""
    if cancel_orders:
        broker.cancel_all(account, moment)
    result: list[dict[str, Any]] = []
    for position in sorted(account.positions.values(), key=lambda p: p.asset.symbol):
        symbol = position.asset.position_symbol
        try:
            order = close_position(broker, account, position.asset.symbol, {}, moment)
            result.append({"symbol": symbol, "status": 200, "body": order.to_json()})
        except ApiError as error:
            result.append({"symbol": symbol, "status": error.status, "body": error.body()})
    return result
