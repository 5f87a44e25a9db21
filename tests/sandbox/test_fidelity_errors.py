"""Error fidelity: each rejected request answers the status, code, message and extra fields of the fact sheet.

Statuses and codes follow `/work/shared/alpaca/api-facts.md` §2 and §5; where the sheet records more
than one observed wording, any of them is accepted. Every coded error body must also fit the spec's
`Error` schema (`code` number + `message` string).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from infra.stack import start_sandbox
from tests.sandbox.fidelity_support import (
    component_errors,
    dec,
    fill_market,
    new_client_order_id,
    open_market,
    set_price,
    submit,
    trading_client,
)

INVALID = 40010001
UNPROCESSABLE = 42210000
FORBIDDEN = 40310000
NOT_FOUND = 40410000


@pytest.fixture
def http(sandbox: Any) -> Iterator[httpx.Client]:
    """Plain httpx on the sandbox with the market open and AAPL at $200, MSFT at $100."""
    open_market(sandbox)
    with sandbox.client() as client:
        set_price(sandbox, client, "AAPL", "200.00")
        set_price(sandbox, client, "MSFT", "100.00")
        yield client


def assert_error(response: httpx.Response, status: int, code: int | set[int], message: str) -> dict[str, Any]:
    """Assert status, numeric code (one of a set, where the sheet records several) and a message regex."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    codes = code if isinstance(code, set) else {code}
    assert body.get("code") in codes, f"expected code {sorted(codes)}: {body}"
    assert isinstance(body.get("message"), str) and re.fullmatch(message, body["message"]), (
        f"message {body.get('message')!r} does not match {message!r}"
    )
    errors = component_errors("Error", body)
    assert not errors, f"error body violates the spec's Error schema: {errors}"
    return body


def market(symbol: str, qty: str, side: str, **extra: Any) -> dict[str, Any]:
    return {"symbol": symbol, "qty": qty, "side": side, "type": "market", "time_in_force": "day", **extra}


def limit(symbol: str, qty: str, side: str, price: str, **extra: Any) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "qty": qty,
        "side": side,
        "type": "limit",
        "time_in_force": "day",
        "limit_price": price,
        **extra,
    }


# ------------------------------------------------------------------ 401


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            {"APCA-API-KEY-ID": "not-a-key", "APCA-API-SECRET-KEY": "sandbox-secret"}, id="unknown-key"
        ),
        pytest.param(
            {"APCA-API-KEY-ID": "sandbox-key", "APCA-API-SECRET-KEY": "wrong-secret"}, id="wrong-secret"
        ),
        pytest.param({}, id="no-credentials"),
    ],
)
def test_bad_credentials_are_rejected_with_401_unauthorized(sandbox: Any, headers: dict[str, str]) -> None:
    """A bad or missing key pair gets 401 with Alpaca's `unauthorized.` body (no code, or 40110000)."""
    response = httpx.get(f"{sandbox.url}/v2/account", headers=headers, timeout=10.0)
    assert response.status_code == 401, response.text
    body = response.json()
    assert re.fullmatch(r"unauthorized\.?|request is unauthorized.*", body.get("message", "")), body
    assert body.get("code", 40110000) == 40110000


def test_alpaca_py_surfaces_bad_key_as_api_error_401(sandbox: Any) -> None:
    """alpaca-py raises APIError with status_code 401 for a wrong key (after no retries)."""
    client = TradingClient(api_key="not-a-key", secret_key="nope", url_override=sandbox.url)
    client._retry_wait = 0
    with pytest.raises(APIError) as error:
        client.get_account()
    assert error.value.status_code == 401


# ------------------------------------------------------------------ 404

MISSING_ORDER = str(uuid.UUID(int=0x1234))


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        pytest.param(
            "GET",
            f"/v2/orders/{MISSING_ORDER}",
            {},
            rf"order not found( for {MISSING_ORDER})?",
            id="get-order",
        ),
        pytest.param(
            "DELETE",
            f"/v2/orders/{MISSING_ORDER}",
            {},
            rf"order not found( for {MISSING_ORDER})?",
            id="cancel-order",
        ),
        pytest.param(
            "PATCH",
            f"/v2/orders/{MISSING_ORDER}",
            {"json": {"qty": "1"}},
            rf"order not found( for {MISSING_ORDER})?",
            id="replace-order",
        ),
        pytest.param(
            "GET",
            "/v2/orders:by_client_order_id",
            {"params": {"client_order_id": "never-sent"}},
            r"order not found( for never-sent)?",
            id="by-client-order-id",
        ),
        pytest.param("GET", "/v2/positions/AAPL", {}, r"position does not exist", id="get-position"),
        pytest.param("DELETE", "/v2/positions/AAPL", {}, r"position does not exist", id="close-position"),
        pytest.param("GET", "/v2/assets/ZZZZZQ", {}, r"asset not found( for ZZZZZQ)?", id="asset"),
    ],
)
def test_unknown_resources_are_404_not_found(
    http: httpx.Client, method: str, path: str, kwargs: dict[str, Any], message: str
) -> None:
    """Unknown order ids, client order ids, positions and assets answer 404 with code 40410000."""
    assert_error(http.request(method, path, **kwargs), 404, NOT_FOUND, message)


def test_alpaca_py_api_error_carries_404_code_for_a_missing_order(sandbox: Any, http: httpx.Client) -> None:
    """alpaca-py's APIError exposes status_code 404 and code 40410000 for an unknown order id."""
    with pytest.raises(APIError) as error:
        trading_client(sandbox).get_order_by_id(MISSING_ORDER)
    assert error.value.status_code == 404
    assert error.value.code == NOT_FOUND


# ------------------------------------------------------------------ 422 order validation

SUB_PENNY = "sub-penny increment does not fulfill minimum pricing criteria"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        pytest.param(
            market("AAPL", "1", "buy", notional="100"),
            INVALID,
            r"only one of qty or notional is accepted",
            id="qty-and-notional",
        ),
        pytest.param(
            {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"},
            INVALID,
            r"qty or notional is required",
            id="neither-qty-nor-notional",
        ),
        pytest.param(
            market("AAPL", "1", "buy", client_order_id="x" * 129),
            INVALID,
            r"client_order_id must be no more than 128 characters",
            id="client-order-id-129-chars",
        ),
        pytest.param(
            limit("AAPL", "1", "buy", "290.123"),
            UNPROCESSABLE,
            rf"invalid limit_price 290\.123\. {SUB_PENNY}",
            id="sub-penny-limit",
        ),
        pytest.param(
            {**market("AAPL", "1", "buy"), "type": "stop", "stop_price": "250.125"},
            UNPROCESSABLE,
            rf"invalid stop_price 250\.125\. {SUB_PENNY}",
            id="sub-penny-stop",
        ),
        pytest.param(
            {**market("AAPL", "1", "buy"), "type": "limit"},
            {INVALID, UNPROCESSABLE},
            r".*limit[_ ]price.*",
            id="limit-without-limit-price",
        ),
        pytest.param(
            market("AAPL", "1", "buy", extended_hours=True),
            UNPROCESSABLE,
            r"extended hours order must be DAY (or GTC )?limit orders",
            id="extended-hours-market",
        ),
        pytest.param(
            {**market("AAPL", "1.5", "buy"), "time_in_force": "gtc"},
            UNPROCESSABLE,
            r"fractional orders must be DAY orders",
            id="fractional-qty-gtc",
        ),
        pytest.param(
            {"symbol": "AAPL", "notional": "100", "side": "buy", "type": "market", "time_in_force": "gtc"},
            UNPROCESSABLE,
            r"fractional orders must be DAY orders",
            id="notional-gtc",
        ),
        pytest.param(
            market("AAPL", "1", "buy", order_class="bracket", stop_loss={"stop_price": "150"}),
            INVALID,
            r"bracket orders require take_profit\.limit_price",
            id="bracket-without-take-profit",
        ),
        pytest.param(
            {"symbol": "AAPL", "notional": "0.5", "side": "buy", "type": "market", "time_in_force": "day"},
            {INVALID, UNPROCESSABLE},
            r"notional must be >= 1(\.00)?",
            id="notional-below-one-dollar",
        ),
        pytest.param(
            market("BRK.A", "0.5", "buy"),
            UNPROCESSABLE,
            r'requested asset is not fractionable|asset "BRK\.A" is not fractionable',
            id="fractional-on-non-fractionable",
        ),
        pytest.param(
            limit(
                "AAPL",
                "1.5",
                "buy",
                "190",
                order_class="bracket",
                take_profit={"limit_price": "230"},
                stop_loss={"stop_price": "170"},
            ),
            UNPROCESSABLE,
            r"fractional orders must be simple orders",
            id="fractional-bracket",
        ),
        pytest.param(
            market("ZZZZZQ", "1", "buy"),
            UNPROCESSABLE,
            r'asset "ZZZZZQ" not found',
            id="unknown-symbol",
        ),
    ],
)
def test_invalid_orders_are_rejected_with_422(
    http: httpx.Client, body: dict[str, Any], code: int | set[int], message: str
) -> None:
    """Each invalid order answers 422 with the fact sheet's code and message, and creates no order."""
    assert_error(http.post("/v2/orders", json=body), 422, code, message)
    assert http.get("/v2/orders", params={"status": "all"}).json() == []


@pytest.mark.parametrize(
    ("take_profit", "stop_loss", "message"),
    [
        pytest.param(
            "200.00", "190.00", r"take_profit\.limit_price must be >= base_price \+ 0\.01", id="take-profit"
        ),
        pytest.param(
            "210.00", "200.00", r"stop_loss\.stop_price must be <= base_price - 0\.01", id="stop-loss"
        ),
    ],
)
def test_bracket_leg_too_close_to_base_price_is_422_with_base_price(
    http: httpx.Client, take_profit: str, stop_loss: str, message: str
) -> None:
    """A buy bracket whose exit leg is not a cent beyond the base price is 422 and reports base_price."""
    body = limit(
        "AAPL",
        "1",
        "buy",
        "200.00",
        time_in_force="gtc",
        order_class="bracket",
        take_profit={"limit_price": take_profit},
        stop_loss={"stop_price": stop_loss},
    )
    error = assert_error(http.post("/v2/orders", json=body), 422, UNPROCESSABLE, message)
    assert "base_price" in error, error
    assert abs(dec(error["base_price"]) - Decimal(200)) <= 1


def test_duplicate_client_order_id_is_422_must_be_unique(http: httpx.Client) -> None:
    """Reusing a client_order_id, even after the first order is gone, is 422 `must be unique`."""
    coid = new_client_order_id()
    first = submit(http, **limit("AAPL", "1", "buy", "150", client_order_id=coid))
    assert_error(
        http.post("/v2/orders", json=limit("AAPL", "1", "buy", "151", client_order_id=coid)),
        422,
        INVALID,
        r"client_order_id must be unique",
    )
    assert http.delete(f"/v2/orders/{first['id']}").status_code == 204
    assert_error(
        http.post("/v2/orders", json=limit("AAPL", "1", "buy", "152", client_order_id=coid)),
        422,
        INVALID,
        r"client_order_id must be unique",
    )


def test_cancel_of_filled_order_is_422_already_filled(sandbox: Any, http: httpx.Client) -> None:
    """DELETE on a filled order is 422 `order is already in "filled" state`; alpaca-py raises 422."""
    order = fill_market(sandbox, http, "AAPL", "1", "buy", "200.00")
    assert_error(
        http.delete(f"/v2/orders/{order['id']}"), 422, UNPROCESSABLE, r'order is already in "filled" state'
    )
    with pytest.raises(APIError) as error:
        trading_client(sandbox).cancel_order_by_id(order["id"])
    assert error.value.status_code == 422


def test_replace_of_a_filled_order_is_422_not_open(sandbox: Any, http: httpx.Client) -> None:
    """PATCH on a filled order is 422 `unable to replace order, order is not open`."""
    order = fill_market(sandbox, http, "AAPL", "1", "buy", "200.00")
    assert_error(
        http.patch(f"/v2/orders/{order['id']}", json={"qty": "2"}),
        422,
        UNPROCESSABLE,
        r"unable to replace order, order is not open",
    )


# ------------------------------------------------------------------ 403 trading rules


def test_buy_beyond_buying_power_is_403_with_buying_power_and_cost_basis(http: httpx.Client) -> None:
    """A $2M buy on a $400k buying power account is 403 and reports buying_power and cost_basis."""
    buying_power = dec(http.get("/v2/account").json()["buying_power"])
    body = assert_error(
        http.post("/v2/orders", json=market("AAPL", "10000", "buy")),
        403,
        FORBIDDEN,
        r"insufficient buying power",
    )
    assert isinstance(body.get("buying_power"), str) and isinstance(body.get("cost_basis"), str), body
    assert dec(body["buying_power"]) == buying_power
    assert dec(body["cost_basis"]) >= Decimal(10000) * Decimal(200)


@pytest.mark.parametrize(
    ("body", "rejected"),
    [
        pytest.param(market("AAPL", "1990", "buy"), True, id="market-buy-398k-plus-collar"),
        pytest.param(limit("AAPL", "1990", "buy", "200.00"), False, id="limit-buy-398k"),
        pytest.param(market("AAPL", "1950", "sell"), True, id="market-short-390k-at-ask-plus-3pct"),
        pytest.param(
            limit("AAPL", "1945", "sell", "201.00"), True, id="limit-short-391k-but-ask-plus-3pct-401k"
        ),
        pytest.param(limit("AAPL", "1900", "sell", "205.00"), False, id="limit-short-391k-at-ask-plus-3pct"),
    ],
)
def test_buying_power_check_prices_market_orders_with_a_collar(
    http: httpx.Client, body: dict[str, Any], rejected: bool
) -> None:
    """Market buys are checked at a 2.5-4% collar and shorts at max(limit, ask x 1.03) against $400k."""
    response = http.post("/v2/orders", json=body)
    if rejected:
        error = assert_error(response, 403, FORBIDDEN, r"insufficient buying power")
        assert dec(error["cost_basis"]) > dec(error["buying_power"]) == Decimal(400000)
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        pytest.param("POST", "/v2/orders", {"json": market("AAPL", "5", "sell")}, id="market-sell"),
        pytest.param("DELETE", "/v2/positions/AAPL", {}, id="close-position"),
    ],
)
def test_selling_shares_held_by_open_orders_is_403_insufficient_qty(
    sandbox: Any, http: httpx.Client, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    """With all 10 shares held by a resting sell, selling more is 403 with available/existing/held fields."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "200.00")
    submit(http, **limit("AAPL", "10", "sell", "300", time_in_force="gtc"))
    body = assert_error(
        http.request(method, path, **kwargs),
        403,
        FORBIDDEN,
        r"insufficient qty available for order \(requested: (5|10), available: 0\)",
    )
    assert all(isinstance(body.get(k), str) for k in ("available", "existing_qty", "held_for_orders")), body
    assert (dec(body["available"]), dec(body["existing_qty"]), dec(body["held_for_orders"])) == (0, 10, 10)
    assert body.get("symbol") == "AAPL"


def test_short_sale_of_hard_to_borrow_asset_is_403(sandbox: Any, http: httpx.Client) -> None:
    """Selling short an asset that is not easy to borrow is 403 `cannot be sold short`."""
    assets = http.get("/v2/assets", params={"status": "active"}).json()
    htb = [a for a in assets if a["tradable"] and a["shortable"] and not a["easy_to_borrow"]]
    assert htb, "the sandbox universe should hold at least one hard-to-borrow equity to test this rule"
    symbol = htb[0]["symbol"]
    set_price(sandbox, http, symbol, "20.00")
    assert_error(
        http.post("/v2/orders", json=market(symbol, "1", "sell")),
        403,
        FORBIDDEN,
        rf'asset "?{re.escape(symbol)}"? cannot be sold short',
    )


@pytest.mark.parametrize(
    ("opening", "flip"),
    [
        pytest.param(("AAPL", "10", "buy", "200.00"), market("AAPL", "15", "sell"), id="long-to-short"),
        pytest.param(("MSFT", "5", "sell", "100.00"), market("MSFT", "10", "buy"), id="short-to-long"),
    ],
)
def test_order_that_would_flip_the_position_is_403(
    sandbox: Any, http: httpx.Client, opening: tuple[str, str, str, str], flip: dict[str, Any]
) -> None:
    """A single order crossing through zero (long to short or short to long) is 403 and changes nothing."""
    fill_market(sandbox, http, *opening)
    assert_error(http.post("/v2/orders", json=flip), 403, FORBIDDEN, r".+")
    position = http.get(f"/v2/positions/{opening[0]}").json()
    assert abs(dec(position["qty"])) == dec(opening[1])


@pytest.mark.parametrize(
    ("resting", "new", "message"),
    [
        pytest.param(
            limit("AAPL", "1", "sell", "250", time_in_force="gtc"),
            limit("AAPL", "1", "buy", "150"),
            r"cannot open a long buy while a short sell order is open",
            id="buy-while-short-sell-open",
        ),
        pytest.param(
            limit("AAPL", "1", "buy", "150", time_in_force="gtc"),
            limit("AAPL", "1", "sell", "250"),
            r"cannot open a short sell while a long buy order is open",
            id="short-while-buy-open",
        ),
    ],
)
def test_opposite_side_opening_order_on_flat_position_is_403(
    http: httpx.Client, resting: dict[str, Any], new: dict[str, Any], message: str
) -> None:
    """With no position, an opening order opposite to a resting opening order is 403."""
    submit(http, **resting)
    assert_error(http.post("/v2/orders", json=new), 403, FORBIDDEN, message)


@pytest.mark.parametrize(
    ("sell", "rejected"),
    [
        pytest.param(market("AAPL", "5", "sell"), True, id="market-sell-vs-buy-limit"),
        pytest.param(limit("AAPL", "5", "sell", "185"), True, id="sell-limit-below-buy-limit"),
        pytest.param(limit("AAPL", "5", "sell", "190"), True, id="sell-limit-equal-buy-limit"),
        pytest.param(limit("AAPL", "5", "sell", "195"), False, id="sell-limit-above-buy-limit"),
    ],
)
def test_wash_trade_against_own_resting_order_is_403(
    sandbox: Any, http: httpx.Client, sell: dict[str, Any], rejected: bool
) -> None:
    """A sell that could trade against the account's resting buy limit is 403; a non-crossing one passes."""
    fill_market(sandbox, http, "AAPL", "10", "buy", "200.00")
    submit(http, **limit("AAPL", "5", "buy", "190", time_in_force="gtc"))
    response = http.post("/v2/orders", json=sell)
    if rejected:
        assert_error(response, 403, FORBIDDEN, r"potential wash trade detected\. use complex orders")
    else:
        assert response.status_code == 200, response.text


# ------------------------------------------------------------------ 429


def test_rate_limit_answers_429_with_rate_limit_headers_and_recovers() -> None:
    """Past the limit: 429 with X-RateLimit-* headers; alpaca-py gives up after retries; it recovers."""
    service = start_sandbox(rate_limit=5, rate_window=3)
    try:
        headers = {"APCA-API-KEY-ID": "sandbox-key", "APCA-API-SECRET-KEY": "sandbox-secret"}
        with httpx.Client(base_url=service.url, headers=headers, timeout=10.0) as http:
            started = time.time()
            for used in range(1, 6):
                ok = http.get("/v2/clock")
                assert ok.status_code == 200, ok.text
                assert ok.headers.get("X-RateLimit-Limit") == "5"
                assert ok.headers.get("X-RateLimit-Remaining") == str(5 - used)
                assert int(ok.headers["X-RateLimit-Reset"]) >= int(started)

            limited = http.get("/v2/account")
            assert limited.status_code == 429
            assert limited.json() == {"code": 42910000, "message": "rate limit exceeded"}
            assert limited.headers.get("X-RateLimit-Limit") == "5"
            assert limited.headers.get("X-RateLimit-Remaining") == "0"
            reset = int(limited.headers["X-RateLimit-Reset"])
            assert started - 1 <= reset <= time.time() + 4, "Reset is the epoch second the window frees up"

            client = TradingClient(
                api_key="sandbox-key", secret_key="sandbox-secret", url_override=service.url
            )
            client._retry_wait = 0
            with pytest.raises(APIError) as error:
                client.get_clock()
            assert error.value.status_code == 429

            stats = httpx.get(f"{service.url}/_sandbox/stats", timeout=10.0).json()["keys"]["sandbox-key"]
            assert stats["rate_limited"] == 1 + 4, "one plain 429 plus alpaca-py's four attempts"
            assert stats["max_in_window"] == 5

            time.sleep(min(max(reset - time.time(), 0.0), 4.0) + 0.3)
            deadline = time.monotonic() + 4.0
            recovered = http.get("/v2/clock")
            while recovered.status_code == 429 and time.monotonic() < deadline:
                time.sleep(0.5)
                recovered = http.get("/v2/clock")
            assert recovered.status_code == 200
    finally:
        service.stop()
