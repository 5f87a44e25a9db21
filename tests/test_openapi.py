"""The OpenAPI document: generated from the route table, committed, and served by the local server."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from functions.openapi import document, render
from functions.routes import BASE_PATH, ROUTES
from infra.gateway_server import create_app

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.json"


def test_committed_openapi_document_is_up_to_date() -> None:
    """`make openapi` output matches the committed file; regenerate it when routes or models change."""
    assert COMMITTED.read_text() == render(), "openapi.json is stale: run `make openapi`"


def test_every_route_has_an_operation_with_its_scope() -> None:
    """Each route of the table appears once, with its entry point as operationId and its scope."""
    paths = document()["paths"]
    for route in ROUTES:
        operation = paths[BASE_PATH + route.path][route.method.lower()]
        assert operation["operationId"] == route.entry_point
        assert operation["x-required-scope"] == route.scope.value
        assert [p["name"] for p in operation["parameters"] if p["in"] == "path"] == list(route.params)


def test_component_schemas_are_valid_json_schema() -> None:
    """Every component schema is valid JSON Schema 2020-12, the dialect of OpenAPI 3.1."""
    for schema in document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_local_server_serves_the_document_without_auth() -> None:
    """GET /api/alpaca/openapi.json answers the document with no token."""
    response = create_app().test_client().get(f"{BASE_PATH}/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.data) == document()
