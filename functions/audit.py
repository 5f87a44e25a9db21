"""The audit trail: events oldest first from a point in time."""

from __future__ import annotations

from datetime import UTC, datetime

from functions._http import Call, endpoint
from shared.audit import LIST_DEFAULT, LIST_MAX, AuditPage
from shared.errors import BadRequest


def _since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise BadRequest("since must be an RFC 3339 time", reason="invalid_since") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@endpoint("list_audit")
def list_audit(call: Call) -> AuditPage:
    return call.gateway.audit.events(
        _since(call.query.get("since")), call.int_query("limit", LIST_DEFAULT, LIST_MAX)
    )
