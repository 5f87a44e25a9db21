"""Account, market clock and gateway configuration."""

from __future__ import annotations

from functions._http import Call, endpoint
from shared.models import Account, GatewayConfig, MarketClock


@endpoint("get_account")
def get_account(call: Call) -> Account:
    return call.gateway.broker.account()


@endpoint("get_clock")
def get_clock(call: Call) -> MarketClock:
    return call.gateway.broker.clock()


@endpoint("get_config")
def get_config(call: Call) -> GatewayConfig:
    return call.gateway.broker.config()
