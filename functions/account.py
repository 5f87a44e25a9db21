"""Account, market clock and gateway configuration."""

from __future__ import annotations

from functions._http import Call, endpoint
from functions.inputs import NoInput
from shared.models import Account, GatewayConfig, MarketClock


@endpoint("get_account")
def get_account(call: Call[NoInput, NoInput]) -> Account:
    return call.gateway.account.account()


@endpoint("get_clock")
def get_clock(call: Call[NoInput, NoInput]) -> MarketClock:
    return call.gateway.account.clock()


@endpoint("get_config")
def get_config(call: Call[NoInput, NoInput]) -> GatewayConfig:
    return call.gateway.account.config()
