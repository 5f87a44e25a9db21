"""The audit trail: events oldest first from a point in time."""

from __future__ import annotations

from functions._http import Call, endpoint
from functions.inputs import AuditQuery, NoInput
from shared.audit import AuditPage


@endpoint("list_audit")
def list_audit(call: Call[NoInput, AuditQuery]) -> AuditPage:
    return call.gateway.audit.events(call.query.since, call.query.limit)
