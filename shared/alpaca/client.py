"""AlpacaClient: every upstream call, within the request's deadline, each URL built from encoded segments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from shared.alpaca.credentials import Credentials, key_fingerprint
from shared.alpaca.errors import error_from_response, reset_delay, transport_error
from shared.clock import Clock
from shared.deadline import READ_SECONDS, TRADE_SECONDS, Deadline
from shared.errors import Unavailable
from shared.identifiers import position_symbol
from shared.limits.protocol import Limiter, Permit, Priority, spend_prepaid
from shared.limits.slots import Reservation

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
GET_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 4.0
MIN_ATTEMPT_SECONDS = 0.05  # below this an attempt cannot succeed: it is not made
LATE_GRANT_ATTEMPTS = 3


class LateGrant(Exception):
    """A unit of the rate budget whose last instant passed before its request was written."""


class CredentialSource(Protocol):
    def current(self) -> Credentials: ...

    def refresh(self) -> Credentials: ...


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
        key = key_fingerprint(creds.key_id)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(
                    method,
                    url,
                    key,
                    priority,
                    deadline,
                    reserve,
                    params=params,
                    json=json,
                    headers=self._headers(creds),
                )
            except httpx.TransportError as exc:
                error = transport_error(exc)
                # A connection that never opened was not sent: safe for any method, but only GETs retry.
                if idempotent and self._may_retry(attempt, deadline, reserve, None):
                    continue
                raise error from exc
            self._limiter.observe(key, response.status_code, response.headers)
            if response.status_code == 401 and not refreshed:
                # Keys may have been rotated: re-read them once. A 401 was not acted upon, so resend.
                refreshed = True
                creds = self._credentials.refresh()
                key = key_fingerprint(creds.key_id)
                continue
            if response.is_success:
                return response.json() if response.content else None
            retryable = idempotent and response.status_code in RETRYABLE_STATUS
            if retryable and self._may_retry(attempt, deadline, reserve, response):
                continue
            error = error_from_response(response)
            if response.status_code == 429:
                error.retry_after = reset_delay(response, 1.0, self._clock.now())
            raise error

    def _send(
        self,
        method: str,
        url: str,
        key: str,
        priority: Priority,
        deadline: Deadline,
        reserve: float,
        **request: Any,
    ) -> httpx.Response:
        """One send on a unit of the rate budget. The bound assumes a send follows its grant closely, and
        a busy host can stall a thread between the two: a unit whose request would start on the wire
        after its last instant is never sent (checked as the request's first bytes are about to be
        written), goes back to the window, and another unit is taken."""
        for _ in range(LATE_GRANT_ATTEMPTS):
            permit = self._send_slot(key, priority)
            until = permit.until
            left = deadline.remaining() - reserve
            try:
                if left >= MIN_ATTEMPT_SECONDS and (until is None or self._clock.now() <= until):
                    return self._http.request(
                        method, url, timeout=self._timeout(left), extensions=self._on_time(until), **request
                    )
            except LateGrant:
                pass
            permit.hand_back(1)
            if left < MIN_ATTEMPT_SECONDS:
                raise Unavailable(
                    "no time was left to call the broker", reason="deadline_exceeded", retry_after=1
                )
        raise Unavailable("the rate limiter's grants came too late to use", reason="deadline_exceeded")

    def _send_slot(self, key: str, priority: Priority) -> Permit:
        """A unit to send now, prepaid or from the limiter: its permit knows the last instant it may be
        sent and takes it back unsent."""
        prepaid = spend_prepaid(key, self._clock.now())
        return prepaid if prepaid is not None else self._limiter.acquire(key, priority)

    def _on_time(self, until: float | None) -> dict[str, Any]:
        """httpcore's trace hook, told each step of the request: LateGrant just before the request's
        headers are written if the unit's last instant has passed (nothing of it has been sent)."""
        if until is None:
            return {}
        clock = self._clock

        def trace(event: str, info: Mapping[str, Any]) -> None:
            if event.endswith(".send_request_headers.started") and clock.now() > until:
                raise LateGrant

        return {"trace": trace}

    def permit(self, units: int, priority: Priority = Priority.TRADE) -> Permit:
        """`units` upstream sends in one acquisition, for calls made (in parallel) under `prepaid`."""
        return self._limiter.acquire(key_fingerprint(self._credentials.current().key_id), priority, units)

    def reservation(self, priority: Priority = Priority.TRADE) -> Reservation | None:
        """The limiter's writes for one send, to ride in another commit; None if the limiter has none."""
        prepare = getattr(self._limiter, "prepare", None)
        if prepare is None:
            return None
        found: Reservation | None = prepare(key_fingerprint(self._credentials.current().key_id), priority)
        return found

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
            return min(MAX_BACKOFF_SECONDS, reset_delay(response, fallback, self._clock.now()))
        return fallback

    # -- Trading API -----------------------------------------------------------------------
    # Every identifier goes into its URL through `_path`, percent-encoded as one segment.

    def account(self, *, priority: Priority = Priority.READ) -> dict[str, Any]:
        return dict(self.request("GET", "/v2/account", priority=priority))

    def clock(self, *, priority: Priority = Priority.READ) -> dict[str, Any]:
        return dict(self.request("GET", "/v2/clock", priority=priority))

    def calendar(self, start: str, end: str, *, priority: Priority = Priority.READ) -> list[dict[str, Any]]:
        params = {"start": start, "end": end}
        return list(self.request("GET", "/v2/calendar", params=params, priority=priority))

    def asset(
        self, symbol: str, *, priority: Priority = Priority.READ, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        path = _path("/v2/assets/{}", position_symbol(symbol))
        return dict(self.request("GET", path, priority=priority, deadline=deadline))

    def positions(self, *, priority: Priority = Priority.READ) -> list[dict[str, Any]]:
        return list(self.request("GET", "/v2/positions", priority=priority))

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

    def orders(self, *, priority: Priority = Priority.READ, **params: Any) -> list[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v is not None}
        return list(self.request("GET", "/v2/orders", params=query, priority=priority))

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

    def latest_crypto_quote(
        self, pair: str, *, priority: Priority = Priority.READ, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        """The latest quote of a crypto pair, named as Alpaca's data API names it (`BTC/USD`)."""
        params = {"symbols": pair}
        path = "/v1beta3/crypto/us/latest/quotes"
        body = self.request("GET", path, params=params, data=True, priority=priority, deadline=deadline)
        return dict((body.get("quotes") or {}).get(pair) or {})

    # -- The order sync (appended; background reads at read priority) ------------------------

    def orders_after(self, after: str | None, *, limit: int = 500) -> list[dict[str, Any]]:
        """One page of every order submitted after `after` (exclusive), oldest first, legs nested."""
        params = {"status": "all", "direction": "asc", "nested": "true", "limit": limit}
        if after is not None:
            params["after"] = after
        return list(self.request("GET", "/v2/orders", params=params))

    def order_with_legs(self, order_id: str) -> dict[str, Any]:
        path = _path("/v2/orders/{}", order_id)
        return dict(self.request("GET", path, params={"nested": "true"}))

    def fill_activities(
        self, after: str | None, *, page_token: str | None = None, page_size: int = 100
    ) -> list[dict[str, Any]]:
        """One page of FILL activities after `after` (exclusive), oldest first."""
        params: dict[str, Any] = {"direction": "asc", "page_size": page_size}
        if after is not None:
            params["after"] = after
        if page_token is not None:
            params["page_token"] = page_token
        return list(self.request("GET", "/v2/account/activities/FILL", params=params))

    def quote_before(self, symbol: str, end: str, start: str, *, crypto: bool = False) -> dict[str, Any]:
        """The last historical quote in [start, end], or {} (the arrival price of an order)."""
        params: dict[str, Any] = {"start": start, "end": end, "limit": 1, "sort": "desc"}
        if crypto:
            body = self.request(
                "GET", "/v1beta3/crypto/us/quotes", params={**params, "symbols": symbol}, data=True
            )
            found = (body.get("quotes") or {}).get(symbol) or []
        else:
            body = self.request("GET", _path("/v2/stocks/{}/quotes", symbol), params=params, data=True)
            found = body.get("quotes") or []
        return dict(found[0]) if found else {}


def _path(template: str, *segments: str) -> str:
    """A URL path from a template and values, each encoded so it can only ever be one segment."""
    return template.format(*(quote(segment, safe="") for segment in segments))
