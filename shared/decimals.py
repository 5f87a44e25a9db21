"""Decimal input: plain ASCII decimals or finite JSON numbers, bounded in size and places; never float.

A string must match `-?[0-9]+(.[0-9]+)?`: no exponent, no separators, no spaces, no other digits
than ASCII. The sign is allowed so that a negative value reaches the rule that names it (422
`qty_must_be_positive`) rather than a generic format error.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

PLACES_MAX = 9  # Alpaca takes quantities and notionals to 9 decimals; prices are narrower (tick rules)
PLAIN = re.compile(r"^-?[0-9]{1,15}(?:\.[0-9]{1,15})?$")

QTY_MAX = Decimal("1000000000")
NOTIONAL_MAX = Decimal("1000000000")
PRICE_MAX = Decimal("10000000")
PERCENT_MAX = Decimal("100")


def parse_decimal(value: Any, maximum: Decimal) -> Decimal:
    """`value` as an exact Decimal within +/- `maximum` and PLACES_MAX places; else `invalid_number`."""
    if isinstance(value, bool):
        raise _invalid("a number is required, not a boolean")
    if isinstance(value, str):
        if PLAIN.fullmatch(value) is None:
            raise _invalid(
                "numbers are plain decimals such as 10 or 10.25 (no exponent, spaces or separators)"
            )
        number = Decimal(value)
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise _invalid("a number is required")
    try:
        if not number.is_finite() or abs(number) > maximum:
            raise _invalid(f"numbers here are at most {maximum}")
        exponent = number.normalize().as_tuple().exponent
    except InvalidOperation as exc:
        raise _invalid("not a number") from exc
    if isinstance(exponent, int) and -exponent > PLACES_MAX:
        raise _invalid(f"at most {PLACES_MAX} decimal places")
    return number


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_number", message)


def _within(maximum: Decimal) -> BeforeValidator:
    return BeforeValidator(lambda value: parse_decimal(value, maximum))


def _schema(maximum: Decimal) -> WithJsonSchema:
    number = {"type": "number", "maximum": float(maximum)}
    return WithJsonSchema({"anyOf": [{"type": "string", "pattern": PLAIN.pattern}, number]})


Quantity = Annotated[Decimal, _within(QTY_MAX), _schema(QTY_MAX)]
Notional = Annotated[Decimal, _within(NOTIONAL_MAX), _schema(NOTIONAL_MAX)]
Price = Annotated[Decimal, _within(PRICE_MAX), _schema(PRICE_MAX)]
Percent = Annotated[Decimal, _within(PERCENT_MAX), _schema(PERCENT_MAX)]
