"""The one table that turns Alpaca's answers into our errors, and the X-RateLimit-Reset parser."""

from __future__ import annotations

import re
from typing import Any

import httpx

from shared.errors import (
    BadRequest,
    Forbidden,
    GatewayError,
    NotFound,
    RateLimited,
    Unavailable,
    Unprocessable,
    UpstreamError,
    UpstreamTimeout,
)

# Alpaca's message text, matched loosely, mapped to our stable reasons.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"insufficient buying power", "insufficient_buying_power"),
        (r"insufficient qty", "insufficient_qty"),
        (r"client_order_id must be unique", "duplicate_client_order_id"),
        (r"position does not exist", "position_not_found"),
        (r"order not found", "order_not_found"),
        (r"asset .*not found|could not find asset", "asset_not_found"),
        (r"cannot be sold short|not allowed to short", "short_not_allowed"),
        (r"wash trade", "wash_trade"),
        (r"not fractionable", "not_fractionable"),
        (r"sub-penny", "sub_penny_price"),
        (r"already in \"?\w+\"? state|not cancelable|is not open", "order_not_cancelable"),
        (r"cannot open a (long buy|short sell)", "opposite_side_order_open"),
        (r"pattern day trad", "pattern_day_trading"),
        (r"not authorized to trade|restricted|rejected by user", "account_restricted"),
    )
)


def sent_without_answer(error: GatewayError) -> bool:
    """Sent, but we cannot know whether Alpaca acted: a timeout after sending, or a 5xx."""
    if isinstance(error, UpstreamTimeout):
        return True
    return isinstance(error, UpstreamError) and (error.upstream_status or 0) >= 500


def error_from_response(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason_phrase or "upstream error").rstrip(".")
    extra: dict[str, Any] = {"upstream_status": response.status_code}
    if isinstance(body.get("code"), int):
        extra["upstream_code"] = body["code"]
    for name in ("buying_power", "cost_basis", "available", "existing_qty", "held_for_orders", "base_price"):
        if name in body:
            extra[name] = body[name]
    reason = next((r for pattern, r in _REASONS if pattern.search(message)), None)
    status = response.status_code
    if status == 400:
        return BadRequest(message, reason=reason or "broker_bad_request", **extra)
    if status == 401:
        return UpstreamError(
            "the broker refused the gateway's API keys", reason="broker_unauthorized", **extra
        )
    if status == 403:
        return Forbidden(message, reason=reason or "broker_forbidden", **extra)
    if status == 404:
        return NotFound(message, reason=reason or "not_found", **extra)
    if status == 422:
        return Unprocessable(message, reason=reason or "broker_rejected", **extra)
    if status == 429:
        return RateLimited(
            "the broker's rate limit is exhausted", retry_after=reset_delay(response, 1.0), **extra
        )
    if status >= 500:
        return UpstreamError(f"the broker failed: {message}", reason="broker_unavailable", **extra)
    return UpstreamError(f"unexpected broker answer {status}", **extra)


def reset_delay(response: httpx.Response, default: float, now: float | None = None) -> float:
    """Seconds until X-RateLimit-Reset, when the response has it."""
    reset = response.headers.get("X-RateLimit-Reset")
    if reset is None or now is None:
        return default
    try:
        return max(0.0, float(reset) - now)
    except ValueError:
        return default


def transport_error(exc: httpx.TransportError) -> GatewayError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return Unavailable("the broker cannot be reached", reason="broker_unreachable", retry_after=1)
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout("the broker did not answer in time")
    return UpstreamTimeout("the broker connection failed mid-request")
