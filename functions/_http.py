"""The endpoint decorator: request id, CORS, auth, body limits, parsing and error mapping."""

from __future__ import annotations

import json
import logging
import re
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import flask
from pydantic import BaseModel, ValidationError
from pydantic_core import core_schema

from functions._body import read_body
from functions.routes import Route, route_for
from shared.app import Gateway, gateway
from shared.auth.callers import Caller
from shared.errors import (
    BadRequest,
    GatewayError,
    MethodNotAllowed,
    NotFound,
    Unprocessable,
)

log = logging.getLogger("execution_engine")

Handler = Callable[["Call"], Any]
REQUEST_ID = "X-Request-Id"
REQUEST_ID_FORM = re.compile(r"[\x21-\x7e]{1,64}")
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
    if kind.startswith("invalid_") and kind not in PYDANTIC_ERROR_TYPES:
        return BadRequest(text, reason=kind)  # malformed input we name (a symbol, a number)
    if kind not in PYDANTIC_ERROR_TYPES:
        return Unprocessable(text, reason=kind)
    return BadRequest(text, reason="invalid_request")


def raw_path(request: flask.Request) -> str:
    """The request path as sent, still percent-encoded, so an encoded `/` stays inside its segment."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return quote(request.path)
    return urlsplit(raw).path or "/"


def request_id_of(request: flask.Request) -> str:
    """The caller's X-Request-Id if it is short printable ASCII, else a fresh one."""
    given = request.headers.get(REQUEST_ID, "")
    return given if REQUEST_ID_FORM.fullmatch(given) else uuid.uuid4().hex


def _token(request: flask.Request, body: Mapping[str, Any], route: Route) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    # Webhook senders such as TradingView cannot set headers: they put the token in the body, or in
    # the query on the webhook routes only (request logs keep full URLs; the body is the safer place).
    token = body.get("token") or (request.args.get("token") if route.webhook else None)
    return str(token) if token else None


def route_errors_as_json(app: flask.Flask) -> None:
    """The router's own 404 and 405 (a path the server cannot route at all) answered as JSON errors."""

    def not_found(_: Exception) -> flask.Response:
        where = f"{flask.request.method} {flask.request.path}"
        return error_response(
            NotFound(f"no route {where}", reason="route_not_found"), request_id_of(flask.request)
        )

    def not_allowed(_: Exception) -> flask.Response:
        error = MethodNotAllowed(f"{flask.request.method} is not allowed")
        return error_response(error, request_id_of(flask.request))

    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_allowed)


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


def _path_params(route: Route, request: flask.Request) -> dict[str, str]:
    """Parameters from the path when it matches the route, else (a direct invocation) from the query
    only; never from the body. Each is checked by its type before anything else happens."""
    match = route.pattern.search(raw_path(request))
    found = {name: unquote(value) for name, value in match.groupdict().items()} if match else {}
    params: dict[str, str] = {}
    for name, check in route.params.items():
        value = found.get(name) if match else request.args.get(name)
        if not value:
            raise BadRequest(f"{name} is required", reason=f"missing_{name}")
        params[name] = check(value)
    return params


def endpoint(entry_point: str) -> Callable[[Handler], Callable[[flask.Request], flask.Response]]:
    """Turn `handler(call) -> model` into a Cloud Functions HTTP entry point for the named route."""
    route = route_for(entry_point)

    def decorate(handler: Handler) -> Callable[[flask.Request], flask.Response]:
        @wraps(handler)
        def entry(request: flask.Request) -> flask.Response:
            request_id = request_id_of(request)
            origins: tuple[str, ...] = ("*",)
            try:
                gw = gateway()
                origins = gw.settings.cors_origins
                if request.method == "OPTIONS":
                    response = preflight([route.method])
                elif request.method != route.method:
                    raise MethodNotAllowed(f"{request.method} is not allowed here; use {route.method}")
                else:
                    body = read_body(request, gw.settings.max_body_bytes)
                    caller = gw.callers.authenticate(_token(request, body, route), route.scope)
                    call = Call(
                        gateway=gw,
                        caller=caller,
                        request_id=request_id,
                        params=_path_params(route, request),
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
