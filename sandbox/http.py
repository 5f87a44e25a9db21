"""Response helpers every route module shares: JSON bodies, Alpaca error bodies, the request's account."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, g, request

from sandbox.errors import ApiError, bad_request
from sandbox.portfolio import Account


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.body(), error.status, headers)


def current_account() -> Account:
    """The account the request authenticated as; set by the server's guard before any trading route."""
    account: Account = g.account
    return account


def request_json() -> Any:
    """The JSON body; an empty body is an empty object, a malformed one is a 400."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request() from None
