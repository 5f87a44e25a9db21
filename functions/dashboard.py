"""The `dashboard` entry point: the phone dashboard's built assets (functions/dashboard_assets/, copied from
dashboard/ by `python -m dashboard.build`) at /app/, with a strict Content-Security-Policy. Only the
names in ASSETS are served, so no path can reach any other file."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import flask

from functions._edge import REQUEST_ID, error_response, request_id_of
from functions._http import raw_path
from shared.errors import MethodNotAllowed, NotFound

ASSETS_DIR = Path(__file__).resolve().parent / "dashboard_assets"
INDEX = "index.html"
ASSETS: dict[str, str] = {
    INDEX: "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The page's own path at the end of the request path: API Gateway appends the public path to the URL.
PAGE_PATH = re.compile(r"/app(?P<slash>/(?P<name>[^/]*))?$")
METHODS = ("GET", "HEAD")


@cache
def asset(name: str) -> tuple[bytes, str]:
    """An asset's bytes and strong ETag, read once per instance."""
    body = (ASSETS_DIR / name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


def _answer(request: flask.Request, request_id: str) -> flask.Response:
    if request.method not in METHODS:
        error = MethodNotAllowed(f"{request.method} is not allowed on the dashboard", allowed=list(METHODS))
        response = error_response(error, request_id)
        response.headers["Allow"] = ", ".join(METHODS)
        return response
    match = PAGE_PATH.search(raw_path(request))
    if match and not match["slash"]:
        # The page's relative links need the trailing slash.
        return flask.Response(status=308, headers={"Location": f"{match[0]}/"})
    name = (match["name"] or INDEX) if match else None
    if name not in ASSETS:
        return error_response(NotFound("no such dashboard file", reason="route_not_found"), request_id)
    body, etag = asset(name)
    response = flask.Response(body, mimetype=None, content_type=ASSETS[name])
    response.headers["Cache-Control"] = "no-cache"  # revalidated by ETag, so a deploy shows at once
    response.set_etag(etag)
    response.make_conditional(request)  # in place: 304 when If-None-Match names this ETag
    return response


def dashboard(request: flask.Request) -> flask.Response:
    request_id = request_id_of(request)
    response = _answer(request, request_id)
    response.headers.update(SECURITY_HEADERS)
    response.headers[REQUEST_ID] = request_id
    return response
