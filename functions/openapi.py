"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

Every model is generated in one pass (`models_json_schema`), so the component schemas are pydantic's own
`$defs`: a self-referencing model (an order's `legs`) is one schema whose property refers to itself, and a
model shared by several routes is defined once. Response bodies are described as they are serialised and
request bodies as they are validated (decimals may be numbers there); a model whose two forms differ gets
pydantic's `-Input` and `-Output` names (`RiskSettings-Input`, the body of PUT /risk).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions.inputs import NoInput
from functions.routes import BASE_PATH, PARAM_SCHEMAS, ROUTES, Route
from shared.auth.callers import Scope
from shared.models import ErrorBody
from shared.orders.outcomes import UNRESOLVED_AT_BROKER, UNRESOLVED_NOT_PLACED

VERSION = "1.0.0"
REF = "#/components/schemas/{model}"

# POST /orders: the idempotency key when the body has no client_order_id (README, "At most once").
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The order's idempotency key (sent to Alpaca as client_order_id) when the body has none",
    "schema": {"type": "string", "maxLength": 128},
}
# POST /flatten: a repeat of the key answers the first run and does nothing else.
_FLATTEN_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A repeat of this key answers the first flatten's run and does nothing else",
    "schema": {"type": "string", "maxLength": 128},
}
_UNRESOLVED_ORDER = {
    "type": "object",
    "description": "The broker's answer was lost: the order is recorded; a repeat of its key settles it",
    "required": ["status", "client_order_id"],
    "properties": {
        "status": {"const": "unresolved"},
        "reason": {"enum": [UNRESOLVED_AT_BROKER[0], UNRESOLVED_NOT_PLACED[0]]},
        "client_order_id": {"type": "string"},
        "message": {"type": "string"},
        "request_id": {"type": "string"},
    },
}


Refs = Mapping[tuple[type[Any], JsonSchemaMode], dict[str, Any]]


def _schemas() -> tuple[Refs, dict[str, Any]]:
    """The `$ref` of every (model, mode) the routes use, and the component schemas they point to."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for route in ROUTES:
        if route.response_model is not None:
            wanted.append((route.response_model, "serialization"))
        if route.body_model is not None and route.body_model is not NoInput:
            wanted.append((route.body_model, "validation"))
    refs, definitions = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    for name, schema in schemas.items():
        if name.endswith(("-Input", "-Output")):
            schema["title"] = name  # generated clients name models by title: the two forms must differ
    return refs, schemas


def _error_responses(route: Route, refs: Refs) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}}
    codes = {"400": "Invalid request", "401": "Missing or unknown token", "403": "Forbidden"}
    codes |= {"404": "Not found", "429": "Rate limited (see Retry-After)", "500": "Internal error"}
    codes |= {"502": "Broker error", "503": "Unavailable (see Retry-After)", "504": "Broker timeout"}
    if route.body is not None:
        codes["413"] = "Body too large"
        codes["415"] = "Body is not JSON"
    if route.body is not None or route.scope is Scope.TRADE:
        codes["422"] = "Breaks an order rule, or the order is no longer cancelable"
    if route.entry_point == "place_order":
        codes["409"] = "Idempotency key in flight or reused for a different order (see Retry-After)"
    if route.entry_point == "flatten_now":
        codes["409"] = "The market is closed (market_closed)"
    return {code: {"description": text, **error} for code, text in sorted(codes.items())}


def _accepted(route: Route) -> dict[str, Any]:
    """POST /orders answers 202 when the broker's answer was lost (README, "Lost answers")."""
    if route.entry_point != "place_order":
        return {}
    unresolved = {"application/json": {"schema": {"$ref": REF.format(model="UnresolvedOrder")}}}
    return {"202": {"description": "Outcome unknown; recorded, settled later", "content": unresolved}}


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """One parameter per field of the route's query model, typed as the model validates it."""
    if model is None:
        return []
    properties = model.model_json_schema(mode="validation").get("properties", {})
    parameters = []
    for name, schema in properties.items():
        schema = dict(schema)
        schema.pop("title", None)
        options = [o for o in schema.pop("anyOf", []) if o.get("type") != "null"]
        if options:
            schema = {**(options[0] if len(options) == 1 else {"anyOf": options}), **schema}
        if schema.get("default", "") is None:
            del schema["default"]  # not given means not given; null is no query value
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        if name in getattr(model, "EMPTY_MEANS_UNSET", frozenset()):
            parameter["allowEmptyValue"] = True
        parameters.append(parameter)
    return parameters


def _operation(route: Route, refs: Refs) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PARAM_SCHEMAS[name]} for name in route.params
    ]
    parameters += _query_parameters(route.query_model)
    if route.entry_point == "place_order":
        parameters.append(_IDEMPOTENCY_KEY)
    if route.entry_point == "flatten_now":
        parameters.append(_FLATTEN_KEY)
    ok: dict[str, Any] = {"description": "OK"}
    if route.response_model is not None:
        ref = refs[(route.response_model, "serialization")]
        ok["content"] = {
            "application/json": {"schema": {"type": "array", "items": ref} if route.many else ref}
        }
    operation: dict[str, Any] = {
        "operationId": route.entry_point,
        "summary": route.summary,
        "x-required-scope": route.scope.value,
        "security": [{"bearer": []}, {"signature": []}],
        "parameters": parameters,
        "responses": {"200": ok, **_accepted(route), **_error_responses(route, refs)},
    }
    if route.body_model is not None:
        schema = refs[(route.body_model, "validation")]
        # An empty body is read as {}: it may be left out when the model requires no field (PUT /risk).
        required = bool(route.body_model.model_json_schema(mode="validation").get("required"))
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": schema}},
        }
    return operation


def document() -> dict[str, Any]:
    refs, schemas = _schemas()
    schemas["UnresolvedOrder"] = _UNRESOLVED_ORDER
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(BASE_PATH + route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Execution Engine API",
            "version": VERSION,
            "description": "A trading gateway in front of the Alpaca Trading API. Errors are "
            '`{"error", "message", "code"}` with a stable snake_case `error`.',
        },
        "servers": [{"url": "http://127.0.0.1:8001"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Signature",
                    "description": 'keyId=<caller>,t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<METHOD>.'
                    "<path>.<body>\"> with the caller's signing secret (README, Calling the API)",
                },
            },
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
