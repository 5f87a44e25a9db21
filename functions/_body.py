"""Reading a request body: JSON only, bounded in size and depth, no duplicate keys, numbers exact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import flask

from shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_DEPTH = 8  # an order with its legs is 2 deep; nothing we accept needs more


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise BadRequest(f"the key {key!r} appears twice in one object", reason="duplicate_json_key")
        found[key] = value
    return found


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (the decoder already bounded it by the body size)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def _is_json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def decode(raw: bytes) -> dict[str, Any]:
    """A JSON object; numbers with a fraction or exponent become Decimal, never float."""
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_object)
    except RecursionError as exc:
        raise BadRequest("the body is nested too deeply", reason="invalid_json") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadRequest("the body is not valid JSON", reason="invalid_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", reason="invalid_json")
    if _depth(data) > MAX_DEPTH:
        raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels", reason="invalid_json")
    return data


@dataclass(frozen=True)
class Body:
    raw: bytes  # as sent: what a signature covers
    data: dict[str, Any]


def read_body(request: flask.Request, limit: int) -> Body:
    """The JSON object of a request ({} for an empty body); 413 over `limit`, 415 if it is not JSON."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    if not raw.strip():
        return Body(raw, {})
    if not _is_json(request.headers.get("Content-Type")):
        raise UnsupportedMediaType("send the body as application/json", reason="unsupported_media_type")
    return Body(raw, decode(raw))
