"""What every adapter shares: the request id, errors as JSON with Retry-After, and failure logging."""

from __future__ import annotations

import json
import logging
import re
import time
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import flask
from pydantic import BaseModel, ValidationError
from pydantic_core import core_schema

from shared.app import gateway
from shared.config import Settings
from shared.errors import BadRequest, GatewayError, Unprocessable
from shared.logs import request_fields, trace_fields

log = logging.getLogger("execution_engine")

REQUEST_ID = "X-Request-Id"
REQUEST_ID_FORM = re.compile(r"[\x21-\x7e]{1,64}")
# Error types pydantic itself raises; any other type is one of our rules (a PydanticCustomError).
PYDANTIC_ERROR_TYPES = frozenset(typing.get_args(core_schema.ErrorType))


@dataclass(frozen=True)
class Reply:
    """A handler's answer when it is not a plain 200: a body (model, list or JSON value), status, headers."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


def request_id_of(request: flask.Request) -> str:
    """The caller's X-Request-Id if it is short printable ASCII, else a fresh one."""
    given = request.headers.get(REQUEST_ID, "")
    return given if REQUEST_ID_FORM.fullmatch(given) else uuid.uuid4().hex


def bearer(header: str | None) -> str | None:
    """The token of a `Bearer ...` header value, if it is one."""
    value = header or ""
    return (value[7:].strip() or None) if value[:7].lower() == "bearer " else None


def error_response(error: GatewayError, request_id: str) -> flask.Response:
    body = {**error.body(), "request_id": request_id}
    response = flask.Response(json.dumps(body, default=str), status=error.status, mimetype="application/json")
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after + 0.49)))
    response.headers[REQUEST_ID] = request_id
    return response


def json_response(result: Any) -> flask.Response:
    """A model, a list of models, a Reply or a JSON value, as a JSON response."""
    reply = result if isinstance(result, Reply) else Reply(result)
    payload = _as_json(reply.body)
    text = json.dumps(payload, default=str)
    response = flask.Response(text, status=reply.status, mimetype="application/json")
    response.headers.update(dict(reply.headers))
    return response


def _as_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def validation_error(exc: ValidationError, *, field_reasons: bool = False) -> GatewayError:
    """Our named checks keep their names: `invalid_*` is malformed input (400), any other custom type an
    order rule (422). Pydantic's own errors are 400 `invalid_request`, or with `field_reasons` (query
    strings) `invalid_<field>`."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    text = f"{where}: {message}" if where else message
    kind = str(first.get("type", ""))
    if kind.startswith("invalid_") and kind not in PYDANTIC_ERROR_TYPES:
        return BadRequest(text, reason=kind)
    if kind not in PYDANTIC_ERROR_TYPES:
        return Unprocessable(text, reason=kind)
    if field_reasons and first.get("loc"):
        return BadRequest(text, reason=f"invalid_{first['loc'][0]}")
    return BadRequest(text, reason="invalid_request")


def guarded(request_id: str, work: Callable[[], flask.Response]) -> flask.Response:
    """Run `work`; any failure becomes its JSON error, an unexpected one a logged, generic 500."""
    try:
        response = work()
    except GatewayError as error:
        log.info("request %s failed: %s %s", request_id, error.status, error.reason)
        response = error_response(error, request_id)
    except ValidationError as exc:
        response = error_response(validation_error(exc), request_id)
    except Exception:
        log.exception("request %s crashed", request_id)
        crash = GatewayError("an unexpected error occurred", reason="internal_error")
        response = error_response(crash, request_id)
    response.headers[REQUEST_ID] = request_id
    return response


def built_settings() -> Settings | None:
    """The instance's settings, or None while the gateway cannot be built (the request's own error
    says why)."""
    try:
        return gateway().settings
    except Exception:
        return None


def served(request: flask.Request, route: str, work: Callable[[str], flask.Response]) -> flask.Response:
    """One request: its id, its log fields (request id, route, trace), its errors as JSON, and one access
    line when answered. The line holds the path but never the query, which may carry a webhook token."""
    request_id = request_id_of(request)
    started = time.perf_counter()
    settings = built_settings()
    project = settings.google_cloud_project if settings else None
    trace = trace_fields(request.headers.get("X-Cloud-Trace-Context"), project)
    with request_fields(request_id=request_id, route=route, **trace):
        response = guarded(request_id, lambda: work(request_id))
        seconds = time.perf_counter() - started
        status = response.status_code
        http = {
            "requestMethod": request.method,
            "requestUrl": request.path[:256],
            "status": status,
            "latency": f"{seconds:.6f}s",
            "remoteIp": request.remote_addr,
            "userAgent": request.headers.get("User-Agent", "")[:256],
        }
        fields = {"status": status, "latency_ms": round(seconds * 1000, 3), "httpRequest": http}
        log.info("%s %s", route, status, extra={"fields": fields})
    return response
