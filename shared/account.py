"""The account read use cases over Alpaca: account, positions, orders, trades, clock, configuration."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.alpaca.client import AlpacaClient
from shared.alpaca.credentials import AlpacaCredentials
from shared.config import Settings
from shared.models import (
    Account,
    GatewayConfig,
    MarketClock,
    Order,
    Position,
    Trade,
)

NEVER = datetime.min.replace(tzinfo=UTC)
TRADES_DEFAULT = 20
PAGE_MAX = 500  # Alpaca's largest page of orders: larger asks are capped, not refused


class AccountReads:
    def __init__(self, settings: Settings, alpaca: AlpacaClient, credentials: AlpacaCredentials) -> None:
        self._settings = settings
        self._alpaca = alpaca
        self._credentials = credentials

    def account(self) -> Account:
        return Account.from_alpaca(self._alpaca.account())

    def positions(self) -> list[Position]:
        return [Position.from_alpaca(p) for p in self._alpaca.positions()]

    def clock(self) -> MarketClock:
        return MarketClock.model_validate(self._alpaca.clock())

    def config(self) -> GatewayConfig:
        key_ok, secret_ok = self._credentials.configured()
        return GatewayConfig(
            base_url=self._settings.alpaca_base_url,
            data_url=self._settings.alpaca_data_url,
            api_key_configured=key_ok,
            secret_key_configured=secret_ok,
            trading_mode=self._settings.trading_mode,
            rate_limit_per_minute=self._settings.limiter.per_minute,
            rate_limit_window_seconds=self._settings.limiter.window_seconds,
        )

    def orders(self, status: str = "open", limit: int = PAGE_MAX) -> list[Order]:
        limit = max(1, min(limit, PAGE_MAX))
        raw = self._alpaca.orders(status=status, limit=limit, direction="desc", nested="true")
        return [Order.from_alpaca(o) for o in raw]

    def order(self, order_id: str) -> Order:
        return Order.from_alpaca(self._alpaca.order(order_id))

    def trades(self, limit: int = TRADES_DEFAULT) -> list[Trade]:
        """Recent fills, newest first: orders with a filled quantity, by fill time."""
        limit = max(1, min(limit, PAGE_MAX))
        raw = self._alpaca.orders(status="all", limit=PAGE_MAX, direction="desc", nested="false")
        filled = [order for order in map(Order.from_alpaca, raw) if order.filled_qty > 0]
        filled.sort(key=lambda o: o.filled_at or o.updated_at or NEVER, reverse=True)
        return [Trade.from_order(o) for o in filled[:limit]]
