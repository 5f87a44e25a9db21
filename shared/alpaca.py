"""AlpacaClient: every upstream call, and the one place where Alpaca errors become ours."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from shared.clock import Clock
from shared.deadline import READ_SECONDS, TRADE_SECONDS, Deadline
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
from shared.identifiers import position_symbol
from shared.ratelimit import Limiter, Priority
from shared.secrets import Credentials

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
GET_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 4.0
MIN_ATTEMPT_SECONDS = 0.05  # below this an attempt cannot succeed: it is not made

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


class CredentialSource(Protocol):
    def current(self) -> Credentials: ...

    def refresh(self) -> Credentials: ...


def sent_without_answer(error: GatewayError) -> bool:
    """Sent, but we cannot know whether Alpaca acted: a timeout after sending, or a 5xx."""
    if isinstance(error, UpstreamTimeout):
        return True
    return isinstance(error, UpstreamError) and int(error.extra.get("upstream_status") or 0) >= 500


def key_fingerprint(key_id: str) -> str:
    """A stable, non-reversible name for an API key (limiter documents, logs)."""
    return hashlib.sha256(key_id.encode()).hexdigest()[:32]


def _error_from_response(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason_phrase or "upstream error").rstrip(".")
    extra: dict[str, Any] = {"upstream_status": response.status_code}
    if "code" in body:
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
            "the broker's rate limit is exhausted", retry_after=_reset_delay(response, 1.0), **extra
        )
    if status >= 500:
        return UpstreamError(f"the broker failed: {message}", reason="broker_unavailable", **extra)
    return UpstreamError(f"unexpected broker answer {status}", **extra)


def _reset_delay(response: httpx.Response, default: float, now: float | None = None) -> float:
    """Seconds until X-RateLimit-Reset, when the response has it."""
    reset = response.headers.get("X-RateLimit-Reset")
    if reset is None or now is None:
        return default
    try:
        return max(0.0, float(reset) - now)
    except ValueError:
        return default


class AlpacaClient:
    """Typed access to the Trading API (and the data API's latest quote) over an injected httpx.Client."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str,
        data_url: str,
        credentials: CredentialSource,
        limiter: Limiter,
        clock: Clock,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._data_url = data_url.rstrip("/")
        self._credentials = credentials
        self._limiter = limiter
        self._clock = clock

    # -- transport -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        priority: Priority | None = None,
        data: bool = False,
        deadline: Deadline | None = None,
        reserve: float = 0.0,
    ) -> Any:
        """One logical call within `deadline` (less `reserve`, time kept for a follow-up): GETs retry on
        429/5xx/connect errors while time is left; other methods never retry blindly."""
        idempotent = method == "GET"
        priority = priority or (Priority.READ if idempotent else Priority.TRADE)
        deadline = deadline or Deadline(self._clock, READ_SECONDS if idempotent else TRADE_SECONDS)
        url = (self._data_url if data else self._base_url) + path
        creds = self._credentials.current()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            self._limiter.acquire(creds.key_id, priority)
            left = deadline.remaining() - reserve
            if left < MIN_ATTEMPT_SECONDS:
                raise Unavailable(
                    "no time was left to call the broker", reason="deadline_exceeded", retry_after=1
                )
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=self._headers(creds),
                    timeout=self._timeout(left),
                )
            except httpx.TransportError as exc:
                error = _transport_error(exc)
                # A connection that never opened was not sent: safe for any method, but only GETs retry.
                if idempotent and self._may_retry(attempt, deadline, reserve, None):
                    continue
                raise error from exc
            self._limiter.observe(creds.key_id, response.status_code, response.headers)
            if response.status_code == 401 and not refreshed:
                # Keys may have been rotated: re-read them once. A 401 was not acted upon, so resend.
                refreshed = True
                creds = self._credentials.refresh()
                continue
            if response.is_success:
                return response.json() if response.content else None
            retryable = idempotent and response.status_code in RETRYABLE_STATUS
            if retryable and self._may_retry(attempt, deadline, reserve, response):
                continue
            error = _error_from_response(response)
            if response.status_code == 429:
                error.extra["retry_after"] = _reset_delay(response, 1.0, self._clock.now())
            raise error

    def _timeout(self, left: float) -> httpx.Timeout:
        """The client's own timeouts, cut to what is left of the deadline."""
        base = self._http.timeout

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cut(base.connect), read=cut(base.read), write=cut(base.write), pool=cut(base.pool)
        )

    def _may_retry(
        self, attempt: int, deadline: Deadline, reserve: float, response: httpx.Response | None
    ) -> bool:
        """Sleep the backoff and say yes, if another attempt is allowed and fits in the deadline."""
        pause = self._backoff(attempt, response)
        if attempt >= GET_ATTEMPTS or deadline.remaining() - reserve - pause < MIN_ATTEMPT_SECONDS:
            return False
        self._clock.sleep(pause)
        return True

    def _headers(self, creds: Credentials) -> dict[str, str]:
        return {"APCA-API-KEY-ID": creds.key_id, "APCA-API-SECRET-KEY": creds.secret}

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        fallback = min(MAX_BACKOFF_SECONDS, 0.25 * 2.0 ** (attempt - 1))
        if response is not None and response.status_code == 429:
            return min(MAX_BACKOFF_SECONDS, _reset_delay(response, fallback, self._clock.now()))
        return fallback

    # -- Trading API -----------------------------------------------------------------------
    # Every identifier goes into its URL through `_path`, percent-encoded as one segment.

    def account(self) -> dict[str, Any]:
        return dict(self.request("GET", "/v2/account"))

    def clock(self) -> dict[str, Any]:
        return dict(self.request("GET", "/v2/clock"))

    def calendar(self, start: str, end: str) -> list[dict[str, Any]]:
        return list(self.request("GET", "/v2/calendar", params={"start": start, "end": end}))

    def asset(self, symbol: str) -> dict[str, Any]:
        return dict(self.request("GET", _path("/v2/assets/{}", symbol)))

    def positions(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/v2/positions"))

    def position(
        self, symbol: str, *, priority: Priority = Priority.READ, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        path = _path("/v2/positions/{}", position_symbol(symbol))
        return dict(self.request("GET", path, priority=priority, deadline=deadline))

    def close_position(
        self,
        symbol: str,
        *,
        qty: str | None = None,
        percentage: str | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        params = {k: v for k, v in (("qty", qty), ("percentage", percentage)) if v is not None}
        path = _path("/v2/positions/{}", position_symbol(symbol))
        return dict(self.request("DELETE", path, params=params, deadline=deadline))

    def orders(self, **params: Any) -> list[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v is not None}
        return list(self.request("GET", "/v2/orders", params=query))

    def order(
        self, order_id: str, *, priority: Priority = Priority.READ, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        path = _path("/v2/orders/{}", order_id)
        return dict(self.request("GET", path, priority=priority, deadline=deadline))

    def order_by_client_id(self, client_order_id: str, *, deadline: Deadline | None = None) -> dict[str, Any]:
        """The lookup that settles an ambiguous order: it gates a trade, so it takes a trade slot."""
        return dict(
            self.request(
                "GET",
                "/v2/orders:by_client_order_id",
                params={"client_order_id": client_order_id},
                priority=Priority.TRADE,
                deadline=deadline,
            )
        )

    def place_order(
        self, payload: Mapping[str, Any], *, deadline: Deadline | None = None, reserve: float = 0.0
    ) -> dict[str, Any]:
        return dict(
            self.request("POST", "/v2/orders", json=dict(payload), deadline=deadline, reserve=reserve)
        )

    def cancel_order(self, order_id: str, *, deadline: Deadline | None = None) -> None:
        self.request("DELETE", _path("/v2/orders/{}", order_id), deadline=deadline)

    def cancel_all_orders(self) -> list[dict[str, Any]]:
        return list(self.request("DELETE", "/v2/orders") or [])

    # -- Market data -----------------------------------------------------------------------

    def latest_quote(
        self, symbol: str, *, priority: Priority = Priority.READ, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        path = _path("/v2/stocks/{}/quotes/latest", symbol)
        body = self.request("GET", path, data=True, priority=priority, deadline=deadline)
        return dict(body.get("quote") or {})


def _path(template: str, *segments: str) -> str:
    """A URL path from a template and values, each encoded so it can only ever be one segment."""
    return template.format(*(quote(segment, safe="") for segment in segments))


def _transport_error(exc: httpx.TransportError) -> GatewayError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return Unavailable("the broker cannot be reached", reason="broker_unreachable", retry_after=1)
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout("the broker did not answer in time")
    return UpstreamTimeout("the broker connection failed mid-request")
