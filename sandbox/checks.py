"""Account-level order rules: shorting, available quantity, opposite-side, wash trades, buying power."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sandbox.book import OrderBook
from sandbox.decimals import dec_str
from sandbox.errors import ApiError, forbidden, unprocessable
from sandbox.market import Quote
from sandbox.orders import Order
from sandbox.portfolio import Account
from sandbox.rules import OrderRequest

COLLAR = Decimal("1.03")
EXEMPT_CLASSES = ("bracket", "oco")
UNPRICED = ("market", "stop")  # order types that may trade at any price, so they cross any opposite order


def estimated_qty(request: OrderRequest, quote: Quote) -> Decimal:
    if request.qty is not None:
        return request.qty
    assert request.notional is not None
    price = quote.ask if request.side == "buy" else quote.bid
    return (request.notional / price).quantize(Decimal("0.000000001"))


def _insufficient_qty(symbol: str, requested: Decimal, existing: Decimal, held: Decimal) -> ApiError:
    available = max(Decimal(0), existing - held)
    return forbidden(
        f"insufficient qty available for order (requested: {dec_str(requested)}, "
        f"available: {dec_str(available)})",
        available=dec_str(available),
        existing_qty=dec_str(existing),
        held_for_orders=dec_str(held),
        related_orders=[],
        symbol=symbol,
    )


def check_position_rules(
    book: OrderBook,
    account: Account,
    request: OrderRequest,
    qty: Decimal,
    equity: Decimal,
    exclude: str | None = None,
) -> None:
    """Selling what is not free, shorting where not allowed, flipping sides, or racing an open order."""
    asset = request.asset
    position = account.position_qty(asset)
    key = account.spec.key
    if (request.side == "sell" and position > 0) or (asset.is_crypto and request.side == "sell"):
        held = book.held_for_sells(key, asset.symbol, "sell", exclude)
        if qty > position - held:
            if asset.is_crypto:
                available = max(Decimal(0), position - held)
                raise forbidden(
                    f"insufficient balance for {asset.symbol.split('/')[0]} "
                    f"(requested: {dec_str(qty)}, available: {dec_str(available)})",
                    balance=dec_str(position),
                    symbol=asset.position_symbol,
                )
            raise _insufficient_qty(asset.symbol, qty, position, held)
        return
    if request.side == "buy" and position < 0:
        held = book.held_for_sells(key, asset.symbol, "buy", exclude)
        if qty > -position - held:
            raise _insufficient_qty(asset.symbol, qty, -position, held)
        return
    opposite = "buy" if request.side == "sell" else "sell"
    if request.side == "sell":
        if request.fractional:
            raise unprocessable("fractional orders cannot be sold short")
        config = account.configuration
        if not account.spec.shorting_enabled or config.get("no_shorting") or equity < 2000:
            raise forbidden("account is not allowed to short")
        if not (asset.shortable and asset.easy_to_borrow):
            raise forbidden(f'asset "{asset.symbol}" cannot be sold short')
    if position == 0 and _open_on_side(book, key, asset.symbol, opposite, exclude):
        if request.side == "sell":
            raise forbidden("cannot open a short sell while a long buy order is open")
        raise forbidden("cannot open a long buy while a short sell order is open")


def _open_on_side(book: OrderBook, key: str, symbol: str, side: str, exclude: str | None) -> bool:
    return any(
        o.symbol == symbol and o.side == side and o.status != "held" and exclude not in (o.id, o.root_id)
        for o in book.open_for(key, symbol)
    )


def check_wash_trade(book: OrderBook, key: str, request: OrderRequest, exclude: str | None = None) -> None:
    """A new order that could trade against one of the account's own open orders is refused."""
    if request.order_class in EXEMPT_CLASSES or request.type == "trailing_stop":
        return
    for existing in book.open_for(key, request.asset.symbol):
        if (
            existing.symbol != request.asset.symbol
            or existing.side == request.side
            or exclude in (existing.id, existing.root_id)
        ):
            continue
        if existing.status == "held" or existing.type == "trailing_stop":
            continue
        if existing.order_class in EXEMPT_CLASSES:
            continue
        if _crosses(request, existing):
            raise forbidden(
                "potential wash trade detected. use complex orders",
                existing_order_id=existing.id,
                reject_reason=wash_trade_reason(existing.type, request.type),
            )


def wash_trade_reason(existing: str, new: str) -> str:
    """Alpaca's `reject_reason`: it names the resting order's kind, and tells a market or stop order
    meeting a resting limit which order types would pass."""
    if existing in UNPRICED:
        return "opposite side market/stop order exists"
    if new in UNPRICED:
        return "opposite side limit order exists. use complex/limit/stop_limit orders"
    return "opposite side limit order exists"


def _crosses(request: OrderRequest, existing: Order) -> bool:
    if request.type in UNPRICED or existing.type in UNPRICED:
        return True
    new_limit, old_limit = request.limit_price, existing.limit_price
    if new_limit is None or old_limit is None:
        return True
    buy_limit, sell_limit = (new_limit, old_limit) if request.side == "buy" else (old_limit, new_limit)
    return buy_limit >= sell_limit


def order_cost(request: OrderRequest, qty: Decimal, quote: Quote) -> Decimal:
    """What an opening order would cost against buying power, collars included."""
    if request.side == "sell":
        return max(request.limit_price or Decimal(0), quote.ask * COLLAR) * qty
    if request.notional is not None:
        return request.notional
    return unit_cost(request.type, request.limit_price, request.stop_price, quote) * qty


def unit_cost(kind: str, limit: Decimal | None, stop: Decimal | None, quote: Quote) -> Decimal:
    if kind in ("limit", "stop_limit") and limit is not None:
        return limit
    if kind == "stop" and stop is not None:
        # A buy stop runs as a stop-limit 4% (under $50) or 2.5% above its stop.
        return stop * (Decimal("1.04") if stop < 50 else Decimal("1.025"))
    return quote.ask * COLLAR


def reserved_by(order: Order, position: Decimal, quote: Callable[[], Quote]) -> Decimal:
    """Buying power an open order holds: opening buys and opening short sells only."""
    if order.status == "held":
        return Decimal(0)
    if order.side == "buy":
        if position < 0:
            return Decimal(0)
        if order.notional is not None:
            return order.notional
        assert order.qty is not None
        remaining = order.qty - order.filled_qty
        if order.type in ("limit", "stop_limit") and order.limit_price is not None:
            return order.limit_price * remaining
        return unit_cost(order.type, order.limit_price, order.stop_price, quote()) * remaining
    if position > 0 or order.qty is None:
        return Decimal(0)
    return max(order.limit_price or Decimal(0), quote().ask * COLLAR) * (order.qty - order.filled_qty)


def check_buying_power(buying_power: Decimal, cost: Decimal) -> None:
    if cost > buying_power:
        raise forbidden(
            "insufficient buying power",
            buying_power=dec_str(buying_power),
            cost_basis=dec_str(cost.quantize(Decimal("0.01"))),
        )
