"""Risk settings: read and change the live pre-trade limits and the trading state (the kill switch)."""

from __future__ import annotations

from functions._http import Call, endpoint
from functions.inputs import NoInput
from shared.risk.settings import RiskChange, RiskSettings


@endpoint("get_risk")
def get_risk(call: Call[NoInput, NoInput]) -> RiskSettings:
    return call.gateway.risk.fresh()


@endpoint("put_risk")
def put_risk(call: Call[RiskChange, NoInput]) -> RiskSettings:
    return call.gateway.risk.update(call.body.changes(), call.caller.name, call.request_id)
