"""GET and PUT /risk answer what their own OpenAPI schema declares, formats checked (real local server)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator

from functions.routes import BASE_PATH

# OAS31Validator.FORMAT_CHECKER is built from jsonschema's global registry, where the draft-3 `time` rule
# (HH:MM:SS, no offset) is registered last, so it would pass "09:30:00" as `format: time`. OpenAPI 3.1 means
# JSON Schema 2020-12 formats (RFC 3339 full-time, offset required): take those, plus OpenAPI's own formats.
FORMATS = FormatChecker(formats=())
FORMATS.checkers = {**OAS31Validator.FORMAT_CHECKER.checkers, **Draft202012Validator.FORMAT_CHECKER.checkers}

WINDOW = {"start": "09:30", "end": "16:00", "days": ["mon", "tue", "wed", "thu", "fri"]}


def media_schema(section: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = section["content"]["application/json"]["schema"]
    return schema


def response_schema(document: dict[str, Any], method: str, status: int = 200) -> dict[str, Any]:
    operation = document["paths"][f"{BASE_PATH}/risk"][method]
    return media_schema(operation["responses"][str(status)])


def request_schema(document: dict[str, Any]) -> dict[str, Any]:
    return media_schema(document["paths"][f"{BASE_PATH}/risk"]["put"]["requestBody"])


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """An OpenAPI 3.1 schema validator with format checking; `#/components/...` resolves in the document."""
    root = {**schema, "components": document["components"]}
    OAS31Validator.check_schema(root)
    return OAS31Validator(root, format_checker=FORMATS)


def assert_conforms(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    errors = sorted(validator(document, schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def put_risk(api: httpx.Client, document: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    assert_conforms(document, request_schema(document), body)  # what we send is a documented request
    response = api.put("/risk", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer: dict[str, Any] = response.json()
    assert_conforms(document, response_schema(document, "put"), answer)
    return answer


def get_risk(api: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    response = api.get("/risk")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert_conforms(document, response_schema(document, "get"), answer)
    return answer


@pytest.fixture(autouse=True)
def no_window_after(api: httpx.Client) -> Any:
    """Each test leaves the module's settings without a trading window."""
    yield
    api.put("/risk", json={"trading_window": None})


def test_the_validator_checks_formats(served_document: dict[str, Any]) -> None:
    """The format checker is on: the old `format: time` schema refuses the old "09:30:00" answer."""
    old = {"type": "string", "format": "time"}
    with pytest.raises(ValidationError):
        validator(served_document, old).validate("09:30:00")
    validator(served_document, old).validate("09:30:00Z")


def window_times(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The `start` and `end` schemas of the trading window inside a RiskSettings schema (refs followed)."""

    def deref(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return node

    window = deref(schema)["properties"]["trading_window"]
    (branch,) = [deref(b) for b in window.get("anyOf", [window]) if deref(b).get("type") == "object"]
    return {name: deref(branch["properties"][name]) for name in ("start", "end")}


def test_trading_window_times_are_documented_as_hh_mm(served_document: dict[str, Any]) -> None:
    """Answers say HH:MM (a pattern, no RFC 3339 `format: time`); requests may also say HH:MM:SS."""
    for method in ("get", "put"):
        for time in window_times(served_document, response_schema(served_document, method)).values():
            assert time["type"] == "string" and "format" not in time
            assert time["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    for time in window_times(served_document, request_schema(served_document)).values():
        assert time["type"] == "string" and "format" not in time
        assert time["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def test_get_risk_answers_its_schema(api: httpx.Client, served_document: dict[str, Any]) -> None:
    """The live settings, as GET /risk answers them, validate against GET's declared 200 schema."""
    get_risk(api, served_document)


def test_put_risk_with_a_trading_window_answers_its_schema(
    api: httpx.Client, served_document: dict[str, Any]
) -> None:
    """PUT with a window answers it as HH:MM, and so does the GET after it; both match their schemas."""
    put = put_risk(api, served_document, {"trading_window": WINDOW})
    assert put["trading_window"] == WINDOW
    got = get_risk(api, served_document)
    assert got["trading_window"] == WINDOW


def test_put_risk_accepts_seconds_and_answers_minutes(
    api: httpx.Client, served_document: dict[str, Any]
) -> None:
    """HH:MM:SS is accepted (what the gateway answered before); the answer is HH:MM, seconds dropped."""
    body = {"trading_window": {"start": "09:30:00", "end": "15:45:30", "days": ["Monday", "fri"]}}
    put = put_risk(api, served_document, body)
    assert put["trading_window"] == {"start": "09:30", "end": "15:45", "days": ["mon", "fri"]}
    assert get_risk(api, served_document)["trading_window"] == put["trading_window"]


def test_put_risk_with_every_field_answers_its_schema(
    api: httpx.Client, served_document: dict[str, Any]
) -> None:
    """Every setting at once, decimals as a string and as a number, a window across midnight."""
    body = {
        "trading_state": "reducing",
        "symbol_allowlist": ["aapl", "msft"],
        "symbol_denylist": ["gme"],
        "allowed_asset_classes": ["us_equity"],
        "max_order_notional": "2500.50",
        "max_position_notional": 10000,
        "trading_window": {"start": "22:00", "end": "02:00", "days": ["sun", "mon"]},
        "max_orders_per_minute": 5,
    }
    put = put_risk(api, served_document, body)
    assert put["trading_window"] == {"start": "22:00", "end": "02:00", "days": ["sun", "mon"]}
    assert (put["max_order_notional"], put["max_position_notional"]) == ("2500.50", "10000")
    get_risk(api, served_document)
    put_risk(
        api,
        served_document,
        {
            "trading_state": "active",
            "symbol_allowlist": [],
            "symbol_denylist": [],
            "allowed_asset_classes": [],
            "max_order_notional": None,
            "max_position_notional": None,
            "max_orders_per_minute": None,
        },
    )


@pytest.mark.parametrize("bad", ["9:30", "24:00", "09:30:00+05:00", "09:30:00.5", "0930", 930])
def test_put_risk_refuses_other_time_forms_with_a_documented_400(
    api: httpx.Client, served_document: dict[str, Any], bad: Any
) -> None:
    """Anything but HH:MM or HH:MM:SS is a 400 whose body matches the declared error schema."""
    response = api.put("/risk", json={"trading_window": {"start": bad, "end": "16:00"}})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and body["code"] == 400
    assert_conforms(served_document, response_schema(served_document, "put", 400), body)
