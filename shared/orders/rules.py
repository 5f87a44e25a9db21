"""Alpaca's order rules (api-facts §5) as named checks; each failure names its rule, so it answers 422."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic_core import PydanticCustomError

from shared.errors import BadRequest, GatewayError, Unprocessable
from shared.identifiers import check_client_order_id_characters

if TYPE_CHECKING:
    from shared.orders.request import OrderRequest

CENT = Decimal("0.01")
MIN_NOTIONAL = Decimal("1")
MIN_TRAIL_PERCENT = Decimal("0.1")
CLIENT_ORDER_ID_MAX = 128
_OPTION_SYMBOL = re.compile(r"^[A-Z]{1,6}\d{6}[CP]\d{8}$")


def broken(rule: str, message: str) -> PydanticCustomError:
    """A rule violation: the HTTP layer answers 422 with `error` = the rule's name."""
    return PydanticCustomError(rule, message)


def rule_error(exc: PydanticCustomError, prefix: str = "") -> GatewayError:
    """A rule raised outside model validation, as validation would answer it: `invalid_*` is 400."""
    kind = BadRequest if exc.type.startswith("invalid_") else Unprocessable
    return kind(f"{prefix}{exc.message()}", reason=exc.type)


def asset_class_of(symbol: str) -> str | None:
    """What the symbol's shape alone tells: `BTC/USD` is crypto, an OCC symbol an option; any other
    symbol (`AAPL`, or `BTCUSD`) is known only from its asset (shared/alpaca/assets.py)."""
    if "/" in symbol:
        return "crypto"
    if _OPTION_SYMBOL.match(symbol):
        return "us_option"
    return None


def check_price(name: str, value: Decimal | None) -> None:
    """Positive, and on the tick grid: 2 decimals at or above $1, 4 below."""
    if value is None:
        return
    if value <= 0:
        raise broken("price_must_be_positive", f"{name} must be > 0")
    places = 2 if value >= 1 else 4
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise broken(
            "sub_penny_price",
            f"invalid {name} {value}: sub-penny increment does not fulfill minimum pricing criteria",
        )


def check_quantity(order: OrderRequest) -> None:
    if order.qty is None and order.notional is None:
        raise broken("qty_or_notional_required", "qty or notional is required")
    if order.qty is not None and order.notional is not None:
        raise broken("qty_and_notional", "only one of qty or notional is accepted")
    if order.qty is not None and order.qty <= 0:
        raise broken("qty_must_be_positive", "qty must be > 0")
    if order.notional is not None and order.notional < MIN_NOTIONAL:
        raise broken("notional_too_small", "notional must be >= 1.00")
    if order.is_fractional and order.asset_class == "us_equity":
        if order.time_in_force != "day":
            raise broken("fractional_day_only", "fractional and notional orders must be DAY orders")
        if order.order_class != "simple":
            raise broken("fractional_simple_only", "fractional and notional orders must be simple orders")


def check_prices(order: OrderRequest) -> None:
    kind = order.type.value
    check_price("limit_price", order.limit_price)
    check_price("stop_price", order.stop_price)
    needs_limit = kind in ("limit", "stop_limit") and order.order_class != "oco"
    if needs_limit and order.limit_price is None:
        raise broken("limit_price_required", f"limit_price is required for {kind} orders")
    if kind in ("stop", "stop_limit") and order.stop_price is None:
        raise broken("stop_price_required", f"stop_price is required for {kind} orders")
    if kind in ("market", "trailing_stop", "stop") and order.limit_price is not None:
        raise broken("limit_price_not_allowed", f"a {kind} order takes no limit_price")
    if kind in ("market", "limit", "trailing_stop") and order.stop_price is not None:
        raise broken("stop_price_not_allowed", f"a {kind} order takes no stop_price")


def check_trailing(order: OrderRequest) -> None:
    given = [v for v in (order.trail_price, order.trail_percent) if v is not None]
    if order.type != "trailing_stop":
        if given:
            raise broken("trail_not_allowed", "trail_price and trail_percent are for trailing_stop orders")
        return
    if len(given) != 1:
        raise broken("trail_price_xor_percent", "give exactly one of trail_price or trail_percent")
    if order.trail_price is not None and order.trail_price <= 0:
        raise broken("price_must_be_positive", "trail_price must be > 0")
    if order.trail_percent is not None and order.trail_percent < MIN_TRAIL_PERCENT:
        raise broken("trail_percent_too_small", "trail_percent must be greater than or equal to 0.1")
    if order.time_in_force not in ("day", "gtc"):
        raise broken("trailing_stop_time_in_force", "trailing_stop orders must be DAY or GTC")
    if order.order_class != "simple":
        raise broken("trailing_stop_simple_only", "trailing_stop orders must be simple orders")


def check_extended_hours(order: OrderRequest) -> None:
    if not order.extended_hours:
        return
    if order.type != "limit" or order.time_in_force != "day":
        raise broken("extended_hours_day_limit_only", "extended hours orders must be DAY limit orders")
    if order.order_class != "simple":
        raise broken("extended_hours_simple_only", "bracket, OCO and OTO orders do not trade extended hours")


def check_legs(order: OrderRequest) -> None:
    """bracket: both legs, DAY/GTC, legs on the right side of the entry; oco: limit, both; oto: one."""
    tp, sl, cls = order.take_profit, order.stop_loss, order.order_class.value
    if cls == "simple":
        if tp is not None or sl is not None:
            raise broken("legs_not_allowed", "take_profit and stop_loss need order_class bracket, oco or oto")
        return
    if cls in ("bracket", "oco"):
        if tp is None:
            raise broken("take_profit_required", f"{cls} orders require take_profit.limit_price")
        if sl is None:
            raise broken("stop_loss_required", f"{cls} orders require stop_loss.stop_price")
    if cls == "oto" and (tp is None) == (sl is None):
        raise broken("oto_one_leg", "oto orders take exactly one of take_profit or stop_loss")
    if cls == "oco" and order.type != "limit":
        raise broken("oco_limit_only", "oco orders must be limit orders")
    if cls == "bracket" and order.time_in_force not in ("day", "gtc"):
        raise broken("bracket_time_in_force", "bracket orders must be DAY or GTC")
    buy = order.side == "buy"
    # The legs of a bracket or OTO close the entry (a buy's legs sell); an OCO's legs are the order itself.
    legs_sell = buy if cls != "oco" else not buy
    inverted = (
        tp is not None
        and sl is not None
        and ((tp.limit_price <= sl.stop_price) if legs_sell else (tp.limit_price >= sl.stop_price))
    )
    if inverted:
        side = "above" if legs_sell else "below"
        raise broken("leg_prices_inverted", f"take_profit.limit_price must be {side} stop_loss.stop_price")
    base = order.limit_price if cls in ("bracket", "oto") else None
    if base is None:
        return
    if tp is not None and ((tp.limit_price < base + CENT) if buy else (tp.limit_price > base - CENT)):
        rel = ">= base_price + 0.01" if buy else "<= base_price - 0.01"
        raise broken("take_profit_too_close", f"take_profit.limit_price must be {rel} ({base})")
    if sl is not None and ((sl.stop_price > base - CENT) if buy else (sl.stop_price < base + CENT)):
        rel = "<= base_price - 0.01" if buy else ">= base_price + 0.01"
        raise broken("stop_loss_too_close", f"stop_loss.stop_price must be {rel} ({base})")


def check_asset_class(order: OrderRequest) -> None:
    """Crypto: market, limit or stop_limit, GTC or IOC, simple only. Options: market or limit, DAY."""
    asset = order.asset_class
    if asset == "crypto":
        if order.type not in ("market", "limit", "stop_limit"):
            raise broken("crypto_order_type", "crypto orders must be market, limit or stop_limit")
        if order.time_in_force not in ("gtc", "ioc"):
            raise broken("crypto_time_in_force", "crypto orders must be GTC or IOC")
        if order.order_class != "simple" or order.extended_hours:
            raise broken("crypto_simple_only", "crypto orders must be simple, without extended_hours")
    elif asset == "us_option" and (order.type not in ("market", "limit") or order.time_in_force != "day"):
        raise broken("option_order_type", "option orders must be DAY market or limit orders")


def check_position_intent(order: OrderRequest) -> None:
    intent = order.position_intent
    if intent is not None and not intent.value.startswith(order.side.value):
        raise broken("position_intent_side", f"position_intent {intent.value} does not match side")


def check_client_order_id(value: str) -> None:
    if not value.strip():
        raise broken("client_order_id_empty", "client_order_id must not be blank")
    if len(value) > CLIENT_ORDER_ID_MAX:
        raise broken("client_order_id_too_long", "client_order_id must be no more than 128 characters")
    check_client_order_id_characters(value)


RULES = (
    check_quantity,
    check_prices,
    check_trailing,
    check_extended_hours,
    check_legs,
    check_asset_class,
    check_position_intent,
)
