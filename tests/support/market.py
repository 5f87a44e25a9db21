"""An in-memory Market for the risk checks: positions and quotes the test sets, and every question asked."""

from __future__ import annotations

from decimal import Decimal

from shared.deadline import Deadline


class FakeMarket:
    """Signed position sizes and (bid, ask) quotes by symbol; `asked` records each read in order."""

    def __init__(
        self,
        positions: dict[str, Decimal] | None = None,
        quotes: dict[str, tuple[Decimal, Decimal]] | None = None,
    ) -> None:
        self.positions = positions or {}
        self.quotes = quotes or {}
        self.asked: list[str] = []

    def position_qty(self, symbol: str, deadline: Deadline | None = None) -> Decimal:
        self.asked.append(f"position {symbol}")
        return self.positions.get(symbol, Decimal(0))

    def price(
        self, symbol: str, side: str, deadline: Deadline | None = None, crypto: bool = False
    ) -> Decimal:
        """The far side of the quote, as the real market prices an order: the ask for a buy."""
        self.asked.append(f"price {symbol} {side}" + (" crypto" if crypto else ""))
        bid, ask = self.quotes[symbol]
        return ask if side == "buy" else bid
