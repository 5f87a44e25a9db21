"""A unit of the rate budget whose last instant passes between its grant and the request's first byte
(a stalled thread on a busy host) is never sent: it goes back to the window, and another unit is taken.
The real client over real HTTP to the sandbox; the stall is the clock moving on inside an httpx hook,
after the client's own check and before the connection writes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.alpaca.client import AlpacaClient
from shared.alpaca.credentials import AlpacaCredentials
from shared.clock import ManualClock
from shared.config import Settings
from shared.errors import Unavailable
from shared.limits.protocol import Permit, Priority
from shared.secrets import CachedSecrets
from tests.support.alpaca import StaticSecrets
from tests.support.sandbox import Sandbox, upstream_requests

STALL = 1.0  # seconds the clock moves on in each stalled request, far past any unit's last instant


class ShortGrants:
    """A limiter whose every unit must start to be written within 10 ms; records what comes back."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.granted: list[float] = []
        self.returned: list[float] = []

    def acquire(self, key: str, priority: Priority, units: int = 1) -> Permit:
        until = self.clock.now() + 0.01
        self.granted.append(until)
        return Permit(key, units, until, lambda units: self.returned.extend([until] * units))

    def observe(self, key: str, status: int, headers: Any) -> None:
        return None


def stalling(clock: ManualClock, stalls: int) -> Any:
    """An httpx request hook that stalls the first `stalls` requests."""
    seen = [0]

    def hook(request: httpx.Request) -> None:
        seen[0] += 1
        if seen[0] <= stalls:
            clock.advance(STALL)

    return hook


def client(sandbox: Sandbox, clock: ManualClock, limiter: ShortGrants, stalls: int) -> AlpacaClient:
    env = {"ALPACA_API_KEY": sandbox.key, "ALPACA_SECRET_KEY": sandbox.secret, "GOOGLE_CLOUD_PROJECT": "p"}
    credentials = AlpacaCredentials(Settings.from_mapping(env), CachedSecrets(StaticSecrets({}), clock, 300))
    http = httpx.Client(timeout=10.0, event_hooks={"request": [stalling(clock, stalls)]})
    return AlpacaClient(
        http,
        base_url=sandbox.url,
        data_url=sandbox.url,
        credentials=credentials,
        limiter=limiter,
        clock=clock,
    )


def test_a_unit_stale_before_its_first_byte_is_handed_back_and_a_fresh_one_sent(sandbox: Sandbox) -> None:
    """One stalled request: its unit goes back unsent, the next unit carries the only request."""
    clock = ManualClock()
    limiter = ShortGrants(clock)
    assert client(sandbox, clock, limiter, stalls=1).clock()["is_open"] in (True, False)
    assert upstream_requests(sandbox) == 1
    assert limiter.returned == limiter.granted[:1] and len(limiter.granted) == 2


def test_an_order_whose_units_all_go_stale_is_never_sent(sandbox: Sandbox) -> None:
    """Every grant stale by its first byte: 503 deadline_exceeded, the broker saw nothing, and every
    unit went back."""
    clock = ManualClock()
    limiter = ShortGrants(clock)
    order = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    with pytest.raises(Unavailable) as caught:
        client(sandbox, clock, limiter, stalls=99).place_order(order)
    assert caught.value.reason == "deadline_exceeded"
    assert upstream_requests(sandbox) == 0
    assert limiter.returned == limiter.granted
