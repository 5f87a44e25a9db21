"""Identifiers that reach an upstream URL or a Firestore path: one strict pattern each, checked at the edge.

Order ids are UUIDs; symbols take Alpaca's forms (`AAPL`, `BRK.B`, `BTC/USD`, `BTCUSD`, an OCC option
symbol, an asset UUID); client order ids are printable ASCII without `/`; dead letter ids are 32 hex
digits. The Alpaca client encodes every path segment again, so a value that slipped past these checks
still could not change the path.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from shared.errors import BadRequest, NotFound

SYMBOL_MAX = 32
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ORDER_ID = re.compile(rf"^{_UUID}$")  # also the form of an asset id
SYMBOL = re.compile(r"^[A-Z0-9]{1,21}(?:[./][A-Z0-9]{1,10})?$")
# Printable ASCII (space to tilde) except `/`: the key is also a query value and an audit field.
CLIENT_ORDER_ID = re.compile(r"^[\x20-\x2e\x30-\x7e]+$")
DEAD_LETTER_ID = re.compile(r"^[0-9a-f]{32}$")


def is_symbol(value: str) -> bool:
    """A ticker form of at most 32 characters, or an asset id (a UUID)."""
    short = len(value) <= SYMBOL_MAX and SYMBOL.fullmatch(value) is not None
    return short or ORDER_ID.fullmatch(value) is not None


def symbol(value: str) -> str:
    """A symbol from a path or query: upper-cased, or 400 `invalid_symbol`."""
    upper = value.upper()
    if not is_symbol(upper):
        raise BadRequest(
            "symbol must be an Alpaca symbol such as AAPL, BRK.B, BTC/USD or an asset id",
            reason="invalid_symbol",
        )
    return upper


def order_id(value: str) -> str:
    """An Alpaca order id: a UUID, or 404 (no order can have any other id)."""
    if ORDER_ID.fullmatch(value) is None:
        raise NotFound("order_id must be an Alpaca order id (a UUID)", reason="order_not_found")
    return value.lower()


def dead_letter_id(value: str) -> str:
    """A dead letter's id (32 hex digits), or 404: nothing can have any other id."""
    if DEAD_LETTER_ID.fullmatch(value) is None:
        raise NotFound("no such dead letter", reason="dead_letter_not_found")
    return value


def position_symbol(value: str) -> str:
    """The form Alpaca's position paths take: `BTC/USD` is addressed as `BTCUSD`."""
    return value.replace("/", "")


def _body_symbol(value: str) -> str:
    upper = value.strip().upper()
    if not is_symbol(upper):
        raise PydanticCustomError(
            "invalid_symbol", "symbol must be an Alpaca symbol such as AAPL, BRK.B or BTC/USD"
        )
    return upper


def check_client_order_id_characters(value: str) -> None:
    if CLIENT_ORDER_ID.fullmatch(value) is None:
        raise PydanticCustomError(
            "invalid_client_order_id", "client_order_id must be printable ASCII without '/'"
        )


# A symbol in a JSON body (an order); `invalid_*` custom errors answer 400, rule names 422.
Symbol = Annotated[str, AfterValidator(_body_symbol)]
