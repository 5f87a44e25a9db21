"""The endpoint decorator: request id, CORS, auth, body limits, parsing and error mapping."""

from __future__ import annotations

import json
import logging
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

import flask
from pydantic import BaseModel, ValidationError
from pydantic_core import core_schema

from functions.routes import Route, route_for
from shared.app import Gateway, gateway
from shared.auth import Caller
from shared.errors import (
    BadRequest,
    GatewayError,
    MethodNotAllowed,
    PayloadTooLarge,
    Unprocessable,
)

log = logging.getLogger("execution_engine")

Handler = Callable[["Call"], Any]
REQUEST_ID = "X-Request-Id"
# Error types pydantic itself raises; any other type is one of our rules (a PydanticCustomError).
PYDANTIC_ERROR_TYPES = frozenset(typing.get_args(core_schema.ErrorType))


@dataclass(frozen=True)
class Call:
    """What a handler gets: the gateway, the authenticated caller and the parsed request."""

    gateway: Gateway
    caller: Caller
    request_id: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, Any]
    headers: Mapping[str, str]  # lower-case names

    def int_query(self, name: str, default: int, maximum: int | None = None) -> int:
        """A positive integer query parameter; 400 `invalid_<name>` if it is not one or exceeds `maximum`."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise BadRequest(f"{name} must be an integer", reason=f"invalid_{name}") from exc
        if value < 1 or (maximum is not None and value > maximum):
            bound = f"between 1 and {maximum}" if maximum is not None else "at least 1"
            raise BadRequest(f"{name} must be {bound}", reason=f"invalid_{name}")
        return value


def error_response(error: GatewayError, request_id: str) -> flask.Response:
    body = {**error.body(), "request_id": request_id}
    response = flask.Response(json.dumps(body, default=str), status=error.status, mimetype="application/json")
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after + 0.49)))
    return response


def _json_response(
    result: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> flask.Response:
    payload = _plain(result)
    response = flask.Response(json.dumps(payload, default=str), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _plain(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_plain(item) for item in result]
    return result


def validation_error(exc: ValidationError) -> GatewayError:
    """A rule we enforce (a custom error type) is a 422 named for the rule; malformed input is a 400."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    text = f"{where}: {message}" if where else message
    kind = str(first.get("type", ""))
    if kind not in PYDANTIC_ERROR_TYPES:
        return Unprocessable(text, reason=kind)
    return BadRequest(text, reason="invalid_request")


def _read_body(request: flask.Request, limit: int) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON", reason="invalid_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", reason="invalid_json")
    return data


def _token(request: flask.Request, body: Mapping[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    # Webhook senders such as TradingView cannot set headers: they put the token in the body or query.
    token = body.get("token") or request.args.get("token")
    return str(token) if token else None


def apply_cors(response: flask.Response, request: flask.Request, origins: tuple[str, ...]) -> None:
    origin = request.headers.get("Origin")
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After, Idempotent-Replayed"


def preflight(methods: list[str]) -> flask.Response:
    """The answer to a CORS preflight for a path that accepts `methods`."""
    response = flask.Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
    response.headers["Access-Control-Allow-Headers"] = (
        "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
    )
    response.headers["Access-Control-Max-Age"] = "3600"
    return response


def _path_params(route: Route, request: flask.Request, body: Mapping[str, Any]) -> dict[str, str]:
    match = route.pattern.search(request.path)
    found = dict(match.groupdict()) if match else {}
    for name in route.params:
        # Invoked directly (no gateway path), a parameter may come in the query or the body.
        value = found.get(name) or request.args.get(name) or body.get(name)
        if not value:
            raise BadRequest(f"{name} is required", reason=f"missing_{name}")
        found[name] = str(value)
    return found


def endpoint(entry_point: str) -> Callable[[Handler], Callable[[flask.Request], flask.Response]]:
    """Turn `handler(call) -> model` into a Cloud Functions HTTP entry point for the named route."""
    route = route_for(entry_point)

    def decorate(handler: Handler) -> Callable[[flask.Request], flask.Response]:
        @wraps(handler)
        def entry(request: flask.Request) -> flask.Response:
            request_id = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
            origins: tuple[str, ...] = ("*",)
            try:
                gw = gateway()
                origins = gw.settings.cors_origins
                if request.method == "OPTIONS":
                    response = preflight([route.method])
                elif request.method != route.method:
                    raise MethodNotAllowed(f"{request.method} is not allowed here; use {route.method}")
                else:
                    body = _read_body(request, gw.settings.max_body_bytes)
                    caller = gw.callers.authenticate(_token(request, body), route.scope)
                    call = Call(
                        gateway=gw,
                        caller=caller,
                        request_id=request_id,
                        params=_path_params(route, request, body),
                        query=request.args.to_dict(),
                        body={k: v for k, v in body.items() if k != "token"},
                        headers={k.lower(): v for k, v in request.headers.items()},
                    )
                    response = _respond(handler(call))
            except GatewayError as error:
                log.info("request %s failed: %s %s", request_id, error.status, error.reason)
                response = error_response(error, request_id)
            except ValidationError as exc:
                response = error_response(validation_error(exc), request_id)
            except Exception:
                log.exception("request %s crashed", request_id)
                response = error_response(
                    GatewayError("an unexpected error occurred", reason="internal_error"), request_id
                )
            response.headers[REQUEST_ID] = request_id
            apply_cors(response, request, origins)
            return response

        return entry

    return decorate


def _respond(result: Any) -> flask.Response:
    if isinstance(result, flask.Response):
        return result
    if isinstance(result, tuple):
        return _json_response(*result)
    return _json_response(result)
