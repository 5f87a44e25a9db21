"""Through the entry point, the order rules answer before any upstream call, naming the rule they apply."""

from __future__ import annotations

from typing import Any

from tests.orders.conftest import place
from tests.support.sandbox import upstream_requests

BUY = {"symbol": "AAPL", "side": "buy", "qty": "1"}


def test_broken_order_answers_422_with_the_rule_and_costs_no_upstream_call(
    gateway: Any, sandbox: Any
) -> None:
    """Through the entry point, a rule violation is a 422 naming the rule, and Alpaca is never asked."""
    before = upstream_requests(sandbox)
    reply = place({**BUY, "type": "limit", "limit_price": "10.001"})
    assert reply.status == 422
    assert reply.body["error"] == "sub_penny_price"
    assert upstream_requests(sandbox) == before


def test_malformed_order_answers_400_and_costs_no_upstream_call(gateway: Any, sandbox: Any) -> None:
    """A wrong type or unknown field is a 400 invalid_request, also before any upstream call."""
    before = upstream_requests(sandbox)
    reply = place({**BUY, "side": "sideways"})
    assert reply.status == 400
    assert reply.body["error"] == "invalid_request"
    assert upstream_requests(sandbox) == before


def test_overlong_idempotency_key_header_is_refused_by_rule(gateway: Any) -> None:
    """The Idempotency-Key becomes the client_order_id, so it obeys the 128-character rule."""
    reply = place(BUY, key="k" * 129)
    assert reply.status == 422
    assert reply.body["error"] == "client_order_id_too_long"
