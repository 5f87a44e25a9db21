"""Static order validation: turns a POST /v2/orders body into a checked request or an Alpaca error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.assets import Asset, Universe
from sandbox.decimals import decimals_of, parse_decimal
from sandbox.errors import ApiError, invalid, unprocessable

TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIFS = ("day", "gtc", "opg", "cls", "ioc", "fok")
CLASSES = ("simple", "bracket", "oco", "oto", "")
CRYPTO_TYPES = ("market", "limit", "stop_limit")
MIN_GAP = Decimal("0.01")


@dataclass
class Leg:
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass
class OrderRequest:
    asset: Asset
    side: str
    type: str
    time_in_force: str
    order_class: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    trail_price: Decimal | None
    trail_percent: Decimal | None
    extended_hours: bool
    client_order_id: str | None
    take_profit: Leg | None
    stop_loss: Leg | None

    @property
    def fractional(self) -> bool:
        return self.notional is not None or (self.qty is not None and self.qty % 1 != 0)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def _price(body: dict[str, Any], key: str) -> Decimal | None:
    raw = body.get(key)
    if raw is None:
        return None
    value = parse_decimal(raw)
    if value is None:
        raise invalid(f"invalid {key}")
    return value


def check_tick(name: str, price: Decimal | None, asset: Asset) -> None:
    if price is None or asset.is_crypto:
        return
    if decimals_of(price) > (2 if price >= 1 else 4):
        raise unprocessable(
            f"invalid {name} {price.normalize():f}. "
            "sub-penny increment does not fulfill minimum pricing criteria"
        )


def _leg(body: dict[str, Any], key: str) -> Leg | None:
    raw = body.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid(f"invalid {key}")
    return Leg(_price(raw, "limit_price"), _price(raw, "stop_price"))


def parse_order(body: Any, universe: Universe) -> OrderRequest:
    """Checks everything that needs no account state, in the order Alpaca reports it."""
    if not isinstance(body, dict):
        raise ApiError(400, 40010000, "request body format is invalid")
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise invalid("symbol is required.")
    side, kind = body.get("side"), body.get("type", "market")
    tif, order_class = body.get("time_in_force"), body.get("order_class") or "simple"
    if side not in ("buy", "sell"):
        raise invalid("invalid side")
    if kind not in TYPES:
        raise invalid("invalid order type")
    if tif not in TIFS:
        raise invalid("invalid time_in_force")
    if order_class not in CLASSES:
        raise invalid("invalid order class")
    client_order_id = body.get("client_order_id")
    if client_order_id is not None and not isinstance(client_order_id, str):
        raise invalid("invalid client_order_id")
    if client_order_id is not None and len(client_order_id) > 128:
        raise invalid("client_order_id must be no more than 128 characters")
    qty, notional = _price(body, "qty"), _price(body, "notional")
    if qty is None and notional is None:
        raise invalid("qty or notional is required")
    if qty is not None and notional is not None:
        raise invalid("only one of qty or notional is accepted")
    if qty is not None and qty <= 0:
        raise invalid("qty must be > 0")
    if notional is not None and notional < 1:
        raise unprocessable("notional must be >= 1.00")
    asset = universe.find(symbol)
    if asset is None:
        raise unprocessable(f'asset "{symbol.upper()}" not found')
    if asset.status != "active" or not asset.tradable:
        raise unprocessable(f'asset "{asset.symbol}" is not tradable')
    request = OrderRequest(
        asset=asset,
        side=side,
        type=kind,
        time_in_force=tif,
        order_class=order_class,
        qty=qty,
        notional=notional,
        limit_price=_price(body, "limit_price"),
        stop_price=_price(body, "stop_price"),
        trail_price=_price(body, "trail_price"),
        trail_percent=_price(body, "trail_percent"),
        extended_hours=parse_bool(body.get("extended_hours", False)),
        client_order_id=client_order_id,
        take_profit=_leg(body, "take_profit"),
        stop_loss=_leg(body, "stop_loss"),
    )
    if order_class == "oco" and request.limit_price is None and request.take_profit is not None:
        request.limit_price = request.take_profit.limit_price
    _check_prices(request)
    _check_shape(request)
    return request


def _check_prices(r: OrderRequest) -> None:
    needs_limit = r.type in ("limit", "stop_limit")
    needs_stop = r.type in ("stop", "stop_limit")
    if r.type == "market" and (r.limit_price is not None or r.stop_price is not None):
        raise invalid("market orders require no stop or limit price")
    if needs_limit and r.limit_price is None:
        raise invalid(f"limit_price is required for {r.type} orders")
    if needs_stop and r.stop_price is None:
        raise invalid(f"stop_price is required for {r.type} orders")
    if not needs_limit and r.type != "market" and r.limit_price is not None:
        raise invalid(f"{r.type} orders require no limit price")
    if r.limit_price is not None and r.limit_price <= 0:
        raise invalid("limit price must be > 0")
    if r.stop_price is not None and r.stop_price <= 0:
        raise invalid("stop price must be > 0")
    check_tick("limit_price", r.limit_price, r.asset)
    check_tick("stop_price", r.stop_price, r.asset)
    if r.type == "trailing_stop":
        if (r.trail_price is None) == (r.trail_percent is None):
            raise invalid("exactly one of trail_price or trail_percent is required")
        if r.trail_price is not None and r.trail_price <= 0:
            raise invalid("trail_price must be > 0")
        if r.trail_percent is not None and r.trail_percent < Decimal("0.1"):
            raise invalid("trail_percent must be greater than or equal to 0.1")
        if r.time_in_force not in ("day", "gtc"):
            raise unprocessable("trailing stop orders must be DAY or GTC orders")
        if r.order_class != "simple":
            raise unprocessable("trailing stop orders must be simple orders")
    elif r.trail_price is not None or r.trail_percent is not None:
        raise invalid("trail_price and trail_percent are only for trailing_stop orders")


def _check_shape(r: OrderRequest) -> None:
    if r.asset.is_crypto:
        _check_crypto(r)
        return
    if r.fractional:
        if not r.asset.fractionable:
            raise unprocessable(f'asset "{r.asset.symbol}" is not fractionable')
        if r.time_in_force != "day":
            raise unprocessable("fractional orders must be DAY orders")
        if r.order_class != "simple":
            raise unprocessable("fractional orders must be simple orders")
        if r.type == "trailing_stop":
            raise unprocessable("fractional orders must be market, limit, stop or stop_limit orders")
    if r.extended_hours and (r.type != "limit" or r.time_in_force != "day" or r.order_class != "simple"):
        raise unprocessable("extended hours order must be DAY limit orders")
    if r.order_class != "simple":
        _check_legs(r)


def _check_crypto(r: OrderRequest) -> None:
    if r.type not in CRYPTO_TYPES:
        raise unprocessable(f"invalid order type for crypto order: {r.type}")
    allowed = ("gtc", "ioc", "day") if r.type == "limit" else ("gtc", "ioc")
    if r.time_in_force not in allowed:
        raise unprocessable(f"invalid time_in_force for crypto order: {r.time_in_force}")
    if r.order_class != "simple":
        raise unprocessable("crypto orders must be simple orders")
    if r.qty is not None and r.asset.min_order_size is not None and r.qty < r.asset.min_order_size:
        raise unprocessable(f"qty must be >= {r.asset.min_order_size}")


def _check_legs(r: OrderRequest) -> None:
    if r.time_in_force not in ("day", "gtc"):
        raise unprocessable(f"{r.order_class} orders must be DAY or GTC orders")
    tp, sl = r.take_profit, r.stop_loss
    if r.order_class == "bracket":
        if tp is None or tp.limit_price is None:
            raise invalid("bracket orders require take_profit.limit_price")
        if sl is None or sl.stop_price is None:
            raise invalid("bracket orders require stop_loss.stop_price")
    elif r.order_class == "oco":
        if r.type != "limit":
            raise unprocessable("oco orders must be limit orders")
        if tp is None or tp.limit_price is None or sl is None or sl.stop_price is None:
            raise invalid("oco orders require take_profit.limit_price and stop_loss.stop_price")
    else:
        if (tp is None) == (sl is None):
            raise invalid("oto orders require exactly one of take_profit or stop_loss")
        if tp is not None and tp.limit_price is None:
            raise invalid("oto orders require take_profit.limit_price")
        if sl is not None and sl.stop_price is None:
            raise invalid("oto orders require stop_loss.stop_price")
    for leg, name in ((tp, "take_profit"), (sl, "stop_loss")):
        if leg is not None:
            for field_name, value in (("limit_price", leg.limit_price), ("stop_price", leg.stop_price)):
                if value is not None and value <= 0:
                    raise invalid(f"{name}.{field_name} must be > 0")
                check_tick(f"{name}.{field_name}", value, r.asset)


def check_base_price(r: OrderRequest, base: Decimal) -> None:
    """Exit legs must sit at least a cent beyond the base price, on the profitable/protective side."""
    exit_buy = r.side == "sell" if r.order_class != "oco" else r.side == "buy"
    tp, sl = r.take_profit, r.stop_loss
    shown = f"{base.normalize():f}"
    if r.order_class != "oco" and tp is not None and tp.limit_price is not None:
        if not exit_buy and tp.limit_price < base + MIN_GAP:
            raise unprocessable("take_profit.limit_price must be >= base_price + 0.01", base_price=shown)
        if exit_buy and tp.limit_price > base - MIN_GAP:
            raise unprocessable("take_profit.limit_price must be <= base_price - 0.01", base_price=shown)
    if sl is not None and sl.stop_price is not None:
        if not exit_buy and sl.stop_price > base - MIN_GAP:
            raise unprocessable("stop_loss.stop_price must be <= base_price - 0.01", base_price=shown)
        if exit_buy and sl.stop_price < base + MIN_GAP:
            raise unprocessable("stop_loss.stop_price must be >= base_price + 0.01", base_price=shown)
