"""Risk settings: read and change the live pre-trade limits and the trading state (the kill switch)."""

from __future__ import annotations

from functions._http import Call, endpoint
from shared.risk import RiskSettings


@endpoint("get_risk")
def get_risk(call: Call) -> RiskSettings:
    return call.gateway.risk.fresh()


@endpoint("put_risk")
def put_risk(call: Call) -> RiskSettings:
    return call.gateway.risk.update(dict(call.body), call.caller.name, call.request_id)
