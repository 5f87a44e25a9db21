"""What kind of asset a symbol names, as Alpaca says: read once per instance and symbol, then cached.

The order rules and risk checks depend on the asset class (crypto trades GTC or IOC, fractional
equities DAY only), and `BTCUSD` is as much crypto as `BTC/USD`: the class comes from the asset, not
from the symbol's shape.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shared.alpaca.client import AlpacaClient
from shared.clock import Clock
from shared.deadline import Deadline
from shared.errors import NotFound
from shared.limits.protocol import Priority

CACHE_SECONDS = 3600.0  # asset classes do not change; tradability may, and Alpaca still checks it


@dataclass(frozen=True)
class Asset:
    symbol: str  # Alpaca's own form: `BTC/USD` for the pair asked for as `BTCUSD`
    asset_class: str  # us_equity, us_option or crypto


class Assets:
    def __init__(self, alpaca: AlpacaClient, clock: Clock, cache_seconds: float = CACHE_SECONDS) -> None:
        self._alpaca = alpaca
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cached: dict[str, tuple[float, Asset | None]] = {}
        self._lock = threading.Lock()

    def find(self, symbol: str, deadline: Deadline | None = None) -> Asset | None:
        """The asset, or None when Alpaca has none: such an order is sent, and Alpaca's rejection of it
        recorded like any other (a miss is cached too)."""
        now = self._clock.now()
        with self._lock:
            hit = self._cached.get(symbol)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        try:
            raw = self._alpaca.asset(symbol, priority=Priority.TRADE, deadline=deadline)
        except NotFound:
            asset = None
        else:
            asset = Asset(str(raw.get("symbol") or symbol), str(raw.get("class") or "us_equity"))
        with self._lock:
            self._cached[symbol] = (now, asset)
        return asset
