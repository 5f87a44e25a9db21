"""The order model checks Alpaca's rules (shared/orders/rules.py) as it parses, naming the rule it applies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from shared.orders.request import OrderRequest
from shared.orders.rules import asset_class_of

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1"}
SELL = {"symbol": "AAPL", "side": "sell", "qty": "1"}
CRYPTO = {"symbol": "BTC/USD", "side": "buy", "qty": "0.01", "time_in_force": "gtc"}
OPTION = {"symbol": "AAPL261218C00200000", "side": "buy", "qty": "1"}

BROKEN: list[tuple[str, dict[str, Any]]] = [
    ("qty_or_notional_required", {"symbol": "AAPL", "side": "buy"}),
    ("qty_and_notional", {**BUY, "notional": "100"}),
    ("qty_must_be_positive", {**BUY, "qty": "0"}),
    ("notional_too_small", {"symbol": "AAPL", "side": "buy", "notional": "0.5"}),
    ("fractional_day_only", {**BUY, "qty": "0.5", "time_in_force": "gtc"}),
    (
        "fractional_simple_only",
        {
            "symbol": "AAPL",
            "side": "buy",
            "notional": "50",
            "order_class": "oto",
            "stop_loss": {"stop_price": "100"},
        },
    ),
    ("limit_price_required", {**BUY, "type": "limit"}),
    ("stop_price_required", {**BUY, "type": "stop_limit", "limit_price": "10"}),
    ("limit_price_not_allowed", {**BUY, "limit_price": "10"}),
    ("stop_price_not_allowed", {**BUY, "type": "limit", "limit_price": "10", "stop_price": "9"}),
    ("price_must_be_positive", {**BUY, "type": "limit", "limit_price": "-1"}),
    ("sub_penny_price", {**BUY, "type": "limit", "limit_price": "10.001"}),
    ("trail_price_xor_percent", {**BUY, "type": "trailing_stop"}),
    ("trail_price_xor_percent", {**BUY, "type": "trailing_stop", "trail_price": "1", "trail_percent": "1"}),
    ("trail_percent_too_small", {**BUY, "type": "trailing_stop", "trail_percent": "0.05"}),
    ("trail_not_allowed", {**BUY, "trail_price": "1"}),
    (
        "trailing_stop_time_in_force",
        {**BUY, "type": "trailing_stop", "trail_price": "1", "time_in_force": "ioc"},
    ),
    ("extended_hours_day_limit_only", {**BUY, "extended_hours": True}),
    (
        "extended_hours_day_limit_only",
        {**BUY, "type": "limit", "limit_price": "10", "time_in_force": "gtc", "extended_hours": True},
    ),
    ("legs_not_allowed", {**BUY, "take_profit": {"limit_price": "300"}}),
    ("take_profit_required", {**BUY, "order_class": "bracket", "stop_loss": {"stop_price": "100"}}),
    ("stop_loss_required", {**BUY, "order_class": "bracket", "take_profit": {"limit_price": "300"}}),
    (
        "bracket_time_in_force",
        {
            **BUY,
            "order_class": "bracket",
            "time_in_force": "ioc",
            "take_profit": {"limit_price": "300"},
            "stop_loss": {"stop_price": "100"},
        },
    ),
    (
        "leg_prices_inverted",
        {
            **BUY,
            "order_class": "bracket",
            "take_profit": {"limit_price": "100"},
            "stop_loss": {"stop_price": "300"},
        },
    ),
    (
        "take_profit_too_close",
        {
            **BUY,
            "order_class": "bracket",
            "type": "limit",
            "limit_price": "200",
            "take_profit": {"limit_price": "200"},
            "stop_loss": {"stop_price": "150"},
        },
    ),
    (
        "stop_loss_too_close",
        {
            **BUY,
            "order_class": "bracket",
            "type": "limit",
            "limit_price": "200",
            "take_profit": {"limit_price": "250"},
            "stop_loss": {"stop_price": "200"},
        },
    ),
    (
        "oco_limit_only",
        {
            "symbol": "AAPL",
            "side": "sell",
            "qty": "1",
            "order_class": "oco",
            "take_profit": {"limit_price": "250"},
            "stop_loss": {"stop_price": "150"},
        },
    ),
    (
        "oto_one_leg",
        {
            **BUY,
            "order_class": "oto",
            "take_profit": {"limit_price": "250"},
            "stop_loss": {"stop_price": "150"},
        },
    ),
    (
        "extended_hours_simple_only",
        {
            **BUY,
            "type": "limit",
            "limit_price": "200",
            "extended_hours": True,
            "order_class": "oto",
            "stop_loss": {"stop_price": "150"},
        },
    ),
    ("crypto_time_in_force", {"symbol": "BTC/USD", "side": "buy", "qty": "1"}),
    ("position_intent_side", {**BUY, "position_intent": "sell_to_close"}),
    ("client_order_id_too_long", {**BUY, "client_order_id": "x" * 129}),
    ("client_order_id_empty", {**BUY, "client_order_id": "   "}),
    ("invalid_client_order_id", {**BUY, "client_order_id": "tv/alert-1"}),
    ("price_must_be_positive", {**BUY, "type": "trailing_stop", "trail_price": "-1"}),
    ("sub_penny_price", {**BUY, "type": "limit", "limit_price": "0.12345"}),
    ("sub_penny_price", {**BUY, "order_class": "oto", "take_profit": {"limit_price": "250.001"}}),
    (
        "trailing_stop_simple_only",
        {
            **BUY,
            "type": "trailing_stop",
            "trail_price": "1",
            "order_class": "oto",
            "stop_loss": {"stop_price": "9"},
        },
    ),
    (
        "take_profit_too_close",
        {
            **SELL,
            "order_class": "bracket",
            "type": "limit",
            "limit_price": "200",
            "take_profit": {"limit_price": "200"},
            "stop_loss": {"stop_price": "250"},
        },
    ),
    (
        "stop_loss_too_close",
        {
            **SELL,
            "order_class": "bracket",
            "type": "limit",
            "limit_price": "200",
            "take_profit": {"limit_price": "150"},
            "stop_loss": {"stop_price": "200"},
        },
    ),
    (
        "leg_prices_inverted",
        {
            **SELL,
            "order_class": "oco",
            "type": "limit",
            "take_profit": {"limit_price": "150"},
            "stop_loss": {"stop_price": "250"},
        },
    ),
    ("crypto_order_type", {**CRYPTO, "type": "stop", "stop_price": "50000"}),
    (
        "crypto_simple_only",
        {
            **CRYPTO,
            "type": "limit",
            "limit_price": "50000",
            "order_class": "oto",
            "stop_loss": {"stop_price": "40000"},
        },
    ),
    ("option_order_type", {**OPTION, "type": "stop", "stop_price": "5"}),
    ("option_order_type", {**OPTION, "time_in_force": "gtc"}),
]

VALID: list[dict[str, Any]] = [
    BUY,
    {"symbol": "AAPL", "side": "buy", "notional": "25.50"},
    {**BUY, "type": "limit", "limit_price": "0.1234"},
    {**BUY, "type": "stop", "stop_price": "250"},
    {**BUY, "type": "stop_limit", "stop_price": "250", "limit_price": "251"},
    {**BUY, "type": "trailing_stop", "trail_percent": "2.5", "time_in_force": "gtc"},
    {**BUY, "type": "limit", "limit_price": "190", "extended_hours": True},
    {
        **BUY,
        "order_class": "bracket",
        "type": "limit",
        "limit_price": "200",
        "take_profit": {"limit_price": "220"},
        "stop_loss": {"stop_price": "180", "limit_price": "179.5"},
    },
    {
        "symbol": "AAPL",
        "side": "sell",
        "qty": "1",
        "type": "limit",
        "order_class": "oco",
        "take_profit": {"limit_price": "250"},
        "stop_loss": {"stop_price": "150"},
    },
    {**BUY, "order_class": "oto", "stop_loss": {"stop_price": "150"}, "position_intent": "buy_to_open"},
    {"symbol": "BTC/USD", "side": "buy", "qty": "0.01", "time_in_force": "gtc"},
    {**BUY, "client_order_id": "x" * 128},
    {**OPTION, "type": "limit", "limit_price": "5.10"},
    {**CRYPTO, "type": "stop_limit", "stop_price": "50000", "limit_price": "50100", "time_in_force": "ioc"},
    {**SELL, "type": "trailing_stop", "trail_price": "2.50"},
]


@pytest.mark.parametrize(("rule", "body"), BROKEN, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BROKEN)])
def test_order_breaking_a_rule_is_refused_naming_the_rule(rule: str, body: dict[str, Any]) -> None:
    """Each of Alpaca's order rules fails, at the edge or once the asset is known (equity here unless
    the symbol's shape says otherwise), with an error type equal to the rule's name."""
    assert refusal(body) == rule


def refusal(body: dict[str, Any]) -> str:
    try:
        order = OrderRequest.model_validate(body)
        order.for_asset(order.asset_class or "us_equity", order.symbol)
    except ValidationError as exc:
        return str(exc.errors()[0]["type"])
    except PydanticCustomError as exc:
        return exc.type
    return "accepted"


def test_fractional_gtc_order_waits_for_its_asset_when_the_symbol_cannot_tell() -> None:
    """`BTCUSD` or `AAPL`: the edge cannot know the class, so the fractional rule runs after the lookup."""
    body = {"symbol": "BTCUSD", "side": "buy", "qty": "0.5", "time_in_force": "gtc"}
    order = OrderRequest.model_validate(body)
    assert order.asset_class is None
    assert order.for_asset("crypto", "BTC/USD").asset_symbol == "BTC/USD"


@pytest.mark.parametrize("body", VALID)
def test_order_following_the_rules_parses(body: dict[str, Any]) -> None:
    """Every order type and class that follows the rules parses and round-trips to Alpaca's JSON."""
    order = OrderRequest.model_validate(body)
    payload = order.to_alpaca()
    assert OrderRequest.model_validate(payload) == order
    assert all(not isinstance(v, float) for v in payload.values())


def test_bracket_order_is_sent_with_its_legs_as_strings() -> None:
    """Leg prices travel as decimal strings inside take_profit and stop_loss."""
    order = OrderRequest.model_validate(VALID[7])
    payload = order.to_alpaca()
    assert payload["order_class"] == "bracket"
    assert payload["take_profit"] == {"limit_price": "220"}
    assert payload["stop_loss"] == {"stop_price": "180", "limit_price": "179.5"}


@pytest.mark.parametrize(
    ("symbol", "asset_class"), [("BTC/USD", "crypto"), ("AAPL261218C00200000", "us_option")]
)
def test_crypto_pairs_and_options_are_known_by_their_symbol_shape(symbol: str, asset_class: str) -> None:
    """A slash means a crypto pair, an OCC symbol an option."""
    assert asset_class_of(symbol) == asset_class


def test_alpaca_json_leaves_out_defaults_that_alpaca_does_not_need() -> None:
    """A simple, regular-hours order is sent without order_class, extended_hours or unset fields."""
    payload = OrderRequest.model_validate(BUY).to_alpaca()
    assert payload == {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market", "time_in_force": "day"}


def test_json_numbers_are_kept_as_exact_decimals() -> None:
    """A qty or price sent as a JSON number is parsed to the Decimal it reads as, never a float."""
    order = OrderRequest.model_validate({**BUY, "qty": 1.1, "type": "limit", "limit_price": 190.25})
    assert (order.qty, order.limit_price) == (Decimal("1.1"), Decimal("190.25"))
    assert order.to_alpaca()["qty"] == "1.1"


def test_symbol_in_the_body_is_trimmed_and_upper_cased() -> None:
    """`" aapl "` in an order body is the symbol AAPL."""
    assert OrderRequest.model_validate({**BUY, "symbol": " aapl "}).symbol == "AAPL"


@pytest.mark.parametrize(
    ("body", "fractional"),
    [
        (BUY, False),
        ({**BUY, "qty": "1.5"}, True),
        ({"symbol": "AAPL", "side": "buy", "notional": "10"}, True),
    ],
)
def test_order_is_fractional_when_its_qty_is_not_whole_or_it_names_a_notional(
    body: dict[str, Any], fractional: bool
) -> None:
    """A notional order or a qty with a fraction is fractional; a whole qty is not."""
    assert OrderRequest.model_validate(body).is_fractional is fractional


def test_fingerprint_ignores_the_client_order_id_but_not_the_order() -> None:
    """The same order under two keys has one fingerprint; another qty has another."""
    order = OrderRequest.model_validate(BUY)
    assert order.with_client_order_id("a").fingerprint() == order.with_client_order_id("b").fingerprint()
    assert OrderRequest.model_validate({**BUY, "qty": "2"}).fingerprint() != order.fingerprint()


def test_with_client_order_id_keys_the_order_for_alpaca() -> None:
    """The idempotency key becomes the client_order_id Alpaca receives."""
    keyed = OrderRequest.model_validate(BUY).with_client_order_id("tv-42")
    assert keyed.to_alpaca()["client_order_id"] == "tv-42"
