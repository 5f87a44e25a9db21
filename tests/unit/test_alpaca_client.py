"""AlpacaClient over an injected httpx.MockTransport: retries, X-RateLimit-Reset backoff, key rotation."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shared.clock import ManualClock
from shared.errors import GatewayError, RateLimited, Unavailable, UpstreamError
from tests.support.alpaca import ACCOUNT, START, Recorder, StaticSecrets, client_for


def limited(reset_in: float) -> httpx.Response:
    return httpx.Response(
        429,
        json={"code": 42910000, "message": "rate limit exceeded"},
        headers={
            "X-RateLimit-Limit": "200",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(START + reset_in)),
        },
    )


def test_get_after_429_waits_until_the_rate_limit_reset_then_succeeds() -> None:
    """A GET answered 429 sleeps until X-RateLimit-Reset, retries and returns the account."""
    clock = ManualClock(START)
    upstream = Recorder([limited(3), httpx.Response(200, json=ACCOUNT)])
    assert client_for(upstream, clock).account() == ACCOUNT
    assert len(upstream.requests) == 2
    assert clock.slept == [3.0]


def test_get_after_503_is_retried_with_backoff() -> None:
    """A GET answered 503 twice is retried with growing waits and then succeeds."""
    clock = ManualClock(START)
    unavailable = httpx.Response(503, json={"message": "service unavailable"})
    upstream = Recorder([unavailable, httpx.Response(503), httpx.Response(200, json=ACCOUNT)])
    assert client_for(upstream, clock).account() == ACCOUNT
    assert len(upstream.requests) == 3
    assert len(clock.slept) == 2 and 0 < clock.slept[0] < clock.slept[1]


def test_get_429s_that_outlast_the_retries_raise_rate_limited_with_retry_after() -> None:
    """Three 429s in a row end in RateLimited carrying the seconds until the reset."""
    clock = ManualClock(START)
    upstream = Recorder(lambda request: limited(clock.now() - START + 2))
    with pytest.raises(RateLimited) as caught:
        client_for(upstream, clock).account()
    assert len(upstream.requests) == 3
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 2


def test_get_after_a_connect_error_is_retried() -> None:
    """A GET whose connection is refused is tried again."""
    clock = ManualClock(START)
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=ACCOUNT)

    assert client_for(flaky, clock).account() == ACCOUNT
    assert len(calls) == 2


@pytest.mark.parametrize(("status", "answered"), [(429, 429), (500, 502), (503, 502), (504, 502)])
def test_post_is_never_retried(status: int, answered: int) -> None:
    """POST /v2/orders answered 429 or 5xx is sent once; the error raised is a 429, or a 502 for a 5xx."""
    clock = ManualClock(START)
    upstream = Recorder(lambda request: limited(5) if status == 429 else httpx.Response(status))
    with pytest.raises(GatewayError) as caught:
        client_for(upstream, clock).place_order({"symbol": "AAPL", "qty": "1", "side": "buy"})
    assert len(upstream.requests) == 1
    assert caught.value.status == answered
    assert clock.slept == []


def test_post_timeout_is_not_resent() -> None:
    """A POST whose answer times out is not resent blindly: one request, a 504."""
    clock = ManualClock(START)
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(GatewayError) as caught:
        client_for(slow, clock).place_order({"symbol": "AAPL", "qty": "1", "side": "buy"})
    assert len(calls) == 1
    assert caught.value.status == 504


def test_post_connect_error_is_503_after_one_attempt() -> None:
    """A POST that cannot connect is a 503 with Retry-After, not a retry."""
    clock = ManualClock(START)
    calls = []

    def refused(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Unavailable) as caught:
        client_for(refused, clock).place_order({"symbol": "AAPL", "qty": "1", "side": "buy"})
    assert len(calls) == 1
    assert caught.value.retry_after is not None


def rotating_broker(valid: dict[str, str]) -> Callable[[httpx.Request], httpx.Response]:
    """A broker that accepts only the key pair currently in `valid`."""

    def handle(request: httpx.Request) -> httpx.Response:
        if (
            request.headers.get("APCA-API-KEY-ID") == valid["key"]
            and request.headers.get("APCA-API-SECRET-KEY") == valid["secret"]
        ):
            return httpx.Response(200, json=ACCOUNT)
        return httpx.Response(401, json={"message": "unauthorized."})

    return handle


def test_401_rereads_rotated_keys_once_and_succeeds() -> None:
    """After a key rotation the cached old key gets a 401; the keys are re-read and the call succeeds."""
    clock = ManualClock(START)
    secrets = StaticSecrets({"alpaca-api-key": "old-key", "alpaca-secret-key": "old-secret"})
    valid = {"key": "old-key", "secret": "old-secret"}
    upstream = Recorder(rotating_broker(valid))
    client = client_for(upstream, clock, secrets)
    assert client.account() == ACCOUNT
    reads_before = secrets.reads

    secrets.values.update({"alpaca-api-key": "new-key", "alpaca-secret-key": "new-secret"})
    valid.update(key="new-key", secret="new-secret")
    assert client.account() == ACCOUNT

    sent = [r.headers["APCA-API-KEY-ID"] for r in upstream.requests]
    assert sent == ["old-key", "old-key", "new-key"]
    assert secrets.reads == reads_before + 2
    assert client.account() == ACCOUNT
    assert secrets.reads == reads_before + 2, "the new keys are cached again"


def test_401_with_keys_that_stay_wrong_is_reread_only_once() -> None:
    """When the re-read keys are refused too the client stops: two requests, a broker_unauthorized error."""
    clock = ManualClock(START)
    secrets = StaticSecrets({"alpaca-api-key": "bad", "alpaca-secret-key": "bad"})
    upstream = Recorder(rotating_broker({"key": "good", "secret": "good"}))
    with pytest.raises(UpstreamError) as caught:
        client_for(upstream, clock, secrets).account()
    assert len(upstream.requests) == 2
    assert caught.value.reason == "broker_unauthorized"
    assert "bad" not in caught.value.message


def test_post_401_is_resent_once_with_rotated_keys() -> None:
    """A 401 means the order was not acted upon, so a POST is resent once with the new keys."""
    clock = ManualClock(START)
    secrets = StaticSecrets({"alpaca-api-key": "old-key", "alpaca-secret-key": "old-secret"})
    valid = {"key": "old-key", "secret": "old-secret"}
    order = {"id": "o-1", "client_order_id": "c-1", "symbol": "AAPL", "status": "new"}

    def broker(request: httpx.Request) -> httpx.Response:
        if request.headers.get("APCA-API-KEY-ID") != valid["key"]:
            return httpx.Response(401, json={"message": "unauthorized."})
        return httpx.Response(200, json=order if request.method == "POST" else ACCOUNT)

    upstream = Recorder(broker)
    client = client_for(upstream, clock, secrets)
    client.account()
    secrets.values.update({"alpaca-api-key": "new-key", "alpaca-secret-key": "new-secret"})
    valid.update(key="new-key", secret="new-secret")
    assert client.place_order({"symbol": "AAPL", "qty": "1", "side": "buy"}) == order
    posts = [r for r in upstream.requests if r.method == "POST"]
    assert [r.headers["APCA-API-KEY-ID"] for r in posts] == ["old-key", "new-key"]
