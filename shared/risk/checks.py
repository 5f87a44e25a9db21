"""Pre-trade checks of one order against the live risk settings; a denial is a 403 with a stable reason."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Protocol

from shared.alpaca.client import AlpacaClient
from shared.deadline import Deadline
from shared.errors import Forbidden, NotFound, Unavailable
from shared.limits.protocol import Priority, prepaid
from shared.orders.request import OrderRequest, OrderType
from shared.risk.settings import RiskSettings, TradingState


class Market(Protocol):
    """What the checks may ask the broker: the signed position size and a price to value an order at."""

    def position_qty(self, symbol: str, deadline: Deadline | None = None) -> Decimal: ...

    def price(
        self, symbol: str, side: str, deadline: Deadline | None = None, crypto: bool = False
    ) -> Decimal:
        """`symbol` in the data API's form (`BTC/USD` for crypto)."""
        ...


class Denied(Forbidden):
    """A risk denial; `reason` is one of the stable names in the README."""


def _deny(reason: str, message: str, **extra: Any) -> Denied:
    return Denied(message, reason=reason, **extra)


class RiskChecks:
    def __init__(self, market: Market) -> None:
        self._market = market

    def check_order(
        self, order: OrderRequest, settings: RiskSettings, now: float, deadline: Deadline | None = None
    ) -> None:
        """Raise Denied if the order breaks a setting; reads the broker only for the limits that are set."""
        if settings.trading_state == TradingState.HALTED:
            raise _deny("trading_halted", "trading is halted: only cancels are accepted")
        symbol = order.symbol
        if symbol in settings.symbol_denylist:
            raise _deny("symbol_denied", f"{symbol} is on the denylist", symbol=symbol)
        if settings.symbol_allowlist and symbol not in settings.symbol_allowlist:
            raise _deny("symbol_not_allowed", f"{symbol} is not on the allowlist", symbol=symbol)
        asset_class = order.asset_class or "us_equity"
        if settings.allowed_asset_classes and asset_class not in settings.allowed_asset_classes:
            raise _deny("asset_class_not_allowed", f"{asset_class} orders are not allowed")

        outside = settings.trading_window is not None and not settings.trading_window.contains(now)
        reducing = settings.trading_state == TradingState.REDUCING
        valued = settings.max_order_notional is not None or settings.max_position_notional is not None
        position = Decimal(0)
        price: Decimal | None = None
        needs_position = reducing or outside or settings.max_position_notional is not None
        both = getattr(self._market, "position_and_price", None)
        if needs_position and valued and _quoted(order) and both is not None:
            # Both upstream reads are needed: one acquisition, sent side by side.
            crypto = order.asset_class == "crypto"
            position, price = both(symbol, order.asset_symbol, order.side.value, deadline, crypto)
        elif needs_position:
            position = self._market.position_qty(symbol, deadline)
        needs_price = valued or (order.notional is not None and position)
        if needs_price and price is None:
            price = self._price(order, symbol, deadline)
        qty = order.qty if order.qty is not None else _qty_of(order.notional, price)
        reduces = _reduces(order.side.value, qty, position)

        if reducing and not reduces:
            raise _deny("reducing_only", "trading is reducing-only: orders must shrink a position")
        if outside and not reduces:
            raise _deny("outside_trading_window", "outside the trading window only exits are accepted")
        notional = order.notional if order.notional is not None else _times(qty, price)
        limit = settings.max_order_notional
        if limit is not None and notional is not None and notional > limit:
            raise _deny(
                "max_order_notional",
                f"order notional {notional:.2f} exceeds the maximum {limit}",
                notional=str(round(notional, 2)),
                limit=str(limit),
            )
        cap = settings.max_position_notional
        if cap is not None and not reduces and qty is not None and price is not None:
            after = abs(position + (qty if order.side == "buy" else -qty)) * price
            if after > cap:
                raise _deny(
                    "max_position_notional",
                    f"the {symbol} position would be worth {after:.2f}, above the maximum {cap}",
                    position_notional=str(round(after, 2)),
                    limit=str(cap),
                )

    def check_close(self, settings: RiskSettings) -> None:
        """Closing a position is an exit: allowed in every state but halted."""
        if settings.trading_state == TradingState.HALTED:
            raise _deny("trading_halted", "trading is halted: only cancels are accepted")

    def _price(self, order: OrderRequest, symbol: str, deadline: Deadline | None) -> Decimal:
        """Limit orders at their limit, stops at their stop, the rest at the far side of the quote."""
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None:
            return order.limit_price
        if order.type == OrderType.STOP and order.stop_price is not None:
            return order.stop_price
        crypto = order.asset_class == "crypto"
        return self._market.price(order.asset_symbol, order.side.value, deadline, crypto)


def _quoted(order: OrderRequest) -> bool:
    """Whether valuing the order needs the quote (limit and stop orders are valued at their price)."""
    priced = order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None
    return not priced and not (order.type == OrderType.STOP and order.stop_price is not None)


def _qty_of(notional: Decimal | None, price: Decimal | None) -> Decimal | None:
    if notional is None or not price:
        return None
    return notional / price


def _times(qty: Decimal | None, price: Decimal | None) -> Decimal | None:
    return None if qty is None or price is None else qty * price


def _reduces(side: str, qty: Decimal | None, position: Decimal) -> bool:
    """A sell no larger than a long position, or a buy no larger than a short one."""
    if qty is None or qty <= 0:
        return False
    if side == "sell":
        return position > 0 and qty <= position
    return position < 0 and qty <= -position


class AlpacaMarket:
    """The Market over the Alpaca client, at trade priority (these reads gate an order)."""

    def __init__(self, alpaca: AlpacaClient) -> None:
        self._alpaca = alpaca
        self._priority = Priority.TRADE
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="risk-read")

    def position_and_price(
        self, symbol: str, quote_symbol: str, side: str, deadline: Deadline | None, crypto: bool
    ) -> tuple[Decimal, Decimal]:
        """The position and the quote read in parallel, on two units of one limiter acquisition."""
        permit = self._alpaca.permit(2, self._priority)
        try:
            with prepaid(permit):
                position = self._pool.submit(
                    contextvars.copy_context().run, self.position_qty, symbol, deadline
                )
                price = self._pool.submit(
                    contextvars.copy_context().run, self.price, quote_symbol, side, deadline, crypto
                )
                return position.result(), price.result()
        finally:
            permit.release()

    def position_qty(self, symbol: str, deadline: Deadline | None = None) -> Decimal:
        try:
            raw = self._alpaca.position(symbol, priority=self._priority, deadline=deadline)
        except NotFound:
            return Decimal(0)
        qty = abs(Decimal(str(raw.get("qty") or "0")))
        return -qty if raw.get("side") == "short" else qty

    def price(
        self, symbol: str, side: str, deadline: Deadline | None = None, crypto: bool = False
    ) -> Decimal:
        read = self._alpaca.latest_crypto_quote if crypto else self._alpaca.latest_quote
        try:
            quote = read(symbol, priority=self._priority, deadline=deadline)
        except NotFound as exc:
            raise Unavailable("no quote to value the order", reason="price_unavailable") from exc
        far, near = ("ap", "bp") if side == "buy" else ("bp", "ap")
        for name in (far, near):
            value = Decimal(str(quote.get(name) or 0))
            if value > 0:
                return value
        raise Unavailable("no quote to value the order", reason="price_unavailable", retry_after=1)
