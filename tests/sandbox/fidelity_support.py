"""Shared helpers for the sandbox fidelity suites: market time, prices, fills and the OpenAPI schemas."""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from alpaca.trading.client import TradingClient
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path("/work/shared/alpaca/trading-api.json")
SPEC_URI = "urn:alpaca:trading-api"

# Tuesday 2026-11-17 10:00 ET: regular trading hours on a normal trading day.
TRADING_NOW = "2026-11-17T15:00:00Z"

OPEN_STATUSES = {"new", "accepted", "pending_new", "held", "partially_filled", "accepted_for_bidding"}


def open_market(sandbox: Any, now: str = TRADING_NOW) -> None:
    """Freeze the sandbox clock inside regular trading hours."""
    sandbox.set_clock(now, frozen=True)


def trading_client(sandbox: Any) -> TradingClient:
    """alpaca-py's TradingClient pointed at the sandbox, validating every answer, with no retry sleeps."""
    client = TradingClient(api_key=sandbox.key, secret_key=sandbox.secret, url_override=sandbox.url)
    client._retry_wait = 0
    return client


def dec(value: Any) -> Decimal:
    """A Decimal from a JSON string or number (numbers go through str to keep their short form)."""
    return Decimal(str(value))


def quote(http: httpx.Client, symbol: str) -> tuple[Decimal, Decimal]:
    """(bid, ask) of the latest quote from the sandbox's market-data subset."""
    response = http.get(f"/v2/stocks/{symbol}/quotes/latest")
    assert response.status_code == 200, response.text
    body = response.json()
    q = body.get("quote", body)
    return dec(q["bp"]), dec(q["ap"])


def set_price(sandbox: Any, http: httpx.Client, symbol: str, price: str) -> tuple[Decimal, Decimal]:
    """Set a symbol's price and return the resulting (bid, ask)."""
    sandbox.set_price(symbol, price)
    return quote(http, symbol)


def get_order(http: httpx.Client, order_id: str, nested: bool = False) -> dict[str, Any]:
    params = {"nested": "true"} if nested else None
    response = http.get(f"/v2/orders/{order_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for_status(
    sandbox: Any,
    http: httpx.Client,
    order_id: str,
    statuses: Iterable[str],
    nudge: tuple[str, str] | None = None,
    tries: int = 8,
) -> dict[str, Any]:
    """Poll an order until its status is one of `statuses`.

    Between polls the order book is re-evaluated without moving the quote: `nudge` = (symbol, price)
    re-sets the same price, which the sandbox contract says evaluates open orders.
    """
    wanted = set(statuses)
    order = get_order(http, order_id)
    delay = 0.02
    for _ in range(tries):
        if order["status"] in wanted:
            return order
        if nudge is not None:
            sandbox.set_price(*nudge)
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
        order = get_order(http, order_id)
    assert order["status"] in wanted, f"order {order_id} stayed {order['status']!r}, wanted {sorted(wanted)}"
    return order


def submit(http: httpx.Client, **body: Any) -> dict[str, Any]:
    """POST /v2/orders, asserting the documented 200."""
    response = http.post("/v2/orders", json=body)
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    order: dict[str, Any] = response.json()
    return order


def fill_market(
    sandbox: Any, http: httpx.Client, symbol: str, qty: str, side: str, price: str
) -> dict[str, Any]:
    """Set the price, send a market order and wait until it is filled."""
    sandbox.set_price(symbol, price)
    order = submit(http, symbol=symbol, qty=qty, side=side, type="market", time_in_force="day")
    return wait_for_status(sandbox, http, order["id"], {"filled"}, nudge=(symbol, price))


def new_client_order_id(prefix: str = "fid") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


# ------------------------------------------------------------------ OpenAPI schemas


@functools.cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return document


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT4)
    return Registry().with_resource(SPEC_URI, resource)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (e.g. to components/responses) within the document."""
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _validator(pointer: str) -> OAS30Validator:
    return OAS30Validator(
        {"$ref": SPEC_URI + pointer}, registry=_registry(), format_checker=oas30_format_checker
    )


def schema_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Every violation of the documented response schema, as readable lines (empty when valid)."""
    operation = spec()["paths"][path][method.lower()]
    raw = operation["responses"][str(status)]
    if "$ref" in raw:
        pointer = raw["$ref"] + "/content/application~1json/schema"
    else:
        pointer = "#/" + _pointer("paths", path, method.lower(), "responses", str(status))
        pointer += "/content/application~1json/schema"
    response = _resolve(raw)
    assert "application/json" in response.get("content", {}), (
        f"the spec has no JSON body for {method} {path} {status}"
    )
    validator = _validator(pointer)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def component_errors(name: str, body: Any) -> list[str]:
    """Violations of `components/schemas/<name>`."""
    validator = _validator("#/" + _pointer("components", "schemas", name))
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def assert_matches_spec(response: httpx.Response, method: str, path: str) -> Any:
    """Assert the response's status is documented for the operation and its body fits that schema."""
    operation = spec()["paths"][path][method.lower()]
    assert str(response.status_code) in operation["responses"], (
        f"{method} {path} answered {response.status_code}, the spec documents "
        f"{sorted(operation['responses'])}: {response.text[:300]}"
    )
    body = response.json()
    errors = schema_errors(method, path, response.status_code, body)
    assert not errors, f"{method} {path} {response.status_code} violates the spec:\n" + "\n".join(errors)
    return body
