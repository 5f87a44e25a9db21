"""End-of-day routes: flatten now, and read the snapshots and the flatten run of a session."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from functions._http import Call, endpoint
from functions.inputs import DateQuery, FlattenRequest, NoInput
from shared.clock import EASTERN
from shared.eod.reports import FlattenRun, Snapshot
from shared.errors import BadRequest, NotFound
from shared.gateway import Gateway
from shared.identifiers import CLIENT_ORDER_ID

KEY_MAX = 128


def _day(call: Call[NoInput, DateQuery]) -> date:
    return call.query.date or _today(call.gateway)


def _today(gw: Gateway) -> date:
    return datetime.fromtimestamp(gw.clock.now(), EASTERN).date()


@endpoint("flatten_now")
def flatten_now(call: Call[FlattenRequest, NoInput]) -> FlattenRun:
    """The flatten, now; a repeat of the Idempotency-Key answers the first run and does nothing else."""
    key = call.headers.get("idempotency-key") or uuid.uuid4().hex
    if len(key) > KEY_MAX or CLIENT_ORDER_ID.fullmatch(key) is None:
        raise BadRequest(
            f"Idempotency-Key must be printable ASCII without '/', at most {KEY_MAX} characters",
            reason="invalid_idempotency_key",
        )
    report = call.gateway.flatten.on_demand(key, call.body.asset_classes, call.caller.name, call.request_id)
    return FlattenRun.model_validate(report)


@endpoint("list_snapshots")
def list_snapshots(call: Call[NoInput, DateQuery]) -> list[Snapshot]:
    return [Snapshot.model_validate(s) for s in call.gateway.snapshots.on(_day(call))]


@endpoint("get_eod_run")
def get_eod_run(call: Call[NoInput, DateQuery]) -> FlattenRun:
    day = _day(call)
    found = call.gateway.flatten.run_of(day.isoformat())
    if found is None:
        raise NotFound(f"no flatten run for the session of {day.isoformat()}", reason="eod_run_not_found")
    return FlattenRun.model_validate(found)
