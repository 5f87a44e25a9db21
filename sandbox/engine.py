"""Execution: moves sandbox time forward event by event, triggering, filling and expiring orders."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox import calendar
from sandbox.assets import Asset, Universe
from sandbox.book import OrderBook
from sandbox.calendar import Session
from sandbox.market import Market, Quote, minute_of, minute_start
from sandbox.orders import Order
from sandbox.portfolio import Account, Activity

MAX_STEPS = 20000


@dataclass(frozen=True)
class Execution:
    """One fill: its own price and qty, and the account's signed position in the symbol after it."""

    price: Decimal
    qty: Decimal
    position_qty: Decimal


# Told each order event ("new", "fill", "canceled", ...) while the caller holds the lock.
Listener = Callable[[str, Order, datetime, Execution | None], None]


class Engine:
    """Broker state (accounts, orders, prices) plus the time-driven order lifecycle."""

    def __init__(self, universe: Universe, market: Market, start: datetime) -> None:
        self.lock = threading.RLock()
        self.universe = universe
        self.market = market
        self.book = OrderBook()
        self.accounts: dict[str, Account] = {}
        self.processed_at = start
        self._due: datetime | None = None  # the next event time, valid while the book is unchanged
        self._due_version = -1
        self.listeners: list[Listener] = []
        # Per-symbol liquidity: at most this qty of one order fills per minute (`*` for every symbol);
        # empty means unlimited, as Alpaca's paper fills (the tests of the order's story turn it on).
        self.liquidity: dict[str, Decimal] = {}

    # -- time ---------------------------------------------------------------------------------------

    def sync(self, until: datetime) -> None:
        """Processes every event time in (processed_at, until]; moving backwards just re-anchors."""
        start = self.processed_at
        if until <= start:
            self.processed_at = until
            self._due = None
            return
        if self._due is not None and self._due_version == self.book.version and until < self._due:
            self.processed_at = until  # nothing can happen before the cached next event
            return
        span = int((until - start).total_seconds() // 60)
        granularity = max(1, span // MAX_STEPS)  # long jumps sample prices more coarsely
        moment = start
        while True:
            upcoming = self._next_event(moment, granularity)
            if upcoming > until:
                break
            self.evaluate_all(upcoming)
            moment = upcoming
        self.processed_at = until
        self._due = upcoming if granularity == 1 else None
        self._due_version = self.book.version

    def invalidate(self) -> None:
        """Orders or prices changed: the cached next event time may be wrong."""
        self._due = None

    def _next_event(self, moment: datetime, granularity: int) -> datetime:
        index = self.book.index()
        candidates = [calendar.next_boundary(moment)]
        if index.min_expiry is not None and index.min_expiry > moment:
            candidates.append(index.min_expiry)
        session = calendar.session_at(moment)
        needs_minutes = index.crypto or (
            index.equity
            and (session is Session.REGULAR or (index.extended and session in (Session.PRE, Session.POST)))
        )
        if needs_minutes:
            candidates.append(minute_start((minute_of(moment) // granularity + 1) * granularity))
        return min(candidates)

    @staticmethod
    def _tradable(order: Order, session: Session) -> bool:
        if order.asset.is_crypto or session is Session.REGULAR:
            return True
        return order.extended_hours and session in (Session.PRE, Session.POST)

    # -- evaluation ---------------------------------------------------------------------------------

    def evaluate_all(self, moment: datetime, symbol: str | None = None) -> None:
        """Expires what is due and evaluates orders that could fill; all of them at session changes."""
        self._due = None
        index = self.book.index()
        if index.min_expiry is not None and index.min_expiry <= moment:
            for order in list(self.book.all_open()):
                if order.is_open and order.expires_at is not None and order.expires_at <= moment:
                    self._close(order, "expired", order.expires_at)
            index = self.book.index()
        session = calendar.session_at(moment)
        boundary = session is not calendar.session_at(moment - timedelta(microseconds=1))
        quotes: dict[str, Quote] = {}
        for name, entry in index.symbols.items():
            if symbol is not None and name != symbol:
                continue
            quote = self.quote(entry.orders[0].asset, moment, quotes)
            if not boundary and not entry.may_fill(quote.bid, quote.ask):
                continue
            for order in entry.orders:
                if order.is_open:
                    self.evaluate(order, moment, session, quotes)

    def quote(self, asset: Asset, moment: datetime, cache: dict[str, Quote] | None = None) -> Quote:
        if cache is None:
            return self.market.quote(asset, moment)
        found = cache.get(asset.symbol)
        if found is None:
            found = cache[asset.symbol] = self.market.quote(asset, moment)
        return found

    def evaluate(self, order: Order, moment: datetime, session: Session, quotes: dict[str, Quote]) -> None:
        if order.status == "held" or not self._tradable(order, session):
            return
        if order.status == "accepted":
            order.status = "new"
            order.touch(moment)
            self.emit("new", order, moment)
        quote = self.quote(order.asset, moment, quotes)
        price = self._execution_price(order, quote, session)
        if price is None:
            if order.time_in_force in ("ioc", "fok"):
                self._close(order, "canceled", moment)
            return
        wanted = order.remaining_qty(price)
        available = self._available(order, moment)
        if available is None or wanted <= available:
            self.fill(order, wanted, price, moment)
            return
        # Larger than the liquidity of this minute: a part now, the rest in later minutes.
        if order.time_in_force == "fok":
            self._close(order, "canceled", moment)
            return
        if available > 0:
            order.liquidity_used = (minute_of(moment), self._used(order, moment) + available)
            self.fill(order, available, price, moment)
        if order.time_in_force == "ioc":
            self._close(order, "canceled", moment)

    def _available(self, order: Order, moment: datetime) -> Decimal | None:
        """What of the order may still fill this minute; None: everything (no liquidity setting)."""
        limit = self.liquidity.get(order.symbol, self.liquidity.get("*"))
        if limit is None or order.qty is None:
            return None  # notional orders fill whole
        return max(Decimal(0), limit - self._used(order, moment))

    @staticmethod
    def _used(order: Order, moment: datetime) -> Decimal:
        used = order.liquidity_used
        return used[1] if used is not None and used[0] == minute_of(moment) else Decimal(0)

    def _execution_price(self, order: Order, quote: Quote, session: Session) -> Decimal | None:
        buy = order.side == "buy"
        touch = quote.ask if buy else quote.bid
        kind = order.type
        if kind == "market":
            return touch
        if kind == "trailing_stop":
            if session is not Session.REGULAR and not order.asset.is_crypto:
                return None  # trailing stops never move or trigger outside regular hours
            self._trail(order, quote.last)
            assert order.stop_price is not None
            return touch if (touch >= order.stop_price if buy else touch <= order.stop_price) else None
        if kind in ("stop", "stop_limit") and not order.triggered:
            assert order.stop_price is not None
            if not (touch >= order.stop_price if buy else touch <= order.stop_price):
                return None
            order.triggered = True
            if kind == "stop":
                return touch
        if kind == "stop":
            return touch
        assert order.limit_price is not None
        if buy:
            return touch if touch <= order.limit_price else None
        return touch if touch >= order.limit_price else None

    def _trail(self, order: Order, last: Decimal) -> None:
        buy = order.side == "buy"
        if order.hwm is None or (last < order.hwm if buy else last > order.hwm):
            order.hwm = last
        offset = order.trail_price
        if offset is None:
            assert order.trail_percent is not None
            offset = order.hwm * order.trail_percent / 100
        stop = order.hwm + offset if buy else order.hwm - offset
        order.stop_price = self.market.round(order.asset, stop)

    # -- outcomes -----------------------------------------------------------------------------------

    def fill(self, order: Order, qty: Decimal, price: Decimal, moment: datetime) -> None:
        account = self.accounts[order.account_key]
        position = account.apply_fill(order.asset, order.side, qty, price)
        total = order.filled_qty + qty
        previous = (order.filled_avg_price or Decimal(0)) * order.filled_qty
        order.filled_avg_price = (previous + price * qty) / total
        order.filled_qty = total
        complete = order.qty is None or total >= order.qty
        order.status = "filled" if complete else "partially_filled"
        if complete:
            order.filled_at = moment
        order.touch(moment)
        self.book.refresh(order)
        stamp = moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"
        account.activities.append(
            Activity(
                id=f"{stamp}::{uuid.uuid4()}",
                order_id=order.id,
                symbol=order.symbol,
                side=order.side,
                qty=qty,
                price=price,
                cum_qty=total,
                leaves_qty=Decimal(0) if complete or order.qty is None else order.qty - total,
                at=moment,
                kind="fill" if complete else "partial_fill",
                order_status=order.status,
            )
        )
        event = "fill" if complete else "partial_fill"
        self.emit(event, order, moment, Execution(price, qty, position))
        if not complete:
            return  # a group acts when an order of it is done, not on each part
        if order.parent_id is not None or order.order_class == "oco":
            for other in self.book.group(order):
                if other.id != order.id and other.is_open:
                    self._close(other, "canceled", moment)
        else:
            for leg in self.book.legs(order):
                if leg.status == "held":
                    leg.status = "new"
                    leg.touch(moment)
                    self.emit("new", leg, moment)

    def _close(self, order: Order, status: str, moment: datetime) -> None:
        order.status = status
        if status == "canceled":
            order.canceled_at = moment
        elif status == "expired":
            order.expired_at = moment
        order.touch(moment)
        self.book.refresh(order)
        self.emit(status, order, moment)
        # A group ends together: held legs cannot outlive an entry that will never fill.
        for leg in self.book.legs(order):
            if leg.status == "held":
                self._close(leg, "canceled", moment)

    def cancel_group(self, order: Order, moment: datetime) -> list[Order]:
        """Cancels the order and every other open order of its group; returns what it canceled."""
        canceled = []
        for member in [order, *[o for o in self.book.group(order) if o.id != order.id]]:
            if member.is_open:
                self._close(member, "canceled", moment)
                canceled.append(member)
        return canceled

    def emit(self, event: str, order: Order, moment: datetime, execution: Execution | None = None) -> None:
        """Tells the listeners while the order still shows this event's state."""
        for listener in self.listeners:
            listener(event, order, moment, execution)

    def gtc_expiry(self, moment: datetime) -> datetime:
        """GTC orders lapse 90 days after creation, at 4:15 pm ET."""
        day = calendar.eastern_date(moment + timedelta(days=90))
        return datetime.combine(day, datetime.min.time().replace(hour=16, minute=15), calendar.EASTERN)
