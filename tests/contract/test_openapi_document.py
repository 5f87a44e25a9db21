"""The OpenAPI document is a valid OpenAPI 3.1 document whose every reference leads to a real schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from functions.routes import BASE_PATH
from infra.gateway_server import create_app

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"
LOCAL = "#/"


def served() -> dict[str, Any]:
    """The document as the local server's route serves it (in process; no token needed)."""
    response = create_app().test_client().get(f"{BASE_PATH}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(response.data)
    return document


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(COMMITTED.read_text())
    return document


DOCUMENTS = pytest.mark.parametrize("load", [committed, served], ids=["committed", "served"])


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` value anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The target of a local JSON pointer reference (RFC 6901), or a KeyError naming what is missing."""
    assert ref.startswith(LOCAL), f"{ref}: only local references are expected"
    node: Any = document
    for raw in ref[len(LOCAL) :].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"{ref}: no {part!r}")
    return node


def is_bare_ref(schema: Any) -> bool:
    return isinstance(schema, dict) and set(schema) == {"$ref"}


@DOCUMENTS
def test_document_passes_openapi_spec_validator(load: Any) -> None:
    """openapi-spec-validator accepts the document as OpenAPI 3.1 (it used to stop on a recursion error)."""
    validate(load(), cls=OpenAPIV31SpecValidator)


@DOCUMENTS
def test_every_ref_resolves_to_a_schema_that_is_not_a_ref_to_itself(load: Any) -> None:
    """Each `$ref` names an existing schema; following bare `$ref`s never comes back to where it started."""
    document = load()
    found = sorted(set(refs(document)))
    assert found, "the document uses references"
    for ref in found:
        target = resolve(document, ref)
        assert isinstance(target, dict) and target, f"{ref} resolves to {target!r}, not a schema"
        seen = [ref]
        while is_bare_ref(target):
            nxt = target["$ref"]
            assert nxt not in seen, f"{' -> '.join([*seen, nxt])}: a reference cycle with no schema in it"
            seen.append(nxt)
            target = resolve(document, nxt)


@DOCUMENTS
def test_no_component_schema_is_a_bare_ref(load: Any) -> None:
    """Component schemas are definitions; an alias to itself was how Order used to be lost."""
    schemas = load()["components"]["schemas"]
    aliases = {name: schema["$ref"] for name, schema in schemas.items() if is_bare_ref(schema)}
    assert aliases == {}


@DOCUMENTS
def test_order_legs_refer_to_the_order_schema_itself(load: Any) -> None:
    """The self-reference of Order.legs is expressed as a property whose items are the Order component."""
    schemas = load()["components"]["schemas"]
    order = schemas["Order"]
    assert order["type"] == "object"
    assert {"id", "symbol", "status", "legs"} <= set(order["properties"])
    legs = order["properties"]["legs"]
    arrays = [branch for branch in legs.get("anyOf", [legs]) if branch.get("type") == "array"]
    assert [branch["items"] for branch in arrays] == [{"$ref": "#/components/schemas/Order"}]


def test_served_document_is_the_committed_one() -> None:
    """What the server answers is what is committed (regenerate with `make openapi`)."""
    assert served() == committed()
