"""`@scheduled(job)`: a Cloud Scheduler entry point: the scheduler's credential, the run key from
`X-CloudScheduler-ScheduleTime`, and a JSON outcome."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import flask

from functions._edge import bearer, json_response, served
from functions.routes import Job, job_for
from shared.app import gateway
from shared.clock import parse_time
from shared.errors import BadRequest, MethodNotAllowed
from shared.gateway import Gateway
from shared.logs import annotate

SCHEDULE_TIME = "X-CloudScheduler-ScheduleTime"


@dataclass(frozen=True)
class Run:
    """One delivery of a job. Deliveries of one scheduled time share `run_key`; a manual run has its own."""

    gateway: Gateway
    job: Job
    run_key: str
    scheduled_at: datetime | None
    request_id: str
    caller: str


def schedule_time(raw: str | None) -> datetime | None:
    """Cloud Scheduler's RFC 3339 schedule time of this delivery; None for a manual run."""
    if raw is None:
        return None
    try:
        return parse_time(raw).astimezone(UTC)
    except ValueError:
        message = f"{SCHEDULE_TIME} must be an RFC 3339 time"
        raise BadRequest(message, reason="invalid_schedule_time") from None


def scheduled(job: str | Job) -> Callable[[Callable[[Run], Any]], Callable[[flask.Request], flask.Response]]:
    """Turn `handler(run) -> model | dict` into the HTTP entry point Cloud Scheduler calls (POST)."""
    spec = job if isinstance(job, Job) else job_for(job)

    def decorate(handler: Callable[[Run], Any]) -> Callable[[flask.Request], flask.Response]:
        @wraps(handler)
        def entry(request: flask.Request) -> flask.Response:
            def work(request_id: str) -> flask.Response:
                if request.method != "POST":
                    raise MethodNotAllowed(f"{request.method} is not allowed here; use POST")
                gw = gateway()
                caller = gw.scheduler.authenticate(bearer(request.headers.get("Authorization")))
                annotate(caller=caller)
                when = schedule_time(request.headers.get(SCHEDULE_TIME))
                key = when.strftime("%Y%m%dT%H%M%SZ") if when else f"manual-{uuid.uuid4().hex[:12]}"
                return json_response(handler(Run(gw, spec, key, when, request_id, caller)))

            return served(request, f"job {spec.entry_point}", work)

        return entry

    return decorate
