"""The OpenAPI 3.1 document, generated from the route table and the pydantic models."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from functions.routes import BASE_PATH, ROUTES, Route
from shared.models import ErrorBody

VERSION = "1.0.0"
REF = "#/components/schemas/{model}"

_QUERY_TYPES: dict[str, dict[str, Any]] = {
    "status": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "qty": {"type": "string", "description": "Shares to close, up to 9 decimals"},
    "percentage": {"type": "string", "description": "Percent of the position to close, 0-100"},
    "since": {"type": "string", "format": "date-time"},
}


def _collect(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF, mode="serialization")
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _error_responses(route: Route) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}}
    codes = {"400": "Invalid request", "401": "Missing or unknown token", "403": "Forbidden"}
    codes |= {"404": "Not found", "429": "Rate limited (see Retry-After)", "500": "Internal error"}
    codes |= {"502": "Broker error", "503": "Unavailable (see Retry-After)", "504": "Broker timeout"}
    if route.request is not None:
        codes["413"] = "Body too large"
        codes["422"] = "Breaks an order rule"
    return {code: {"description": text, **error} for code, text in codes.items()}


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.params
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": _QUERY_TYPES.get(name, {"type": "string"})}
        for name in route.query
    ]
    ok: dict[str, Any] = {"description": "OK"}
    if route.response is not None:
        ref = _collect(route.response, schemas)
        ok["content"] = {
            "application/json": {"schema": {"type": "array", "items": ref} if route.many else ref}
        }
    operation: dict[str, Any] = {
        "operationId": route.entry_point,
        "summary": route.summary,
        "x-required-scope": route.scope.value,
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": {"200": ok, **_error_responses(route)},
    }
    if route.request is not None:
        schema = _collect(route.request, schemas)
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return operation


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    _collect(ErrorBody, schemas)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(BASE_PATH + route.path, {})[route.method.lower()] = _operation(route, schemas)
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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
