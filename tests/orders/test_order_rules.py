"""The order model enforces Alpaca's rules before any upstream call, naming the rule it applies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.orders.request import OrderRequest
from tests.orders.conftest import place, upstream_post_count

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1"}

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
]


@pytest.mark.parametrize(("rule", "body"), BROKEN, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BROKEN)])
def test_order_breaking_a_rule_is_refused_naming_the_rule(rule: str, body: dict[str, Any]) -> None:
    """Each of Alpaca's order rules fails validation with an error type equal to the rule's name."""
    with pytest.raises(ValidationError) as caught:
        OrderRequest.model_validate(body)
    assert caught.value.errors()[0]["type"] == rule


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


def test_broken_order_answers_422_with_the_rule_and_costs_no_upstream_call(
    gateway: Any, sandbox: Any
) -> None:
    """Through the entry point, a rule violation is a 422 naming the rule, and Alpaca is never asked."""
    before = upstream_post_count(sandbox)
    reply = place({**BUY, "type": "limit", "limit_price": "10.001"})
    assert reply.status == 422
    assert reply.body["error"] == "sub_penny_price"
    assert upstream_post_count(sandbox) == before


def test_malformed_order_answers_400_and_costs_no_upstream_call(gateway: Any, sandbox: Any) -> None:
    """A wrong type or unknown field is a 400 invalid_request, also before any upstream call."""
    before = upstream_post_count(sandbox)
    reply = place({**BUY, "side": "sideways"})
    assert reply.status == 400
    assert reply.body["error"] == "invalid_request"
    assert upstream_post_count(sandbox) == before


def test_overlong_idempotency_key_header_is_refused_by_rule(gateway: Any) -> None:
    """The Idempotency-Key becomes the client_order_id, so it obeys the 128-character rule."""
    reply = place(BUY, key="k" * 129)
    assert reply.status == 422
    assert reply.body["error"] == "client_order_id_too_long"
