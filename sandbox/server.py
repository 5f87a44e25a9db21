"""The Flask app: auth, rate limit, faults and JSON errors around the trading, data and admin routes."""

from __future__ import annotations

import sys
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from sandbox import admin, cryptodata, stockdata, stream, trading
from sandbox.errors import ApiError
from sandbox.faults import Fault
from sandbox.http import error_response
from sandbox.ratelimit import Admission
from sandbox.state import Sandbox

UNAUTHORIZED = ApiError(401, 40110000, "unauthorized.")


def create_app(sandbox: Sandbox) -> Flask:
    app = Flask("sandbox")
    app.url_map.strict_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.before_request
    def guard() -> Response | None:
        g.started = time.perf_counter()
        g.fault = None
        g.admission = None
        g.key = None
        if request.path.startswith("/_sandbox") or request.routing_exception is not None:
            return None
        if request.path == stream.PATH:
            return None  # the stream authenticates in-band, with the client's first message
        key, secret = request.headers.get("APCA-API-KEY-ID"), request.headers.get("APCA-API-SECRET-KEY")
        if key is None and secret is None and request.path.startswith(cryptodata.PREFIX):
            return None  # Alpaca serves crypto data without credentials (and without a key's rate limit)
        account = sandbox.authenticate(key, secret)
        if account is None:
            return error_response(UNAUTHORIZED)
        g.account, g.key = account, account.spec.key
        admission = sandbox.limiter.admit(account.spec.key)
        g.admission = admission
        if not admission.allowed:
            return error_response(ApiError(429, 42910000, "rate limit exceeded"))
        fault = sandbox.faults.take(request.method, request.path)
        if fault is None:
            return None
        sandbox.limiter.count_fault(account.spec.key)
        if fault.mode == "timeout_after_accept":
            g.fault = fault
            return None
        return _fault_response(fault, sandbox.limiter.window)

    @app.after_request
    def finish(response: Response) -> Response:
        admission: Admission | None = g.get("admission")
        if admission is None:
            admission = sandbox.limiter.peek(g.get("key"))
        for name, value in admission.headers().items():
            response.headers.setdefault(name, value)
        fault: Fault | None = g.get("fault")
        if fault is not None:
            time.sleep(fault.latency_ms / 1000)  # no lock is held here, so other requests proceed
        if sandbox.config.verbose:
            elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            print(
                f"{request.method} {request.full_path.rstrip('?')} {response.status_code} {elapsed:.1f}ms",
                flush=True,
            )
        return response

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            return error_response(ApiError(404, 40410000, "endpoint not found"))
        if status == 405:
            return error_response(ApiError(405, 40510000, "method not allowed"))
        message = (error.description or error.name).lower()
        return error_response(ApiError(status, status * 100000 + 10000, message))

    @app.errorhandler(Exception)
    def crash(error: Exception) -> Response:
        print(f"sandbox: unhandled {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return error_response(ApiError(500, 50010000, "internal server error occurred"))

    trading.register(app, sandbox)
    stockdata.register(app, sandbox)
    cryptodata.register(app, sandbox)
    admin.register(app, sandbox)
    stream.register(app, sandbox)
    return app


def _fault_response(fault: Fault, window: float) -> Response:
    if fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)
    headers: dict[str, str] = {}
    if fault.status == 429:
        reset_after = fault.reset_after_seconds if fault.reset_after_seconds is not None else window
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time() + reset_after))}
    return error_response(fault.error(), headers)
