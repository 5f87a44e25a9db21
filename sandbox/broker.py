"""Trading operations on the engine's state: submit, replace, cancel."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sandbox import calendar, checks
from sandbox.decimals import parse_decimal
from sandbox.engine import Engine
from sandbox.errors import ApiError, forbidden, invalid, not_found, unprocessable
from sandbox.market import Quote
from sandbox.orders import Order
from sandbox.portfolio import Account
from sandbox.rules import OrderRequest, check_base_price, check_tick, parse_order

REPLACEABLE = ("new", "accepted", "held", "partially_filled")


class Broker(Engine):
    """The API surface: every method expects the caller to hold `lock` and to have synced time."""

    def reserved(self, account: Account, moment: datetime, exclude: str | None = None) -> Decimal:
        total = Decimal(0)
        quotes: dict[str, Quote] = {}
        for order in self.book.open.get(account.spec.key, {}).values():
            if exclude in (order.id, order.root_id) or order.asset.is_crypto or order.status == "held":
                continue
            position = account.position_qty(order.asset)
            asset = order.asset
            total += checks.reserved_by(order, position, partial(self.quote, asset, moment, quotes))
        return total

    def buying_power(self, account: Account, moment: datetime, exclude: str | None = None) -> Decimal:
        return account.buying_power(
            lambda a: self.market.price(a, moment), self.reserved(account, moment, exclude)
        )

    def _initial_status(self, order: Order, moment: datetime) -> str:
        session = calendar.session_at(moment)
        return "new" if self._tradable(order, session) else "accepted"

    def _expiry(self, tif: str, extended: bool, moment: datetime) -> datetime | None:
        if tif in ("day", "opg", "cls"):
            return calendar.day_order_expiry(moment, extended)
        if tif == "gtc":
            return self.gtc_expiry(moment)
        return None

    def submit(self, account: Account, body: Any, moment: datetime) -> Order:
        request = parse_order(body, self.universe)
        quote = self.market.quote(request.asset, moment)
        if request.order_class in ("bracket", "oto"):
            entry_limit = request.limit_price if request.type in ("limit", "stop_limit") else None
            check_base_price(request, entry_limit or quote.last)
        elif request.order_class == "oco":
            assert request.take_profit is not None and request.take_profit.limit_price is not None
            check_base_price(request, request.take_profit.limit_price)
        key = account.spec.key
        client_id = request.client_order_id or str(uuid.uuid4())
        if self.book.by_client_id(key, client_id) is not None:
            raise invalid("client_order_id must be unique")
        self._check_account(account, request, quote, moment)
        return self._create(account, request, client_id, quote, moment)

    def _check_account(
        self,
        account: Account,
        request: OrderRequest,
        quote: Quote,
        moment: datetime,
        exclude: str | None = None,
    ) -> None:
        if account.configuration.get("suspend_trade"):
            raise forbidden("new orders are rejected by user request")
        if request.fractional and not account.configuration.get("fractional_trading", True):
            raise unprocessable("fractional trading is not enabled for this account")
        price_of = lambda a: self.market.price(a, moment)  # noqa: E731
        equity = account.equity(price_of)
        qty = checks.estimated_qty(request, quote)
        checks.check_position_rules(self.book, account, request, qty, equity, exclude)
        checks.check_wash_trade(self.book, account.spec.key, request, exclude)
        position = account.position_qty(request.asset)
        opening = (request.side == "buy" and position >= 0) or (request.side == "sell" and position <= 0)
        if not opening:
            return
        cost = checks.order_cost(request, qty, quote)
        if request.asset.is_crypto or not request.asset.marginable:
            reserved = self.reserved(account, moment, exclude) + self._crypto_reserved(account, exclude)
            checks.check_buying_power(account.non_marginable_buying_power(reserved), cost)
        else:
            checks.check_buying_power(self.buying_power(account, moment, exclude), cost)

    def _crypto_reserved(self, account: Account, exclude: str | None) -> Decimal:
        total = Decimal(0)
        for order in self.book.open.get(account.spec.key, {}).values():
            if order.asset.is_crypto and order.side == "buy" and order.id != exclude:
                if order.notional is not None:
                    total += order.notional
                elif order.qty is not None:
                    price = order.limit_price or self.market.price(order.asset, self.processed_at)
                    total += price * (order.qty - order.filled_qty)
        return total

    def _new_order(self, account: Account, request: OrderRequest, client_id: str, moment: datetime) -> Order:
        position = account.position_qty(request.asset)
        if request.side == "buy":
            intent = "buy_to_close" if position < 0 else "buy_to_open"
        else:
            intent = "sell_to_close" if position > 0 else "sell_to_open"
        return Order(
            id=str(uuid.uuid4()),
            seq=self.book.next_seq(),
            account_key=account.spec.key,
            client_order_id=client_id,
            asset=request.asset,
            symbol=request.asset.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            order_class=request.order_class,
            qty=request.qty,
            notional=request.notional,
            created_at=moment,
            updated_at=moment,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            trail_price=request.trail_price,
            trail_percent=request.trail_percent,
            extended_hours=request.extended_hours,
            position_intent=intent,
            expires_at=self._expiry(request.time_in_force, request.extended_hours, moment),
        )

    def _create(
        self, account: Account, request: OrderRequest, client_id: str, quote: Quote, moment: datetime
    ) -> Order:
        order = self._new_order(account, request, client_id, moment)
        order.status = self._initial_status(order, moment)
        if order.type == "trailing_stop":
            self._trail(order, quote.last)
        self.book.add(order)
        exit_side = "sell" if request.side == "buy" else "buy"
        legs: list[tuple[str, Decimal | None, Decimal | None]] = []
        tp, sl = request.take_profit, request.stop_loss
        if request.order_class in ("bracket", "oto") and tp is not None:
            legs.append(("limit", tp.limit_price, None))
        if request.order_class in ("bracket", "oto", "oco") and sl is not None:
            legs.append(
                ("stop_limit" if sl.limit_price is not None else "stop", sl.limit_price, sl.stop_price)
            )
        for kind, limit, stop in legs:
            leg = self._new_order(account, request, str(uuid.uuid4()), moment)
            leg.side = request.side if request.order_class == "oco" else exit_side
            leg.position_intent = ("buy" if leg.side == "buy" else "sell") + "_to_close"
            leg.type, leg.limit_price, leg.stop_price, leg.notional = kind, limit, stop, None
            leg.parent_id = order.id
            leg.status = order.status if request.order_class == "oco" else "held"
            order.leg_ids.append(leg.id)
            self.book.add(leg)
        for created in [order, *self.book.legs(order)]:
            if created.status != "held":  # held legs announce themselves when they go live
                self.emit(created.status, created, moment)
        self.evaluate(order, moment, calendar.session_at(moment), {})
        return order

    def cancel(self, account: Account, order_id: str, moment: datetime) -> None:
        order = self.book.get(account.spec.key, order_id)
        if order is None:
            raise not_found("order not found")
        if not order.is_open:
            raise unprocessable(f'order is already in "{order.status}" state')
        self.cancel_group(order, moment)

    def cancel_all(self, account: Account, moment: datetime) -> list[dict[str, Any]]:
        result = []
        for order in self.book.open_orders(account.spec.key):
            if order.is_open:
                self.cancel_group(order, moment)
            result.append({"id": order.id, "status": 200})
        return result

    def replace(self, account: Account, order_id: str, body: Any, moment: datetime) -> Order:
        if not isinstance(body, dict):
            raise ApiError(400, 40010000, "request body format is invalid")
        old = self.book.get(account.spec.key, order_id)
        if old is None:
            raise not_found("order not found")
        if old.status not in REPLACEABLE:
            raise unprocessable("unable to replace order, order is not open")
        if old.notional is not None:
            raise unprocessable("cannot replace a notional order")
        qty = parse_decimal(body["qty"]) if body.get("qty") is not None else old.qty
        if qty is None or qty <= 0:
            raise invalid("qty must be > 0")
        if qty % 1 != 0 or (old.qty is not None and old.qty % 1 != 0 and qty != old.qty):
            raise invalid("qty must be integer")
        tif = body.get("time_in_force") or old.time_in_force
        if tif not in ("day", "gtc", "opg", "cls", "ioc", "fok"):
            raise invalid("invalid time_in_force")
        limit = self._replace_price(body, "limit_price", old.limit_price, old)
        stop = self._replace_price(body, "stop_price", old.stop_price, old)
        if limit is not None and old.type not in ("limit", "stop_limit"):
            raise invalid(f"{old.type} orders require no limit price")
        trail = parse_decimal(body.get("trail")) if body.get("trail") is not None else None
        client_id = body.get("client_order_id") or str(uuid.uuid4())
        if not isinstance(client_id, str) or len(client_id) > 128:
            raise invalid("client_order_id must be no more than 128 characters")
        if self.book.by_client_id(account.spec.key, client_id) is not None:
            raise invalid("client_order_id must be unique")
        new = self._new_order(account, self._as_request(old, qty, tif, limit, stop), client_id, moment)
        new.position_intent, new.order_class, new.parent_id = (
            old.position_intent,
            old.order_class,
            old.parent_id,
        )
        new.trail_price, new.trail_percent = old.trail_price, old.trail_percent
        if trail is not None:
            new.trail_price, new.trail_percent = (
                (trail, None) if old.trail_price is not None else (None, trail)
            )
        if old.status != "held":
            self._check_account(
                account,
                self._as_request(old, qty, tif, limit, stop),
                self._quote_of(old, moment),
                moment,
                old.root_id,
            )
        new.replaces, new.leg_ids = old.id, list(old.leg_ids)
        new.status = "held" if old.status == "held" else self._initial_status(new, moment)
        old.status, old.replaced_at, old.replaced_by = "replaced", moment, new.id
        old.touch(moment)
        self.book.refresh(old)
        self.book.add(new)
        for leg in self.book.legs(new):
            leg.parent_id = new.id
        if new.parent_id is not None:
            parent = self.book.by_id[new.parent_id]
            parent.leg_ids = [new.id if i == old.id else i for i in parent.leg_ids]
        if new.type == "trailing_stop":
            new.hwm = old.hwm
            self._trail(new, self.market.price(new.asset, moment))
        self.emit("replaced", old, moment)
        if new.status != "held":
            self.emit(new.status, new, moment)
        self.evaluate(new, moment, calendar.session_at(moment), {})
        return new

    def _quote_of(self, order: Order, moment: datetime) -> Quote:
        return self.market.quote(order.asset, moment)

    @staticmethod
    def _replace_price(
        body: dict[str, Any], key: str, current: Decimal | None, order: Order
    ) -> Decimal | None:
        if body.get(key) is None:
            return current
        value = parse_decimal(body[key])
        if value is None or value <= 0:
            raise invalid(f"{key.replace('_', ' ')} must be > 0")
        check_tick(key, value, order.asset)
        return value

    @staticmethod
    def _as_request(
        old: Order, qty: Decimal, tif: str, limit: Decimal | None, stop: Decimal | None
    ) -> OrderRequest:
        return OrderRequest(
            old.asset, old.side, old.type, tif, "simple" if old.parent_id else old.order_class, qty, None,
            limit, stop, old.trail_price, old.trail_percent, old.extended_hours, None, None, None,
        )  # fmt: skip
