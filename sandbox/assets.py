"""The seeded asset universe: US equities and crypto pairs, looked up by symbol, pair spelling or id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

NAMESPACE = uuid.UUID("6f1c6d2e-3b9a-4c55-9a51-0d7c1a9e5b10")


@dataclass(frozen=True)
class Asset:
    symbol: str
    name: str
    exchange: str
    base_price: Decimal
    asset_class: str = "us_equity"
    status: str = "active"
    tradable: bool = True
    marginable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    fractionable: bool = True
    attributes: tuple[str, ...] = ()
    min_order_size: Decimal | None = None
    min_trade_increment: Decimal | None = None
    price_increment: Decimal | None = None
    id: str = field(default="", compare=False)

    def __hash__(self) -> int:
        return hash(self.symbol)  # symbols are unique; the caches of the market tape key on assets

    @property
    def is_crypto(self) -> bool:
        return self.asset_class == "crypto"

    @property
    def position_symbol(self) -> str:
        """Positions name crypto pairs without the slash (BTCUSD), as Alpaca does."""
        return self.symbol.replace("/", "")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "class": self.asset_class,
            "exchange": self.exchange,
            "symbol": self.symbol,
            "name": self.name,
            "status": self.status,
            "tradable": self.tradable,
            "marginable": self.marginable,
            "maintenance_margin_requirement": 30 if self.marginable else 100,
            "margin_requirement_long": "30" if self.marginable else "100",
            "margin_requirement_short": "30" if self.marginable else "100",
            "shortable": self.shortable,
            "easy_to_borrow": self.easy_to_borrow,
            "fractionable": self.fractionable,
            "attributes": list(self.attributes),
        }
        if self.is_crypto:
            body["min_order_size"] = str(self.min_order_size)
            body["min_trade_increment"] = str(self.min_trade_increment)
            body["price_increment"] = str(self.price_increment)
        else:
            body["cusip"] = None
            body["borrow_status"] = "easy_to_borrow" if self.easy_to_borrow else "hard_to_borrow"
        return body


_OPT = ("has_options",)
_EQUITIES: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("AAPL", "Apple Inc. Common Stock", "NASDAQ", "190.00", _OPT),
    ("MSFT", "Microsoft Corporation Common Stock", "NASDAQ", "420.00", _OPT),
    ("GOOGL", "Alphabet Inc. Class A Common Stock", "NASDAQ", "170.00", _OPT),
    ("AMZN", "Amazon.com, Inc. Common Stock", "NASDAQ", "185.00", _OPT),
    ("META", "Meta Platforms, Inc. Class A Common Stock", "NASDAQ", "500.00", _OPT),
    ("NVDA", "NVIDIA Corporation Common Stock", "NASDAQ", "120.00", _OPT),
    ("TSLA", "Tesla, Inc. Common Stock", "NASDAQ", "250.00", _OPT),
    ("NFLX", "Netflix, Inc. Common Stock", "NASDAQ", "650.00", _OPT),
    ("AMD", "Advanced Micro Devices, Inc. Common Stock", "NASDAQ", "160.00", _OPT),
    ("INTC", "Intel Corporation Common Stock", "NASDAQ", "30.00", _OPT),
    ("CSCO", "Cisco Systems, Inc. Common Stock (DE)", "NASDAQ", "50.00", _OPT),
    ("ADBE", "Adobe Inc. Common Stock", "NASDAQ", "520.00", _OPT),
    ("PEP", "PepsiCo, Inc. Common Stock", "NASDAQ", "170.00", _OPT),
    ("COST", "Costco Wholesale Corporation Common Stock", "NASDAQ", "850.00", _OPT),
    ("QQQ", "Invesco QQQ Trust, Series 1", "NASDAQ", "480.00", _OPT),
    ("JPM", "JPMorgan Chase & Co. Common Stock", "NYSE", "200.00", _OPT),
    ("BAC", "Bank of America Corporation Common Stock", "NYSE", "40.00", _OPT),
    ("WMT", "Walmart Inc. Common Stock", "NYSE", "70.00", _OPT),
    ("KO", "Coca-Cola Company (The) Common Stock", "NYSE", "62.00", _OPT),
    ("DIS", "Walt Disney Company (The) Common Stock", "NYSE", "100.00", _OPT),
    ("V", "Visa Inc.", "NYSE", "280.00", _OPT),
    ("MA", "Mastercard Incorporated Common Stock", "NYSE", "460.00", _OPT),
    ("XOM", "Exxon Mobil Corporation Common Stock", "NYSE", "115.00", _OPT),
    ("CVX", "Chevron Corporation Common Stock", "NYSE", "155.00", _OPT),
    ("JNJ", "Johnson & Johnson Common Stock", "NYSE", "155.00", _OPT),
    ("PG", "Procter & Gamble Company (The) Common Stock", "NYSE", "165.00", _OPT),
    ("HD", "Home Depot, Inc. (The) Common Stock", "NYSE", "370.00", _OPT),
    ("UNH", "UnitedHealth Group Incorporated Common Stock (DE)", "NYSE", "520.00", _OPT),
    ("BA", "Boeing Company (The) Common Stock", "NYSE", "180.00", _OPT),
    ("GE", "GE Aerospace Common Stock", "NYSE", "170.00", _OPT),
    ("F", "Ford Motor Company Common Stock", "NYSE", "11.00", _OPT),
    ("T", "AT&T Inc.", "NYSE", "18.00", _OPT),
    ("PFE", "Pfizer, Inc. Common Stock", "NYSE", "28.00", _OPT),
    ("NKE", "Nike, Inc. Common Stock", "NYSE", "90.00", _OPT),
    ("BRK.B", "Berkshire Hathaway Inc. New Class B Common Stock", "NYSE", "410.00", _OPT),
    ("SPY", "SPDR S&P 500 ETF Trust", "ARCA", "550.00", _OPT),
    ("IWM", "iShares Russell 2000 ETF", "ARCA", "210.00", _OPT),
    ("GLD", "SPDR Gold Trust, SPDR Gold Shares", "ARCA", "220.00", _OPT),
]


def _equity(row: tuple[str, str, str, str, tuple[str, ...]]) -> Asset:
    symbol, name, exchange, price, attributes = row
    return Asset(symbol, name, exchange, Decimal(price), attributes=attributes)


def _seed() -> list[Asset]:
    assets = [_equity(row) for row in _EQUITIES]
    assets += [
        # Not fractionable: fractional and notional orders are refused.
        Asset("BRK.A", "Berkshire Hathaway Inc.", "NYSE", Decimal("620000.00"), fractionable=False),
        # Hard to borrow: shortable, but not easy to borrow, so short sales are refused.
        Asset("GME", "GameStop Corporation Common Stock", "NYSE", Decimal("25.00"), easy_to_borrow=False),
        # A sub-dollar stock, for the 4-decimal tick rule; not marginable or shortable.
        Asset(
            "CEI",
            "Camber Energy, Inc. Common Stock",
            "AMEX",
            Decimal("0.3500"),
            marginable=False,
            shortable=False,
            easy_to_borrow=False,
            fractionable=False,
        ),
        # Delisted: inactive and not tradable.
        Asset(
            "TWTR",
            "Twitter, Inc. Common Stock",
            "NYSE",
            Decimal("53.70"),
            status="inactive",
            tradable=False,
            shortable=False,
            easy_to_borrow=False,
        ),
    ]
    crypto = [
        ("BTC/USD", "Bitcoin  / US Dollar", "65000", "0.0001", "1"),
        ("ETH/USD", "Ethereum  / US Dollar", "3200", "0.001", "0.1"),
        ("SOL/USD", "Solana  / US Dollar", "150", "0.01", "0.01"),
        ("LTC/USD", "Litecoin  / US Dollar", "80", "0.01", "0.01"),
        ("DOGE/USD", "Dogecoin  / US Dollar", "0.15", "1", "0.000001"),
    ]
    for symbol, name, price, min_size, increment in crypto:
        assets.append(
            Asset(
                symbol,
                name,
                "CRYPTO",
                Decimal(price),
                asset_class="crypto",
                marginable=False,
                shortable=False,
                easy_to_borrow=False,
                min_order_size=Decimal(min_size),
                min_trade_increment=Decimal("0.000000001"),
                price_increment=Decimal(increment),
            )
        )
    return [
        Asset(**{**a.__dict__, "id": str(uuid.uuid5(NAMESPACE, a.symbol))})  # stable ids across runs
        for a in assets
    ]


class Universe:
    """All assets, indexed by every spelling a client may use."""

    def __init__(self) -> None:
        self.assets = _seed()
        self._index: dict[str, Asset] = {}
        for asset in self.assets:
            self._index[asset.symbol.upper()] = asset
            self._index[asset.id] = asset
            if asset.is_crypto:
                self._index[asset.position_symbol.upper()] = asset

    def find(self, key: str) -> Asset | None:
        cleaned = unquote(key).strip()
        return self._index.get(cleaned.upper()) or self._index.get(cleaned.lower())
