"""A method a path does not serve is a JSON 405 with an `Allow` header (README, "Endpoints"), whatever the
method; the local server is a real process. TRACE is tested here rather than by schemathesis's
unsupported-method cases (test_schemathesis.py), where one missing header would fail every operation first
and hide whatever else the run finds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contract.conftest import AUTH, LocalServer

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "TRACE")
EXAMPLES = {
    "order_id": "00000000-0000-4000-8000-000000000000",
    "symbol": "AAPL",
    "dead_letter_id": "0" * 32,
}


def undeclared(document: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """(method, path, declared methods) for every method of METHODS a path of the document does not serve."""
    found = []
    for template, operations in document["paths"].items():
        path = template.format(**EXAMPLES)
        declared = {method.upper() for method in operations}
        found += [(method, path, declared) for method in METHODS if method not in declared]
    return found


def test_every_undeclared_method_is_a_json_405_with_allow(
    local_server: LocalServer, served_document: dict[str, Any]
) -> None:
    wrong = []
    cases = undeclared(served_document)
    assert cases
    with httpx.Client(base_url=local_server.url, headers=AUTH, timeout=20.0) as client:
        for method, path, declared in cases:
            response = client.request(method, path)
            allow = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            is_json = response.headers.get("Content-Type", "").startswith("application/json")
            body = response.json() if is_json else response.text
            if (
                response.status_code != 405
                or not declared <= allow
                or not isinstance(body, dict)
                or (body.get("error"), body.get("code")) != ("method_not_allowed", 405)
            ):
                wrong.append(f"{method} {path}: {response.status_code}, Allow {sorted(allow)}, {body!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", ["/api/alpaca/orders", "/api/alpaca/orders/abc", "/api/alpaca/risk"])
def test_options_is_a_cors_preflight_not_an_unsupported_method(local_server: LocalServer, path: str) -> None:
    """Why OPTIONS is no unexpected method for schemathesis: every path answers the preflight with 204."""
    response = httpx.options(
        local_server.url + path,
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
        timeout=20.0,
    )
    assert response.status_code == 204
    assert "OPTIONS" in response.headers["Access-Control-Allow-Methods"]
