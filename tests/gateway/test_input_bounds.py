"""Bounds on every number and string at the edge: plain decimals only, strict JSON, JSON media type,
a tame request id, and a caller registry checked once when it is loaded. Nothing refused reaches the
broker."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.gateway import seed_shapes as seed
from tests.gateway.conftest import call_entry, entry_client
from tests.support.env import DEV_TOKEN, TRADING_NOW
from tests.support.sandbox import upstream_requests

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
LIMIT = {**ORDER, "type": "limit", "limit_price": "100"}
MALFORMED_DECIMALS = ["1_000", "١٢", " 1 ", "1E+30", "1e309", "NaN", "Infinity", "0x10", "1.", ".5", "+1", ""]


@pytest.fixture
def trading(gateway: Any, sandbox: Any) -> Any:
    """The default gateway, with the sandbox frozen in regular hours."""
    sandbox.set_clock(TRADING_NOW, frozen=True)
    return sandbox


def refused(sandbox: Any, send: Callable[[], Any]) -> Any:
    """Send, and prove the answer is a JSON error that cost no broker request."""
    before = upstream_requests(sandbox)
    reply = send()
    assert 400 <= reply.status < 500, reply.text
    seed.assert_error(reply.body, reply.status)
    assert upstream_requests(sandbox) == before
    return reply


@pytest.mark.parametrize("value", MALFORMED_DECIMALS)
@pytest.mark.parametrize("field", ["qty", "limit_price"])
def test_malformed_decimal_string_is_refused_before_the_broker(trading: Any, field: str, value: str) -> None:
    """Only plain ASCII decimals pass: separators, other digits, spaces, exponents and NaN are 400."""
    reply = refused(trading, lambda: call_entry("place_order", "POST", json_body={**LIMIT, field: value}))
    assert (reply.status, reply.body["error"]) == (400, "invalid_number")


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("qty", "1E+30"),
        ("qty", "1e309"),
        ("limit_price", "1E+30"),
        ("limit_price", "1e309"),
        ("notional", "1E+30"),
        ("qty", "0.0000000001"),
        ("qty", "NaN"),
        ("limit_price", "Infinity"),
        ("qty", "true"),
    ],
)
def test_out_of_range_json_number_is_refused_before_the_broker(trading: Any, field: str, raw: str) -> None:
    """Huge, over-precise and non-finite JSON numbers are 400, never a 500 nor a broker request."""
    body = json.dumps({k: v for k, v in LIMIT.items() if k != field})[:-1] + f', "{field}": {raw}}}'
    reply = refused(trading, lambda: call_entry("place_order", "POST", data=body))
    assert reply.status == 400


def test_exact_json_number_is_sent_as_the_same_decimal(trading: Any) -> None:
    """A JSON number is parsed as a decimal, never a float: 0.1 + 0.2 style drift cannot happen."""
    body = '{"symbol": "AAPL", "side": "buy", "type": "limit", "qty": 3, "limit_price": 100.10}'
    reply = call_entry("place_order", "POST", data=body)
    assert reply.status == 200, reply.text
    assert (reply.body["qty"], reply.body["limit_price"]) == ("3", "100.1")


@pytest.mark.parametrize("percentage", ["0", "-5", "100.5", "1e2", "abc", "NaN"])
def test_close_percentage_outside_zero_to_hundred_is_400(trading: Any, percentage: str) -> None:
    """Close percentage is a plain decimal in (0, 100]; anything else is 400 invalid_percentage."""
    path = "/api/alpaca/positions/AAPL/close"
    send = lambda: call_entry("close_position", "POST", path, json_body={"percentage": percentage})  # noqa: E731
    assert refused(trading, send).body["error"] == "invalid_percentage"


def test_close_sends_the_normalised_quantity(trading: Any) -> None:
    """`qty: "2.50"` reaches the broker as 2.5, parsed as a Decimal, not as the raw string or a float."""
    call_entry("place_order", "POST", json_body={**ORDER, "qty": "5"})
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/AAPL/close", query={"qty": "2.50"})
    assert (reply.status, reply.body["quantity"]) == (200, "2.5"), reply.text


def test_close_with_qty_and_percentage_is_refused_before_any_audit_write(trading: Any, db: Any) -> None:
    """Both sizes at once is a 400 invalid_close that writes no audit event."""
    path = "/api/alpaca/positions/AAPL/close"
    body = {"qty": "1", "percentage": "50"}
    reply = refused(trading, lambda: call_entry("close_position", "POST", path, json_body=body))
    assert reply.body["error"] == "invalid_close"
    assert list(db.collection("audit").stream()) == []


def test_deeply_nested_json_is_400_invalid_json(trading: Any) -> None:
    """Nesting past the limit, or deep enough to exhaust the decoder's recursion, is a 400."""
    for depth in (20, 20000):
        body = '{"symbol": "AAPL", "x": ' + "[" * depth + "]" * depth + "}"
        reply = refused(trading, lambda body=body: call_entry("place_order", "POST", data=body))
        assert reply.body["error"] == "invalid_json"


def test_duplicate_keys_in_a_json_object_are_400(trading: Any) -> None:
    """`{"qty": "1", "qty": "1000"}` is ambiguous: refused, not resolved to the last value."""
    body = '{"symbol": "AAPL", "side": "buy", "qty": "1", "qty": "1000"}'
    reply = refused(trading, lambda: call_entry("place_order", "POST", data=body))
    assert (reply.status, reply.body["error"]) == (400, "duplicate_json_key")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_body_that_is_not_declared_json_is_415(trading: Any, content_type: str | None) -> None:
    """A JSON route takes only application/json bodies; anything else is 415."""
    headers = {"Content-Type": content_type} if content_type else {}
    client_headers = {"Authorization": f"Bearer {DEV_TOKEN}", **headers}
    response = entry_client("place_order").post("/", data=json.dumps(ORDER), headers=client_headers)
    assert response.status_code == 415
    seed.assert_error(response.get_json(), 415, "unsupported_media_type")


@pytest.mark.parametrize("given", ["x" * 65, "caf\u00e9", "a b", "del\x7f", ""])
def test_unruly_request_id_is_replaced_by_a_fresh_one(trading: Any, given: str) -> None:
    """X-Request-Id is echoed only when it is short printable ASCII without spaces."""
    headers = {"Authorization": f"Bearer {DEV_TOKEN}", "X-Request-Id": given}
    response = entry_client("get_clock").get("/", headers=headers)
    echoed = response.headers["X-Request-Id"]
    assert echoed != given and len(echoed) == 32


def test_tame_request_id_is_echoed(trading: Any) -> None:
    """A short printable id is kept, so a caller can correlate its own logs."""
    reply = call_entry("get_clock", headers={"X-Request-Id": "tv-alert-7:42"})
    assert reply.headers["X-Request-Id"] == "tv-alert-7:42"


MALFORMED_REGISTRIES = [
    [{"name": "tv", "token_sha256": "0" * 64, "scopes": ["trade"], "max_orders_per_minute": "10"}],
    [{"name": "tv", "token_sha256": "0" * 64, "scopes": ["superuser"]}],
    [{"name": "tv", "token_sha256": "not-hex", "scopes": ["read"]}],
    [{"name": "tv", "token_sha256": "0" * 64, "scopes": ["read"], "max_order_per_minute": 5}],
    {"callers": "tv"},
]


@pytest.mark.parametrize("registry", MALFORMED_REGISTRIES)
def test_malformed_caller_registry_is_one_clear_configuration_error(
    make_gateway: Callable[..., Any], sandbox: Any, registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every request answers 500 caller_registry_invalid (naming nothing secret); the log says which
    entry and field, once."""
    make_gateway({"GATEWAY_CALLERS": json.dumps(registry), "GATEWAY_DEV_TOKEN": None})
    with caplog.at_level(logging.ERROR, logger="execution_engine"):
        replies = [call_entry("get_clock", token="anything") for _ in range(3)]
    assert {(r.status, r.body["error"]) for r in replies} == {(500, "caller_registry_invalid")}
    logged = [r.getMessage() for r in caplog.records if "caller registry" in r.getMessage()]
    assert len(logged) == 1
    assert "entry" in logged[0] or "list" in logged[0]
