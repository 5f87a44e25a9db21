"""The local gateway server: every route of the route table dispatched to its Cloud Function entry point."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import uuid
from collections.abc import Callable
from typing import Any

import flask
from cloudevents.http import from_http
from werkzeug.serving import WSGIRequestHandler, make_server

import main
from functions._http import (
    apply_cors,
    cors_origins,
    error_response,
    preflight,
    raw_path,
    request_id_of,
    route_errors_as_json,
)
from functions.openapi import document
from functions.routes import BASE_PATH, JOBS, PAGES, ROUTES, TRIGGERS, Route
from shared import logs
from shared.errors import GatewayError, MethodNotAllowed, NotFound

log = logging.getLogger(logs.LOGGER)
EntryPoint = Callable[[flask.Request], flask.Response]
TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s#]*", re.IGNORECASE)


def _entry(name: str) -> EntryPoint:
    function: EntryPoint = getattr(main, name)
    return function


def _matching(path: str) -> list[Route]:
    """The routes whose path template matches the request path, whatever their method."""
    below = path.removeprefix(BASE_PATH).rstrip("/") or "/"
    return [route for route in ROUTES if route.pattern.fullmatch(below)]


def dispatch(path: str) -> flask.Response:
    request = flask.request
    request_id = request_id_of(request)
    routes = _matching(raw_path(request))
    if not routes:
        response = error_response(
            NotFound(f"no route {request.method} {path}", reason="route_not_found"), request_id
        )
    else:
        chosen = next((r for r in routes if r.method == request.method), None)
        if request.method == "OPTIONS":
            response = preflight(sorted({r.method for r in routes}))
            apply_cors(response, request, cors_origins())
        elif chosen is None:
            allowed = sorted({r.method for r in routes})
            error = MethodNotAllowed(f"{request.method} is not allowed on {path}", allowed=allowed)
            response = error_response(error, request_id)
            response.headers["Allow"] = ", ".join([*allowed, "OPTIONS"])
        else:
            return _entry(chosen.entry_point)(request)
    response.headers["X-Request-Id"] = request_id
    return response


def _page_view(function: EntryPoint) -> Callable[..., flask.Response]:
    def view(**_: str) -> flask.Response:
        return function(flask.request)

    return view


def create_app() -> flask.Flask:
    app = flask.Flask("execution_engine_local")
    app.url_map.strict_slashes = False
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]

    @app.route(f"{BASE_PATH}/openapi.json", methods=["GET"])
    def openapi() -> Any:
        response = flask.jsonify(document())
        response.headers["X-Request-Id"] = request_id_of(flask.request)
        return response

    @app.route(BASE_PATH, methods=methods, defaults={"rest": ""})
    @app.route(f"{BASE_PATH}/<path:rest>", methods=methods)
    def api(rest: str) -> flask.Response:
        return dispatch(flask.request.path)

    for page in PAGES:  # the dashboard at /app/, through its own entry point as in the cloud
        view = _page_view(_entry(page.entry_point))
        app.add_url_rule(page.path, page.entry_point, view, methods=methods)
        app.add_url_rule(f"{page.path}/", f"{page.entry_point}_index", view, methods=methods)
        app.add_url_rule(f"{page.path}/<path:rest>", f"{page.entry_point}_files", view, methods=methods)

    @app.route("/jobs/<name>", methods=["POST"])
    def job(name: str) -> flask.Response:
        if name not in {job.entry_point for job in JOBS}:
            return error_response(NotFound(f"no job {name}", reason="route_not_found"), uuid.uuid4().hex)
        return _entry(name)(flask.request)

    @app.route("/events/<name>", methods=["POST"])
    def event(name: str) -> flask.Response:
        """A CloudEvent for a Firestore-triggered entry point, as Eventarc (or infra/eventarc.py) posts it."""
        if name not in {trigger.entry_point for trigger in TRIGGERS}:
            return error_response(NotFound(f"no trigger {name}", reason="route_not_found"), uuid.uuid4().hex)
        request = flask.request
        cloud_event = from_http(dict(request.headers), request.get_data())
        try:
            getattr(main, name)(cloud_event)
        except GatewayError as error:  # retryable: Eventarc would deliver it again
            return error_response(error, uuid.uuid4().hex)
        return flask.Response(status=204)

    route_errors_as_json(app)
    return app


class JsonLogHandler(WSGIRequestHandler):
    """The server's own lines as JSON, without credentials (a `token` query value becomes `***`). Each
    request's access line comes from the entry point, with its caller, route, status and latency."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        masked = [TOKEN_IN_QUERY.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in args]
        level = logging.ERROR if type == "error" else logging.INFO
        log.log(level, message.rstrip(), *masked)


def _stop(*_: object) -> None:
    raise KeyboardInterrupt


def serve(host: str, port: int) -> None:
    logs.install()
    server = make_server(host, port, create_app(), threaded=True, request_handler=JsonLogHandler)
    signal.signal(signal.SIGTERM, _stop)
    log.info("gateway listening on http://%s:%s%s", host, port, BASE_PATH)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve every gateway route locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    serve(args.host, args.port)
    sys.exit(0)
