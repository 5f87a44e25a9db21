"""Decimal input (shared/decimals.py): plain ASCII decimals or finite JSON numbers, bounded, never float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from shared.decimals import (
    NOTIONAL_MAX,
    PERCENT_MAX,
    PRICE_MAX,
    QTY_MAX,
    Notional,
    Percent,
    Price,
    Quantity,
    parse_decimal,
)

MALFORMED = [
    "1_000",
    "١٢",
    " 1 ",
    "1E+30",
    "1e5",
    "NaN",
    "Infinity",
    "0x10",
    "1.",
    ".5",
    "+1",
    "",
    "1,5",
    "--1",
]


def invalid(value: Any, maximum: Decimal = QTY_MAX) -> PydanticCustomError:
    with pytest.raises(PydanticCustomError) as caught:
        parse_decimal(value, maximum)
    assert caught.value.type == "invalid_number"
    return caught.value


@pytest.mark.parametrize(("given", "parsed"), [("10", "10"), ("10.25", "10.25"), ("-3", "-3"), ("007", "7")])
def test_plain_decimal_strings_parse_exactly(given: str, parsed: str) -> None:
    """Digits with an optional fraction and sign are the Decimal they spell."""
    assert parse_decimal(given, QTY_MAX) == Decimal(parsed)


def test_json_numbers_parse_to_the_decimal_they_read_as() -> None:
    """An int, or a float by its shortest repr (0.1, not 0.1000000000000000055...), never a binary float."""
    assert parse_decimal(10, QTY_MAX) == Decimal(10)
    parsed = parse_decimal(0.1, QTY_MAX)
    assert parsed == Decimal("0.1") and isinstance(parsed, Decimal)


@pytest.mark.parametrize("given", MALFORMED)
def test_anything_but_a_plain_decimal_string_is_invalid_number(given: str) -> None:
    """Separators, other digits, spaces, exponents, hex, a bare point or a plus sign are refused."""
    invalid(given)


@pytest.mark.parametrize("given", [True, None, [1], {"v": 1}, float("nan"), float("inf"), Decimal("NaN")])
def test_non_numbers_and_non_finite_numbers_are_invalid_number(given: Any) -> None:
    """Booleans, null, containers, NaN and infinities are not numbers here."""
    invalid(given)


def test_magnitude_above_the_maximum_is_invalid_number_either_sign() -> None:
    """The bound is on the absolute value; the bound itself is allowed."""
    assert parse_decimal("100", PERCENT_MAX) == PERCENT_MAX
    invalid("100.5", PERCENT_MAX)
    invalid("-101", PERCENT_MAX)
    invalid(10**10)


def test_nine_decimal_places_at_most_trailing_zeros_aside() -> None:
    """0.123456789 passes, 0.1234567891 is refused, and 1.0000000000 is 1 (its zeros are not places)."""
    assert parse_decimal("0.123456789", QTY_MAX) == Decimal("0.123456789")
    assert parse_decimal("1.0000000000", QTY_MAX) == 1
    invalid("0.1234567891")


@pytest.mark.parametrize(
    ("annotated", "maximum"),
    [(Quantity, QTY_MAX), (Notional, NOTIONAL_MAX), (Price, PRICE_MAX), (Percent, PERCENT_MAX)],
)
def test_each_decimal_field_type_is_bounded_by_its_maximum(annotated: Any, maximum: Decimal) -> None:
    """Quantities and notionals up to 10^9, prices up to 10^7, percentages up to 100."""
    adapter: TypeAdapter[Decimal] = TypeAdapter(annotated)
    assert adapter.validate_python(str(maximum)) == maximum
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(str(maximum + 1))
    assert caught.value.errors()[0]["type"] == "invalid_number"


def test_decimal_fields_document_both_json_forms() -> None:
    """The schema of a decimal field takes a plain-decimal string or a number up to its maximum."""
    schema = TypeAdapter(Price).json_schema()
    assert {"type": "number", "maximum": float(PRICE_MAX)} in schema["anyOf"]
    assert any(part.get("type") == "string" and "pattern" in part for part in schema["anyOf"])
