"""`@endpoint(route)`: CORS, the body limit, credentials, path parameters, and the request parsed into
the route's models before the handler sees it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote, urlsplit

import flask
from pydantic import BaseModel, ValidationError

from functions._body import Body, read_body
from functions._edge import (
    bearer,
    built_settings,
    error_response,
    json_response,
    request_id_of,
    served,
    validation_error,
)
from functions.inputs import NoInput
from functions.routes import BASE_PATH, ROUTES, Route, route_for
from shared.app import gateway
from shared.auth import signatures
from shared.auth.authenticator import Presented
from shared.auth.callers import Caller
from shared.auth.signatures import SignedRequest
from shared.errors import BadRequest, MethodNotAllowed, NotFound
from shared.gateway import Gateway
from shared.logs import annotate

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
CREDENTIAL_HEADERS = ("Authorization", "X-Forwarded-Authorization", signatures.HEADER)
B = TypeVar("B", bound=BaseModel)
Q = TypeVar("Q", bound=BaseModel)


@dataclass(frozen=True)
class Call(Generic[B, Q]):
    """What a handler gets: the gateway, the authenticated caller and the parsed request."""

    gateway: Gateway
    caller: Caller
    request_id: str
    params: Mapping[str, str]
    body: B
    query: Q
    headers: Mapping[str, str]  # lower-case names


Handler = Callable[[Call[Any, Any]], Any]


def raw_path(request: flask.Request) -> str:
    """The request path as sent, still percent-encoded, so an encoded `/` stays inside its segment."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return quote(request.path)
    return urlsplit(raw).path or "/"


def public_path(route: Route, request: flask.Request) -> str:
    """The path under BASE_PATH the caller sent, with its raw query string: what a signature covers.
    Rebuilt from the route, so it holds wherever the function is mounted (API Gateway appends it)."""
    sent = raw_path(request)
    match = route.pattern.search(sent)
    values = (
        match.groupdict() if match else {n: quote(request.args.get(n, ""), safe="") for n in route.params}
    )
    path = BASE_PATH + re.sub(r"{(\w+)}", lambda m: values[m[1]], route.path)
    if sent.endswith("/") and not path.endswith("/"):
        path += "/"
    query = request.environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _loopback(request: flask.Request) -> bool:
    """From this machine, and addressed to it by name (a loopback Host defeats DNS rebinding)."""
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    host = request.host.lower()
    name = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    return peer.is_loopback and name in LOOPBACK_NAMES


def _presented(route: Route, request: flask.Request, body: Body) -> Presented:
    header = request.headers.get(signatures.HEADER)
    signed = SignedRequest(header, request.method, public_path(route, request), body.raw) if header else None
    # Webhook senders such as TradingView cannot set headers: they put the token in the body, or in
    # the query on the webhook routes only (request logs keep full URLs; the body is the safer place).
    token = body.data.get("token")
    offered = any(name in request.headers for name in CREDENTIAL_HEADERS)
    return Presented(
        forwarded=bearer(request.headers.get("X-Forwarded-Authorization")),
        authorization=bearer(request.headers.get("Authorization")),
        signature=signed,
        body_token=str(token) if token else None,
        query_token=request.args.get("token") if route.webhook else None,
        loopback=_loopback(request),
        offered=offered or "token" in body.data or "token" in request.args,
    )


def route_errors_as_json(app: flask.Flask) -> None:
    """The router's own 404 and 405 (a path the server cannot route at all) answered as JSON errors."""

    def not_found(_: Exception) -> flask.Response:
        error = NotFound(f"no route {flask.request.method} {flask.request.path}", reason="route_not_found")
        return error_response(error, request_id_of(flask.request))

    def not_allowed(exc: Exception) -> flask.Response:
        error = MethodNotAllowed(f"{flask.request.method} is not allowed")
        response = error_response(error, request_id_of(flask.request))
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_allowed)


def cors_origins() -> tuple[str, ...]:
    """The configured CORS origins; `*` while the gateway cannot be built (its error is answered anyway)."""
    settings = built_settings()
    return settings.cors_origins if settings else ("*",)


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
        "Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Signature"
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


def _query(route: Route, request: flask.Request) -> BaseModel:
    model = route.query_model or NoInput
    given = {k: v for k, v in request.args.items() if v != "" or k not in model.EMPTY_MEANS_UNSET}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        raise validation_error(exc, field_reasons=True) from exc


def _call(route: Route, request: flask.Request, gw: Gateway, request_id: str) -> Call[Any, Any]:
    raw = read_body(request, gw.settings.max_body_bytes)
    caller = gw.callers.authenticate(_presented(route, request, raw), route.scope)
    annotate(caller=caller.name)
    params = _path_params(route, request)
    query = _query(route, request)
    body = (route.body_model or NoInput).model_validate({k: v for k, v in raw.data.items() if k != "token"})
    headers = {k.lower(): v for k, v in request.headers.items()}
    return Call(gw, caller, request_id, params, body, query, headers)


def endpoint(entry_point: str) -> Callable[[Handler], Callable[[flask.Request], flask.Response]]:
    """Turn `handler(call) -> model | list | Reply` into the Cloud Functions HTTP entry point of a route."""
    route = route_for(entry_point)

    def decorate(handler: Handler) -> Callable[[flask.Request], flask.Response]:
        @wraps(handler)
        def entry(request: flask.Request) -> flask.Response:
            def work(request_id: str) -> flask.Response:
                if request.method == "OPTIONS":  # a preflight for any method of this path
                    return preflight(sorted({r.method for r in ROUTES if r.path == route.path}))
                if request.method != route.method:
                    raise MethodNotAllowed(f"{request.method} is not allowed here; use {route.method}")
                return json_response(handler(_call(route, request, gateway(), request_id)))

            response = served(request, f"{route.method} {route.path}", work)
            apply_cors(response, request, cors_origins())
            return response

        return entry

    return decorate
