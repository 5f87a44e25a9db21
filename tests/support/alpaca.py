"""Fakes around the real AlpacaClient: scripted broker transports, a secret store, the client itself, and
the table of broker error answers with the errors the gateway documents for them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.alpaca.client import AlpacaClient
from shared.alpaca.credentials import AlpacaCredentials
from shared.clock import ManualClock
from shared.config import Settings
from shared.limits.protocol import Unlimited
from shared.secrets import CachedSecrets

BASE = "https://paper-api.alpaca.markets"
START = 1_800_000_000.0
ACCOUNT = {"id": "acct-1", "status": "ACTIVE", "buying_power": "100000"}


class StaticSecrets:
    """A secret store the test edits to rotate keys; counts reads."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.reads = 0

    def read(self, name: str) -> str:
        self.reads += 1
        return self.values[name]


class Recorder:
    """Answers requests from a list of responses (or a function) and keeps every request seen."""

    def __init__(self, answers: list[httpx.Response] | Callable[[httpx.Request], httpx.Response]) -> None:
        self._answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if callable(self._answers):
            return self._answers(request)
        return self._answers.pop(0)


class HangingBroker:
    """Takes every request and never answers: each attempt costs exactly the read timeout it was given."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self.timeouts: list[float] = []
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        read = float(request.extensions["timeout"]["read"])
        self.timeouts.append(read)
        self.requests.append(f"{request.method} {request.url.path}")
        self._clock.advance(read)
        raise httpx.ReadTimeout("no answer", request=request)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: ManualClock,
    secrets: StaticSecrets | None = None,
    timeout: float = 5.0,
) -> AlpacaClient:
    """The real client over `handler`, keys from the env (or from `secrets`), no rate limit."""
    env = {"ALPACA_API_KEY": "key-1", "ALPACA_SECRET_KEY": "secret-1"} if secrets is None else {}
    settings = Settings.from_mapping({**env, "GOOGLE_CLOUD_PROJECT": "p"})
    store = secrets or StaticSecrets({})
    credentials = AlpacaCredentials(settings, CachedSecrets(store, clock, 300))
    return AlpacaClient(
        httpx.Client(transport=httpx.MockTransport(handler), timeout=timeout),
        base_url=BASE,
        data_url="https://data.alpaca.markets",
        credentials=credentials,
        limiter=Unlimited(),
        clock=clock,
    )


@dataclass(frozen=True)
class BrokerError:
    """An error answer of Alpaca's, and the error the gateway answers for it (README, Errors)."""

    upstream_status: int
    message: str
    status: int
    reason: str

    @property
    def upstream_code(self) -> int:
        """Alpaca's code has the status as its first three digits (40310000 for a 403)."""
        return self.upstream_status * 100_000 + 10_000

    def response(self) -> httpx.Response:
        body = {"code": self.upstream_code, "message": self.message}
        return httpx.Response(self.upstream_status, json=body)

    @property
    def id(self) -> str:
        return f"{self.upstream_status} {self.message}"


BROKER_ERRORS: tuple[BrokerError, ...] = (
    # Each status on its own, with a message no reason pattern knows.
    BrokerError(400, "request body is malformed", 400, "broker_bad_request"),
    BrokerError(401, "unauthorized.", 502, "broker_unauthorized"),
    BrokerError(403, "forbidden.", 403, "broker_forbidden"),
    BrokerError(404, "endpoint not found", 404, "not_found"),
    BrokerError(409, "conflict", 502, "upstream_error"),
    BrokerError(422, "invalid take_profit.limit_price", 422, "broker_rejected"),
    BrokerError(429, "rate limit exceeded", 429, "rate_limited"),
    BrokerError(500, "internal server error", 502, "broker_unavailable"),
    BrokerError(502, "bad gateway", 502, "broker_unavailable"),
    BrokerError(503, "service unavailable", 502, "broker_unavailable"),
    BrokerError(504, "gateway timeout", 502, "broker_unavailable"),
    # Each of Alpaca's messages we name, every alternative of its pattern.
    BrokerError(403, "insufficient buying power", 403, "insufficient_buying_power"),
    BrokerError(403, "insufficient qty available for order", 403, "insufficient_qty"),
    BrokerError(422, "client_order_id must be unique", 422, "duplicate_client_order_id"),
    BrokerError(404, "position does not exist", 404, "position_not_found"),
    BrokerError(404, "order not found", 404, "order_not_found"),
    BrokerError(422, 'asset "NOSUCHX" not found', 422, "asset_not_found"),
    BrokerError(404, "could not find asset NOSUCHX", 404, "asset_not_found"),
    BrokerError(403, 'asset "GME" cannot be sold short', 403, "short_not_allowed"),
    BrokerError(403, "account is not allowed to short", 403, "short_not_allowed"),
    BrokerError(403, "potential wash trade detected. use complex orders", 403, "wash_trade"),
    BrokerError(422, 'asset "BRK.A" is not fractionable', 422, "not_fractionable"),
    BrokerError(
        422,
        "invalid limit_price 10.001. sub-penny increment does not fulfill minimum pricing criteria",
        422,
        "sub_penny_price",
    ),
    BrokerError(422, 'order is already in "filled" state', 422, "order_not_cancelable"),
    BrokerError(422, "order is not cancelable", 422, "order_not_cancelable"),
    BrokerError(422, "order is not open", 422, "order_not_cancelable"),
    BrokerError(403, "cannot open a long buy while a short sell is open", 403, "opposite_side_order_open"),
    BrokerError(403, "cannot open a short sell while a long buy is open", 403, "opposite_side_order_open"),
    BrokerError(403, "trade denied due to pattern day trading protection", 403, "pattern_day_trading"),
    BrokerError(403, "account is not authorized to trade", 403, "account_restricted"),
    BrokerError(403, "account is restricted to liquidation only", 403, "account_restricted"),
    BrokerError(403, "order rejected by user", 403, "account_restricted"),
)
