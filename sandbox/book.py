"""The order store: every order by id, per account in submission order, with open-order indexes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sandbox.orders import Order


class OrderBook:
    """Orders of all accounts; open orders are indexed so rule checks stay linear in open orders."""

    def __init__(self) -> None:
        self.by_id: dict[str, Order] = {}
        self.by_account: dict[str, list[Order]] = {}
        self.client_ids: dict[str, dict[str, Order]] = {}
        self.open: dict[str, dict[str, Order]] = {}
        self._open_by_symbol: dict[tuple[str, str], dict[str, Order]] = {}
        self._seq = 0
        self.version = 0  # bumped on every add or status change, so caches can tell they are stale
        self._index: tuple[int, OpenIndex] | None = None

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, order: Order) -> None:
        self.by_id[order.id] = order
        self.by_account.setdefault(order.account_key, []).append(order)
        self.client_ids.setdefault(order.account_key, {})[order.client_order_id] = order
        self.refresh(order)

    def refresh(self, order: Order) -> None:
        """Keeps the open index in step after a status change."""
        self.version += 1
        bucket = self.open.setdefault(order.account_key, {})
        by_symbol = self._open_by_symbol.setdefault((order.account_key, order.symbol), {})
        if order.is_open:
            bucket[order.id] = order
            by_symbol[order.id] = order
        else:
            bucket.pop(order.id, None)
            by_symbol.pop(order.id, None)

    def index(self) -> OpenIndex:
        if self._index is None or self._index[0] != self.version:
            self._index = (self.version, build_index(self))
        return self._index[1]

    def get(self, account_key: str, order_id: str) -> Order | None:
        order = self.by_id.get(order_id)
        return order if order is not None and order.account_key == account_key else None

    def by_client_id(self, account_key: str, client_order_id: str) -> Order | None:
        return self.client_ids.get(account_key, {}).get(client_order_id)

    def open_for(self, account_key: str, symbol: str) -> list[Order]:
        """Open orders of one account in one symbol, the set every per-order rule looks at."""
        return list(self._open_by_symbol.get((account_key, symbol), {}).values())

    def open_orders(self, account_key: str) -> list[Order]:
        return sorted(self.open.get(account_key, {}).values(), key=lambda o: o.seq)

    def all_open(self) -> Iterator[Order]:
        for bucket in self.open.values():
            yield from list(bucket.values())

    def legs(self, order: Order) -> list[Order]:
        return [self.by_id[leg_id] for leg_id in order.leg_ids if leg_id in self.by_id]

    def group(self, order: Order) -> list[Order]:
        """The parent and all legs of the order's bracket/OCO/OTO group."""
        root = self.by_id.get(order.root_id, order)
        return [root, *self.legs(root)]

    def query(
        self,
        account_key: str,
        status: str,
        after: datetime | None,
        until: datetime | None,
        side: str | None,
        symbols: set[str] | None,
        nested: bool,
        ascending: bool,
        limit: int,
    ) -> list[Order]:
        source = self.open_orders(account_key) if status == "open" else self.by_account.get(account_key, [])
        ordered = source if ascending else reversed(source)
        result: list[Order] = []
        for order in ordered:
            if status == "closed" and order.is_open:
                continue
            if nested and order.parent_id is not None:
                continue
            if after is not None and order.created_at <= after:
                continue
            if until is not None and order.created_at >= until:
                continue
            if side is not None and order.side != side:
                continue
            if (
                symbols is not None
                and order.symbol not in symbols
                and order.asset.position_symbol not in symbols
            ):
                continue
            result.append(order)
            if len(result) >= limit:
                break
        return result

    def held_for_sells(self, account_key: str, symbol: str, side: str, exclude: str | None = None) -> Decimal:
        """Quantity held by open orders on `side`; a bracket/OCO group holds its shares only once."""
        per_group: dict[str, Decimal] = {}
        for order in self.open_for(account_key, symbol):
            if order.side != side or order.status == "held" or exclude in (order.id, order.root_id):
                continue
            if order.qty is None:
                continue
            remaining = order.qty - order.filled_qty
            key = order.root_id
            per_group[key] = max(per_group.get(key, Decimal(0)), remaining)
        return sum(per_group.values(), Decimal(0))


@dataclass
class SymbolOrders:
    """One symbol's live orders, with the limit prices that decide whether any limit can fill."""

    orders: list[Order] = field(default_factory=list)
    max_buy_limit: Decimal | None = None
    min_sell_limit: Decimal | None = None
    needs_check: bool = False  # market, stop, trailing or IOC/FOK orders: always evaluate

    def may_fill(self, bid: Decimal, ask: Decimal) -> bool:
        if self.needs_check:
            return True
        if self.max_buy_limit is not None and ask <= self.max_buy_limit:
            return True
        return self.min_sell_limit is not None and bid >= self.min_sell_limit


@dataclass
class OpenIndex:
    """A snapshot of all open orders for the engine's per-minute pass; rebuilt when the book changes."""

    symbols: dict[str, SymbolOrders] = field(default_factory=dict)
    min_expiry: datetime | None = None
    crypto: bool = False
    equity: bool = False
    extended: bool = False


def build_index(book: OrderBook) -> OpenIndex:
    index = OpenIndex()
    for order in book.all_open():  # insertion order is submission order
        if order.expires_at is not None and (index.min_expiry is None or order.expires_at < index.min_expiry):
            index.min_expiry = order.expires_at
        if order.status == "held":
            continue
        entry = index.symbols.setdefault(order.asset.symbol, SymbolOrders())
        entry.orders.append(order)
        index.crypto |= order.asset.is_crypto
        index.equity |= not order.asset.is_crypto
        index.extended |= order.extended_hours
        if order.type != "limit" or order.time_in_force in ("ioc", "fok") or order.limit_price is None:
            entry.needs_check = True
        elif order.side == "buy":
            entry.max_buy_limit = max(entry.max_buy_limit or order.limit_price, order.limit_price)
        else:
            entry.min_sell_limit = min(entry.min_sell_limit or order.limit_price, order.limit_price)
    return index
