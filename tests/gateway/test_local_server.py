"""The seed's Complete Trading Workflow against the local gateway server, a real process over HTTP."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.stack import Service, answers, free_port, spawn
from tests.gateway import seed_shapes as seed
from tests.support.env import DEV_TOKEN, GENEROUS_BUDGET, TRADING_NOW, gateway_env

BASE = "/api/alpaca"


@pytest.fixture(scope="module")
def server_process(
    sandbox_service: Service, firestore_emulator: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """`python -m infra.gateway_server` pointed at the sandbox and the emulator, logging to a file."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    project = f"local-{uuid.uuid4().hex[:10]}"
    env = gateway_env(sandbox_service.url, firestore_emulator, project, RATE_LIMIT_PER_MINUTE=GENEROUS_BUDGET)
    service = spawn(
        f"gateway-{port}",
        [sys.executable, "-m", "infra.gateway_server", "--port", str(port)],
        url,
        answers(f"{url}{BASE}/clock", lambda r: r.status_code in {200, 401}),
        env=env,
        log_dir=tmp_path_factory.mktemp("gateway-log"),
    )
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def local_server(server_process: Service) -> str:
    """The local server's base URL."""
    return server_process.url


@pytest.fixture
def api(local_server: str) -> Iterator[httpx.Client]:
    """An HTTP client on the local server, authenticated as the seed's curl commands would be."""
    headers = {"Authorization": f"Bearer {DEV_TOKEN}"}
    with httpx.Client(base_url=local_server + BASE, headers=headers, timeout=20.0) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.method} {response.request.url}: {response.text}"
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_complete_trading_workflow_from_the_seed(api: httpx.Client, sandbox: Any) -> None:
    """Clock, account, market order, orders, positions, close: every seed field present and typed."""
    sandbox.set_clock(TRADING_NOW, frozen=True)

    clock = ok(api.get("/clock"))  # 1. Check Market Status
    seed.assert_shape(clock, seed.CLOCK)
    assert clock["is_open"] is True

    account = ok(api.get("/account"))  # 2. Get Account Information
    seed.assert_shape(account, seed.ACCOUNT)

    order = ok(  # 3. Place a Market Order
        api.post(
            "/orders",
            json={"symbol": "AAPL", "qty": "10", "side": "buy", "type": "market", "time_in_force": "day"},
        )
    )
    seed.assert_shape(order, seed.ORDER_PLACED)
    assert (order["symbol"], order["qty"], order["side"], order["type"]) == ("AAPL", "10", "buy", "market")

    open_orders = ok(api.get("/orders"))  # 4. Check Order Status
    seed.assert_list_of(open_orders, seed.ORDER)
    every = ok(api.get("/orders", params={"status": "all"}))
    seed.assert_list_of(every, seed.ORDER)
    ours = next(o for o in every if o["id"] == order["id"])
    assert ours["client_order_id"] == order["client_order_id"]
    assert ours["status"] == "filled" or ours in open_orders

    positions = ok(api.get("/positions"))  # 5. Monitor Positions
    seed.assert_list_of(positions, seed.POSITION)
    (aapl,) = [p for p in positions if p["symbol"] == "AAPL"]
    assert aapl["qty"] == "10" and aapl["side"] == "long"

    closed = ok(api.post("/positions/AAPL/close"))  # 6. Close Position
    seed.assert_shape(closed, seed.CLOSE_POSITION)
    assert (closed["symbol"], closed["side"], closed["quantity"]) == ("AAPL", "sell", "10")
    assert [p for p in ok(api.get("/positions")) if p["symbol"] == "AAPL"] == []


def test_seed_curl_without_a_token_is_a_json_401(local_server: str) -> None:
    """The seed's bare curl (no credentials) is refused with a JSON 401, never served anonymously."""
    response = httpx.get(f"{local_server}{BASE}/account", timeout=10.0)
    assert response.status_code == 401
    seed.assert_error(response.json(), 401, "missing_token")


def test_unknown_route_is_a_json_404(api: httpx.Client) -> None:
    """A path no route matches answers a JSON 404, not Flask's HTML page."""
    response = api.get("/no-such-thing")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    seed.assert_error(response.json(), 404)
    outside = httpx.get(str(api.base_url).replace(BASE, "/elsewhere"), timeout=10.0)
    assert outside.status_code == 404
    seed.assert_error(outside.json(), 404)


def test_wrong_method_on_a_known_path_is_a_json_405(api: httpx.Client) -> None:
    """DELETE /account is a JSON 405 with an Allow header naming GET."""
    response = api.delete("/account")
    assert response.status_code == 405
    seed.assert_error(response.json(), 405)
    assert "GET" in response.headers["Allow"]


def test_request_id_and_cors_pass_through_the_local_server(api: httpx.Client) -> None:
    """The local server keeps the entry point's X-Request-Id echo and CORS headers."""
    response = api.get("/clock", headers={"X-Request-Id": "local-7", "Origin": "https://app.example.com"})
    assert response.headers["X-Request-Id"] == "local-7"
    assert response.headers["Access-Control-Allow-Origin"] in {"*", "https://app.example.com"}
    preflight = api.options(
        "/orders/abc",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"},
    )
    assert preflight.status_code == 204
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
    shared_path = api.options(
        "/orders", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert shared_path.status_code == 204
    assert "POST" in shared_path.headers["Access-Control-Allow-Methods"], "GET and POST share /orders"


def test_openapi_document_lists_every_route(api: httpx.Client) -> None:
    """GET openapi.json describes the nine public routes."""
    document = ok(api.get("/openapi.json"))
    paths = document["paths"]
    for path, method in [
        ("/account", "get"),
        ("/positions", "get"),
        ("/positions/{symbol}/close", "post"),
        ("/orders", "get"),
        ("/orders", "post"),
        ("/orders/{order_id}", "delete"),
        ("/trades", "get"),
        ("/clock", "get"),
        ("/config", "get"),
    ]:
        key = path if path in paths else BASE + path
        assert method in paths[key], (path, method)


def test_access_line_names_the_path_but_never_a_query_token(server_process: Service) -> None:
    """A webhook's `?token=` never reaches the log: the access line holds the path without its query."""
    secret = "query-token-that-must-not-be-logged"
    httpx.post(f"{server_process.url}{BASE}/orders?token={secret}&x=1", json={}, timeout=20.0)
    log = server_process.log_tail(200)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("route") == "POST /orders"]
    assert access[-1]["httpRequest"]["requestUrl"] == "/api/alpaca/orders"
    assert secret not in log


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{BASE}/openapi.json", 200),
        ("GET", f"{BASE}/no-such-route", 404),
        ("GET", "/elsewhere", 404),
        ("PATCH", f"{BASE}/orders", 405),
        ("TRACE", f"{BASE}/account", 405),
    ],
)
def test_every_answer_carries_the_callers_request_id(
    local_server: str, method: str, path: str, status: int
) -> None:
    """The id the caller sent comes back on the document, unknown routes and wrong methods too."""
    response = httpx.request(method, local_server + path, headers={"X-Request-Id": "rid-42"}, timeout=20.0)
    assert (response.status_code, response.headers.get("X-Request-Id")) == (status, "rid-42")
