"""Each error of the seed's list produced by a real cause, always as JSON in the seed's format."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.gateway import seed_shapes as seed
from tests.gateway.conftest import READER_TOKEN, call_entry
from tests.support.env import DEV_TOKEN, TRADING_NOW
from tests.support.sandbox import upstream_requests

pytestmark = pytest.mark.usefixtures("gateway")

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


def test_malformed_json_body_is_400_invalid_json(sandbox: Any) -> None:
    """A body that is not JSON is a 400 invalid_json and reaches no broker."""
    before = upstream_requests(sandbox)
    reply = call_entry("place_order", "POST", data='{"symbol": "AAPL", "qty": ')
    assert reply.status == 400, reply.text
    seed.assert_error(reply.body, 400, "invalid_json")
    assert upstream_requests(sandbox) == before


def test_json_array_body_is_400(sandbox: Any) -> None:
    """A JSON body that is not an object is a 400 invalid_json."""
    reply = call_entry("place_order", "POST", data="[1, 2, 3]")
    assert reply.status == 400, reply.text
    seed.assert_error(reply.body, 400, "invalid_json")


def test_missing_token_is_401(sandbox: Any) -> None:
    """A request with no credentials is a 401 and costs no broker request."""
    before = upstream_requests(sandbox)
    reply = call_entry("get_account", token=None)
    assert reply.status == 401, reply.text
    seed.assert_error(reply.body, 401, "missing_token")
    assert upstream_requests(sandbox) == before


def test_unknown_token_is_401_without_a_hint(sandbox: Any) -> None:
    """An unknown bearer token is a 401 whose message does not echo the token."""
    reply = call_entry("get_account", token="not-a-registered-token")
    assert reply.status == 401, reply.text
    seed.assert_error(reply.body, 401, "invalid_token")
    assert "not-a-registered-token" not in reply.text


def test_token_in_the_query_string_is_accepted_on_a_webhook_route(sandbox: Any) -> None:
    """Senders that cannot set headers may put the token in the query of POST /orders."""
    sandbox.set_clock(TRADING_NOW)
    reply = call_entry("place_order", "POST", token=None, query={"token": DEV_TOKEN}, json_body=ORDER)
    assert reply.status == 200, reply.text


@pytest.mark.parametrize("target", ["get_clock", "get_risk", "list_audit"])
def test_token_in_the_query_string_is_refused_off_the_webhook_routes(sandbox: Any, target: str) -> None:
    """A query token is for webhook senders only: other routes, admin ones included, answer 401."""
    reply = call_entry(target, token=None, query={"token": DEV_TOKEN})
    assert reply.status == 401, reply.text
    seed.assert_error(reply.body, 401, "missing_token")


def test_unknown_token_in_the_body_is_401(sandbox: Any) -> None:
    """A wrong token in a webhook body is a 401 like a wrong header."""
    reply = call_entry("place_order", "POST", token=None, json_body={**ORDER, "token": "guess"})
    assert reply.status == 401, reply.text
    seed.assert_error(reply.body, 401, "invalid_token")


def test_read_only_token_may_read_but_not_trade(market_open: Any) -> None:
    """A caller with only the read scope gets the account but a 403 on placing an order, sent nowhere."""
    assert call_entry("get_account", token=READER_TOKEN).status == 200
    before = upstream_requests(market_open)
    reply = call_entry("place_order", "POST", token=READER_TOKEN, json_body=ORDER)
    assert reply.status == 403, reply.text
    seed.assert_error(reply.body, 403, "insufficient_scope")
    assert upstream_requests(market_open) == before


def test_order_beyond_buying_power_is_403_from_the_broker(market_open: Any) -> None:
    """The broker's insufficient buying power refusal is our 403 insufficient_buying_power."""
    market_open.set_price("AAPL", "1000.00")
    reply = call_entry("place_order", "POST", json_body={**ORDER, "qty": "100000"})
    assert reply.status == 403, reply.text
    seed.assert_error(reply.body, 403, "insufficient_buying_power")


def test_unknown_order_is_404(sandbox: Any) -> None:
    """Cancelling an unknown order id is a 404 in the error format."""
    reply = call_entry("cancel_order", "DELETE", f"/api/alpaca/orders/{uuid.uuid4()}")
    assert reply.status == 404, reply.text
    seed.assert_error(reply.body, 404)


def test_closing_a_position_not_held_is_404(sandbox: Any) -> None:
    """Closing a symbol with no position is a 404 position_not_found."""
    reply = call_entry("close_position", "POST", "/api/alpaca/positions/TSLA/close")
    assert reply.status == 404, reply.text
    seed.assert_error(reply.body, 404, "position_not_found")


def test_broker_429s_that_outlast_retries_become_429_with_retry_after(sandbox: Any) -> None:
    """When every attempt gets a broker 429 the caller gets a 429 with a Retry-After header."""
    sandbox.fault(method="GET", path="/v2/account", status=429, count=20, reset_after_seconds=1)
    reply = call_entry("get_account")
    assert reply.status == 429, reply.text
    seed.assert_error(reply.body, 429, "rate_limited")
    assert int(reply.headers["Retry-After"]) >= 1
    faults = sandbox.stats()["keys"][sandbox.key]["faults"]
    assert faults >= 2, "the GET was retried before giving up"


def test_broker_429_once_is_retried_into_a_200(sandbox: Any) -> None:
    """One broker 429 on a GET is absorbed by a retry; the caller sees the account."""
    sandbox.fault(method="GET", path="/v2/account", status=429, count=1, reset_after_seconds=1)
    reply = call_entry("get_account")
    assert reply.status == 200, reply.text
    seed.assert_shape(reply.body, seed.ACCOUNT)


class Exploding(httpx.BaseTransport):
    """A transport that fails with a programming error, not an httpx one."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise KeyError("internal detail APCA-API-SECRET-KEY=leak")


def test_unexpected_exception_is_a_generic_500_without_trace(make_gateway: Any) -> None:
    """An exception we did not foresee answers a plain 500 internal_error: no trace, no detail."""
    make_gateway(http=httpx.Client(transport=Exploding()))
    reply = call_entry("get_account", headers={"X-Request-Id": "crash-1"})
    assert reply.status == 500, reply.text
    seed.assert_error(reply.body, 500, "internal_error")
    assert reply.body["request_id"] == "crash-1"
    for leak in ("Traceback", "KeyError", "leak", "APCA", 'File "'):
        assert leak not in reply.text
    assert reply.headers["Content-Type"].startswith("application/json")


def test_wrong_method_is_405_json(sandbox: Any) -> None:
    """GET on the place_order function is a JSON 405 naming the allowed method."""
    reply = call_entry("place_order", "GET")
    assert reply.status == 405, reply.text
    seed.assert_error(reply.body, 405, "method_not_allowed")
    assert "POST" in reply.body["message"]


def test_body_over_the_limit_is_413(sandbox: Any) -> None:
    """A body larger than MAX_BODY_BYTES is refused with 413 before it is parsed or sent on."""
    before = upstream_requests(sandbox)
    big = json.dumps({**ORDER, "client_order_id": "x" * (70 * 1024)})
    reply = call_entry("place_order", "POST", data=big)
    assert reply.status == 413, reply.text
    seed.assert_error(reply.body, 413, "payload_too_large")
    assert upstream_requests(sandbox) == before


def test_cors_preflight_allows_the_route_method_without_a_token(sandbox: Any) -> None:
    """OPTIONS from a browser answers 204 with the allowed method and headers, no token needed."""
    reply = call_entry(
        "place_order",
        "OPTIONS",
        token=None,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert reply.status == 204, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] in {"*", "https://app.example.com"}
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    allowed = reply.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


@pytest.mark.parametrize("entry_point", ["list_orders", "place_order"])
def test_cors_preflight_allows_every_method_of_a_shared_path(sandbox: Any, entry_point: str) -> None:
    """GET and POST /orders are two functions; a browser may send its preflight to either one."""
    headers = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    reply = call_entry(entry_point, "OPTIONS", token=None, headers=headers)
    assert {"GET", "POST"} <= set(reply.headers["Access-Control-Allow-Methods"].split(", "))


def test_cors_headers_are_on_errors_too(sandbox: Any) -> None:
    """A browser can read a 401: the CORS origin header is on error answers as well."""
    reply = call_entry("get_account", token=None, headers={"Origin": "https://app.example.com"})
    assert reply.status == 401
    assert reply.headers["Access-Control-Allow-Origin"] in {"*", "https://app.example.com"}


def test_request_id_is_echoed_on_success_and_on_error(sandbox: Any) -> None:
    """X-Request-Id comes back as a header, and in the body of an error."""
    ok = call_entry("get_clock", headers={"X-Request-Id": "req-ok-42"})
    assert ok.status == 200
    assert ok.headers["X-Request-Id"] == "req-ok-42"
    failed = call_entry("get_clock", token=None, headers={"X-Request-Id": "req-err-43"})
    assert failed.headers["X-Request-Id"] == "req-err-43"
    assert failed.body["request_id"] == "req-err-43"


def test_a_request_id_is_made_up_when_none_is_sent(sandbox: Any) -> None:
    """Without X-Request-Id the answer still carries one, the same in header and body."""
    reply = call_entry("get_clock", token=None)
    assert reply.headers["X-Request-Id"]
    assert reply.body["request_id"] == reply.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("target", "method", "kwargs", "status"),
    [
        ("get_account", "GET", {"token": None}, 401),
        ("list_orders", "GET", {"query": {"status": "x"}}, 400),
        ("place_order", "POST", {"data": "nope"}, 400),
        ("place_order", "PUT", {}, 405),
        ("cancel_order", "DELETE", {"path": "/api/alpaca/orders/does-not-exist"}, 404),
        (
            "close_position",
            "POST",
            {"path": "/api/alpaca/positions/AAPL/close", "json_body": {"qty": "-1"}},
            400,
        ),
    ],
)
def test_errors_are_always_json(
    sandbox: Any, target: str, method: str, kwargs: dict[str, Any], status: int
) -> None:
    """Every error is application/json in the seed's format, never HTML."""
    path = kwargs.pop("path", "/")
    reply = call_entry(target, method, path, **kwargs)
    assert reply.status == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "<html" not in reply.text.lower()
    seed.assert_error(reply.body, status)
