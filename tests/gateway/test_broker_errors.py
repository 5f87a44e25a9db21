"""Every broker error of the table in shared/alpaca/errors.py, through an entry point: the caller gets the
documented status and reason as JSON, with Alpaca's status and code, from a broker scripted per case."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shared.clock import ManualClock
from shared.gateway import Gateway
from shared.limits.protocol import Unlimited
from tests.gateway import seed_shapes as seed
from tests.gateway.conftest import call_entry
from tests.support.alpaca import BROKER_ERRORS, START, BrokerError, Recorder


@pytest.mark.parametrize("case", BROKER_ERRORS, ids=[case.id for case in BROKER_ERRORS])
def test_broker_error_answers_the_documented_status_and_reason(
    make_gateway: Callable[..., Gateway], case: BrokerError
) -> None:
    """GET /clock on a broker that always answers `case`: the JSON error is the one the README documents."""
    broker = Recorder(lambda request: case.response())
    make_gateway(
        http=httpx.Client(transport=httpx.MockTransport(broker)),
        clock=ManualClock(START),
        limiter=Unlimited(),
    )
    reply = call_entry("get_clock", headers={"X-Request-Id": "broker-error"})
    assert reply.status == case.status, reply.text
    seed.assert_error(reply.body, case.status, case.reason)
    assert (reply.body["upstream_status"], reply.body["upstream_code"]) == (
        case.upstream_status,
        case.upstream_code,
    )
    assert reply.body["request_id"] == "broker-error"
    assert reply.headers["Content-Type"].startswith("application/json")
    if case.status == 429:
        assert int(reply.headers["Retry-After"]) >= 1
    assert broker.requests, "the broker was asked"
