"""The one table from Alpaca's answers to our errors (shared/alpaca/errors.py), and the transport errors."""

from __future__ import annotations

import httpx
import pytest

from shared.alpaca import errors
from shared.alpaca.errors import error_from_response, reset_delay, sent_without_answer, transport_error
from shared.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
    Unprocessable,
    UpstreamError,
    UpstreamTimeout,
)
from tests.support.alpaca import BROKER_ERRORS, BrokerError

REQUEST = httpx.Request("POST", "https://paper-api.alpaca.markets/v2/orders")


@pytest.mark.parametrize("case", BROKER_ERRORS, ids=[case.id for case in BROKER_ERRORS])
def test_each_broker_answer_becomes_its_documented_error(case: BrokerError) -> None:
    """Status and message map to our status and reason; Alpaca's status and code travel along."""
    error = error_from_response(case.response())
    assert (error.status, error.reason) == (case.status, case.reason)
    assert (error.upstream_status, error.upstream_code) == (case.upstream_status, case.upstream_code)


def test_the_table_of_cases_names_every_reason_the_module_knows() -> None:
    """A reason added to the module without a case here fails this test."""
    known = {reason for _, reason in errors._REASONS}
    assert known <= {case.reason for case in BROKER_ERRORS}


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, UpstreamError),
        (403, Forbidden),
        (404, NotFound),
        (409, UpstreamError),
        (422, Unprocessable),
        (429, RateLimited),
        (500, UpstreamError),
        (503, UpstreamError),
    ],
)
def test_each_status_is_its_error_class(status: int, kind: type[Exception]) -> None:
    """The class decides how the order path treats the error (NothingSent, BrokerFailure, a rejection)."""
    assert type(error_from_response(httpx.Response(status, json={"message": "x"}))) is kind


def test_alpaca_extra_fields_are_kept_for_the_caller() -> None:
    """buying_power, available and the other fields Alpaca adds to a refusal are part of our error."""
    body = {
        "code": 40310000,
        "message": "insufficient buying power",
        "buying_power": "10.5",
        "cost_basis": "20",
    }
    error = error_from_response(httpx.Response(403, json=body))
    assert error.extra == {"buying_power": "10.5", "cost_basis": "20"}
    assert error.body()["buying_power"] == "10.5"


def test_message_loses_its_final_period() -> None:
    """Alpaca's `insufficient buying power.` reads `insufficient buying power` in our answer."""
    error = error_from_response(httpx.Response(403, json={"message": "insufficient buying power."}))
    assert error.message == "insufficient buying power"


def test_body_that_is_not_a_json_object_falls_back_to_the_reason_phrase() -> None:
    """An HTML or list body gives the status's phrase as the message and no upstream code."""
    for response in (httpx.Response(502, text="<html>bad gateway</html>"), httpx.Response(404, json=[1])):
        error = error_from_response(response)
        assert error.upstream_code is None
        assert response.reason_phrase in error.message


def test_code_that_is_not_an_integer_is_left_out() -> None:
    """upstream_code is only ever Alpaca's integer code."""
    assert error_from_response(httpx.Response(422, json={"code": "x", "message": "m"})).upstream_code is None


def test_refused_keys_are_described_without_the_broker_message() -> None:
    """A 401 says the keys were refused, not what the broker echoed."""
    error = error_from_response(httpx.Response(401, json={"message": "key PKLEAK is invalid"}))
    assert "PKLEAK" not in error.message


def test_rate_limit_reset_gives_the_seconds_left() -> None:
    """X-RateLimit-Reset is an epoch second; the delay is what is left of it from `now`, at least 0."""
    response = httpx.Response(429, headers={"X-RateLimit-Reset": "1000"})
    assert reset_delay(response, 1.0, now=997.5) == 2.5
    assert reset_delay(response, 1.0, now=1003.0) == 0.0


@pytest.mark.parametrize(
    ("headers", "now"),
    [({}, 997.5), ({"X-RateLimit-Reset": "soon"}, 997.5), ({"X-RateLimit-Reset": "1000"}, None)],
)
def test_rate_limit_reset_falls_back_to_the_default(headers: dict[str, str], now: float | None) -> None:
    """Without a header, with a malformed one or without a clock reading, the default applies."""
    assert reset_delay(httpx.Response(429, headers=headers), 1.5, now=now) == 1.5


def test_connection_that_never_opened_is_503_broker_unreachable() -> None:
    """Nothing was sent: Unavailable, retry after a second."""
    for exc in (
        httpx.ConnectError("refused", request=REQUEST),
        httpx.ConnectTimeout("slow", request=REQUEST),
    ):
        error = transport_error(exc)
        assert isinstance(error, Unavailable)
        assert (error.status, error.reason, error.retry_after) == (503, "broker_unreachable", 1)


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("late", request=REQUEST), httpx.RemoteProtocolError("cut", request=REQUEST)],
)
def test_failure_after_sending_is_504_upstream_timeout(exc: httpx.TransportError) -> None:
    """Sent and no answer (a read timeout, a dropped connection): the broker may have acted."""
    error = transport_error(exc)
    assert isinstance(error, UpstreamTimeout)
    assert (error.status, error.reason) == (504, "upstream_timeout")
    assert sent_without_answer(error)


@pytest.mark.parametrize(
    ("status", "unknown"), [(500, True), (503, True), (422, False), (429, False), (401, False)]
)
def test_only_a_5xx_or_a_timeout_leaves_the_outcome_unknown(status: int, unknown: bool) -> None:
    """A 5xx may have been acted on; a 4xx (and a 429) is a verdict."""
    assert sent_without_answer(error_from_response(httpx.Response(status, json={"message": "m"}))) is unknown
