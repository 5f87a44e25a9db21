"""The outcome of a claimed order: its record's final state and event, and the answer to the caller."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.audit import AuditLog, Event
from shared.errors import GatewayError, Unavailable
from shared.models import Order
from shared.orders.record import Answer, OrderRecord, OrderState
from shared.orders.store import OrderRecords
from shared.risk.checks import Denied

log = logging.getLogger("execution_engine")

REPLAYED = "Idempotent-Replayed"
UNRESOLVED_AT_BROKER = (
    "answer_lost",
    "the order was sent but neither the broker's answer nor a lookup came back; it is recorded, and a "
    "repeat of this request (same key) settles it without ever placing it twice",
)
UNRESOLVED_NOT_PLACED = (
    "not_placed",
    "the broker failed and reports no such order, so nothing was placed; repeat this request with the "
    "same key to send it again (it can never be placed twice)",
)


@dataclass(frozen=True)
class Outcome:
    """An answer to a placement: what the first delivery got, and what every repeat gets again."""

    status: int
    body: dict[str, Any]
    replayed: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return {**self.extra_headers, **({REPLAYED: "true"} if self.replayed else {})}


@dataclass(frozen=True)
class Ticket:
    """One claim of a key: the record's id, the claim token, and who asked."""

    doc_id: str
    claim: str
    key: str
    caller: str
    request_id: str

    @classmethod
    def of(cls, record: OrderRecord) -> Ticket:
        return cls(record.order, record.claim, record.client_order_id, record.caller, record.request_id)


def error_fields(error: GatewayError) -> dict[str, Any]:
    """What a record and its event keep of an error: our reason and message, and Alpaca's status and code."""
    found: dict[str, Any] = {"reason": error.reason, "message": error.message}
    for name, value in (("upstream_status", error.upstream_status), ("upstream_code", error.upstream_code)):
        if value is not None:
            found[name] = value
    return found


def replay(record: OrderRecord) -> Outcome:
    """The answer a settled record holds, as a repeat of its key gets it."""
    if record.response is None:
        raise ValueError(f"order record {record.order} has no answer to replay")
    return Outcome(record.response.status, dict(record.response.body), replayed=True)


def denial_fields(request_id: str, denial: Denied) -> dict[str, Any]:
    """The final fields of a record whose order the risk checks denied before it was claimed."""
    body = {**denial.body(), "request_id": request_id}
    return {
        "state": OrderState.DENIED,
        "response": Answer(status=denial.status, body=body),
        **error_fields(denial),
    }


class Outcomes:
    """Settles a pending order record with its outcome and event; answers what every repeat gets again."""

    def __init__(self, audit: AuditLog, records: OrderRecords) -> None:
        self._audit = audit
        self._records = records

    def _settle(
        self,
        ticket: Ticket,
        subject: dict[str, Any],
        state: OrderState,
        status: int,
        body: dict[str, Any],
        kind: Event,
        record_only: Mapping[str, Any] | None = None,
        **data: Any,
    ) -> Outcome:
        update = {"state": state, "response": {"status": status, "body": body}, **data, **(record_only or {})}
        unknown = set(update) - set(OrderRecord.model_fields)
        if unknown:
            raise ValueError(f"not fields of an order record: {sorted(unknown)}")
        subject = {"order": ticket.doc_id, "client_order_id": ticket.key, **subject}
        event = self._audit.event(kind, ticket.caller, ticket.request_id, **subject, **data)
        try:
            self._records.settle(ticket.doc_id, ticket.claim, update, event)
        except Unavailable:
            # The order went out and its pending record exists; a later repeat or sync settles it.
            log.error("order %s: outcome %s could not be recorded", ticket.doc_id, state)
        return Outcome(status, body)

    def submitted(
        self,
        ticket: Ticket,
        subject: dict[str, Any],
        raw: dict[str, Any],
        attempts: int,
        timings: Mapping[str, datetime] | None = None,
    ) -> Outcome:
        order = Order.from_alpaca(raw)
        return self._settle(
            ticket,
            subject,
            OrderState.SUBMITTED,
            200,
            order.model_dump(mode="json"),
            Event.ORDER_SUBMITTED,
            timings,
            alpaca_order_id=order.id,
            alpaca_status=order.status,
            attempts=attempts,
        )

    def rejected(self, ticket: Ticket, subject: dict[str, Any], exc: GatewayError, attempts: int) -> Outcome:
        body = {**exc.body(), "request_id": ticket.request_id}
        return self._settle(
            ticket,
            subject,
            OrderState.REJECTED,
            exc.status,
            body,
            Event.ORDER_REJECTED,
            attempts=attempts,
            **error_fields(exc),
        )

    def unresolved(
        self,
        ticket: Ticket,
        subject: dict[str, Any],
        exc: GatewayError | None,
        attempts: int,
        *,
        at_broker: bool,
    ) -> Outcome:
        """Still open. `at_broker` False: Alpaca answered that it has no such order, so nothing was placed
        and a repeat of the key sends it; True: it was sent and neither its answer nor a lookup came back."""
        reason, message = UNRESOLVED_AT_BROKER if at_broker else UNRESOLVED_NOT_PLACED
        body = {
            "status": "unresolved",
            "reason": reason,
            "client_order_id": ticket.key,
            "message": message,
            "request_id": ticket.request_id,
        }
        known = error_fields(exc) if exc is not None else {}
        return self._settle(
            ticket,
            subject,
            OrderState.UNRESOLVED,
            202,
            body,
            Event.ORDER_UNRESOLVED,
            attempts=attempts,
            **known,
        )

    def denied_late(self, ticket: Ticket, subject: dict[str, Any], limit: int) -> Outcome:
        denial = Denied(
            f"at most {limit} orders per minute for this caller", reason="max_orders_per_minute", limit=limit
        )
        body = {**denial.body(), "request_id": ticket.request_id}
        return self._settle(
            ticket,
            subject,
            OrderState.DENIED,
            denial.status,
            body,
            Event.ORDER_DENIED,
            **error_fields(denial),
        )

    def not_sent(self, ticket: Ticket, subject: dict[str, Any], exc: GatewayError) -> None:
        """Alpaca has no such order after the in-flight window: nothing was placed, the key is free."""
        subject = {"order": ticket.doc_id, "client_order_id": ticket.key, **subject}
        fields = {**error_fields(exc), "reason": "not_at_broker"}
        fields["message"] = "the broker has no order with this key after the in-flight window; key freed"
        event = self._audit.event(Event.ORDER_NOT_SENT, ticket.caller, ticket.request_id, **subject, **fields)
        self._records.release(ticket.doc_id, ticket.claim, event)
