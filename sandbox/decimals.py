"""Decimal parsing and the string encoding Alpaca uses for money and quantities."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

NANO = Decimal("0.000000001")
CENT = Decimal("0.01")


def parse_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a Decimal; None when absent or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def dec_str(value: Decimal) -> str:
    """Alpaca's str-dec: plain notation, at most 9 decimals, no trailing zeros."""
    q = value.quantize(NANO, rounding=ROUND_HALF_UP).normalize()
    if q == 0:
        return "0"
    return format(q, "f")


def opt_str(value: Decimal | None) -> str | None:
    return None if value is None else dec_str(value)


def tick(price: Decimal) -> Decimal:
    """Equity price increment: a cent at or above $1, a hundredth of a cent below."""
    return CENT if price >= 1 else Decimal("0.0001")


def round_price(price: Decimal) -> Decimal:
    return price.quantize(tick(price), rounding=ROUND_HALF_UP)


def decimals_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
