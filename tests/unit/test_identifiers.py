"""Identifiers checked at the edge (shared/identifiers.py): symbols, order ids and client order ids."""

from __future__ import annotations

import uuid

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from shared.errors import BadRequest, NotFound
from shared.identifiers import (
    Symbol,
    check_client_order_id_characters,
    is_symbol,
    order_id,
    position_symbol,
    symbol,
)

ASSET_ID = "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415"


class Body(BaseModel):
    symbol: Symbol


@pytest.mark.parametrize(
    ("given", "clean"),
    [
        ("AAPL", "AAPL"),
        ("brk.b", "BRK.B"),
        ("btc/usd", "BTC/USD"),
        ("BTCUSD", "BTCUSD"),
        ("AAPL261218C00200000", "AAPL261218C00200000"),
        (ASSET_ID, ASSET_ID.upper()),
    ],
)
def test_each_alpaca_symbol_form_is_accepted_upper_cased(given: str, clean: str) -> None:
    """Tickers, class shares, crypto pairs, OCC options and asset ids pass, upper-cased."""
    assert symbol(given) == clean


@pytest.mark.parametrize(
    "given", ["", "A" * 33, "AAPL/", "../v2/account", "AAPL?x=1", "AA PL", "AAPL%2F", "BTC/USD/EUR", "ÄPL"]
)
def test_anything_else_is_400_invalid_symbol(given: str) -> None:
    """Empty, over 32 characters, path or query syntax, spaces, encodings and non-ASCII are refused."""
    with pytest.raises(BadRequest) as caught:
        symbol(given)
    assert (caught.value.status, caught.value.reason) == (400, "invalid_symbol")


def test_symbol_length_is_capped_at_thirty_two_characters() -> None:
    """A 21-character root with a 10-character suffix (32 in all) is the longest ticker form."""
    assert is_symbol("A" * 21 + "." + "B" * 10)
    assert not is_symbol("A" * 22)


def test_order_id_is_a_uuid_lower_cased() -> None:
    """A UUID in any case is the order id, lower-cased."""
    given = str(uuid.uuid4())
    assert order_id(given.upper()) == given


@pytest.mark.parametrize("given", ["", "42", "not-a-uuid", ASSET_ID + "x", "../orders", ASSET_ID[:-1] + "/"])
def test_order_id_that_is_not_a_uuid_is_404_order_not_found(given: str) -> None:
    """No order can have another id, so anything else is an unknown order, not a malformed request."""
    with pytest.raises(NotFound) as caught:
        order_id(given)
    assert (caught.value.status, caught.value.reason) == (404, "order_not_found")


def test_position_paths_address_crypto_pairs_without_the_slash() -> None:
    """`BTC/USD` is the position `BTCUSD`; other symbols are unchanged."""
    assert (position_symbol("BTC/USD"), position_symbol("AAPL")) == ("BTCUSD", "AAPL")


def test_symbol_in_a_body_is_trimmed_upper_cased_or_refused_as_invalid_symbol() -> None:
    """In a JSON body the symbol is stripped and upper-cased; a bad one is the custom error invalid_symbol."""
    assert Body(symbol=" btc/usd ").symbol == "BTC/USD"
    with pytest.raises(ValidationError) as caught:
        Body(symbol="AAPL?")
    assert caught.value.errors()[0]["type"] == "invalid_symbol"


@pytest.mark.parametrize("given", ["tv-alert 42", "a.b_c:d", "~!@#$%^&*()"])
def test_printable_ascii_client_order_ids_are_accepted(given: str) -> None:
    """Any printable ASCII, spaces included, is a client order id."""
    check_client_order_id_characters(given)


@pytest.mark.parametrize("given", ["a/b", "line\nbreak", "tab\t", "del\x7f", "café", "nul\x00"])
def test_client_order_id_with_a_slash_or_a_control_character_is_invalid(given: str) -> None:
    """`/`, control characters and non-ASCII are the custom error invalid_client_order_id."""
    with pytest.raises(PydanticCustomError) as caught:
        check_client_order_id_characters(given)
    assert caught.value.type == "invalid_client_order_id"
