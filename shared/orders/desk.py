"""OrderDesk: the order path of design §8, placing each idempotency key at most once, always recorded."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from google.cloud import firestore
from pydantic_core import PydanticCustomError

from shared.alpaca.client import AlpacaClient
from shared.alpaca.errors import sent_without_answer
from shared.audit import AuditLog, Event
from shared.auth.callers import Caller
from shared.clock import Clock
from shared.deadline import TRADE_SECONDS, Deadline
from shared.errors import (
    Conflict,
    GatewayError,
    RateLimited,
    Unavailable,
    Unprocessable,
)
from shared.firestore import Duplicate
from shared.orders.outcomes import Outcome, Outcomes, Ticket, denied_record, stored, why
from shared.orders.request import OrderRequest
from shared.orders.rules import check_client_order_id
from shared.orders.store import OrderRecords, order_doc_id
from shared.risk import RiskStore, rate_counter
from shared.risk_checks import Denied, RiskChecks

IN_FLIGHT_WAIT_SECONDS = 1.5
POLL_SECONDS = 0.05
STALE_PENDING_SECONDS = 30.0
LOOKUP_RESERVE_SECONDS = 0.5  # of the order's deadline, kept back from the send for one lookup


class OrderDesk:
    def __init__(
        self,
        alpaca: AlpacaClient,
        audit: AuditLog,
        risk: RiskStore,
        checks: RiskChecks,
        clock: Clock,
        in_flight_wait: float = IN_FLIGHT_WAIT_SECONDS,
    ) -> None:
        self._alpaca = alpaca
        self._audit = audit
        self._records = OrderRecords(audit)
        self._outcomes = Outcomes(audit, self._records)
        self._risk = risk
        self._checks = checks
        self._clock = clock
        self._in_flight_wait = in_flight_wait

    # -- the path --------------------------------------------------------------------------

    def place(
        self, body: Mapping[str, Any], *, caller: Caller, request_id: str, idempotency_key: str | None
    ) -> Outcome:
        """Parse, key, check, claim, send, settle. Raises only before the claim or when nothing was sent."""
        deadline = Deadline(self._clock, TRADE_SECONDS)
        order = OrderRequest.model_validate(body)
        key, source = self._key(order, idempotency_key)
        order = order.with_client_order_id(key)
        settings = self._risk.current()
        denial: Denied | None = None
        try:
            self._checks.check_order(order, settings, self._clock.now(), deadline)
        except Denied as exc:
            denial = exc
        limits = [n for n in (settings.max_orders_per_minute, caller.max_orders_per_minute) if n]
        ticket = Ticket(order_doc_id(key), secrets.token_hex(4), key, caller.name, request_id)
        subject = {"order": ticket.doc_id, "client_order_id": key, "symbol": order.symbol}
        record: dict[str, Any] = {
            **subject,
            "key_source": source,
            "claim": ticket.claim,
            "caller": caller.name,
            "request_id": request_id,
            "request": order.to_alpaca(),
            "fingerprint": order.fingerprint(),
            "state": "pending",
            "requested_at": self._audit.now(),
            "created_at": firestore.SERVER_TIMESTAMP,
            "attempts": 0,
        }
        if denial is not None:
            record.update(denied_record(ticket, denial))
            event = self._audit.event(Event.ORDER_DENIED, caller.name, request_id, **subject, **why(denial))
        else:
            event = self._audit.event(
                Event.ORDER_REQUESTED, caller.name, request_id, **subject, request=record["request"]
            )
        counter = (
            rate_counter(self._audit.db, caller.name, self._clock.now()) if limits and not denial else None
        )
        for _ in range(3):
            try:
                count = self._records.claim(ticket.doc_id, record, event, counter)
                break
            except Duplicate:
                existing = self._settled(ticket.doc_id, order, deadline)
                if existing is not None:
                    return existing
        else:
            raise _in_flight()
        if denial is not None:
            return stored(record)
        if count is not None and count > min(limits):
            return self._outcomes.denied_late(ticket, subject, min(limits))
        return self._send(ticket, order, subject, deadline)

    def _key(self, order: OrderRequest, header: str | None) -> tuple[str, str]:
        if order.client_order_id:
            return order.client_order_id, "client_order_id"
        if header is not None:
            try:
                check_client_order_id(header)
            except PydanticCustomError as exc:
                raise Unprocessable(f"Idempotency-Key: {exc.message()}", reason=exc.type) from exc
            return header, "idempotency_key"
        return uuid.uuid4().hex, "generated"

    def _send(
        self, ticket: Ticket, order: OrderRequest, subject: dict[str, Any], deadline: Deadline
    ) -> Outcome:
        payload = order.to_alpaca()
        try:
            raw = self._alpaca.place_order(payload, deadline=deadline, reserve=LOOKUP_RESERVE_SECONDS)
        except (RateLimited, Unavailable) as exc:
            # Refused before anything reached Alpaca (limiter, connect failure, 429, no time): free the key.
            event = self._audit.event(
                Event.ORDER_NOT_SENT, ticket.caller, ticket.request_id, **subject, **why(exc)
            )
            self._records.release(ticket.doc_id, ticket.claim, event)
            raise
        except GatewayError as exc:
            if sent_without_answer(exc):
                return self._look_up(ticket, payload, subject, deadline, attempts=1, last=exc)
            return self._outcomes.rejected(ticket, subject, exc, attempts=1)
        return self._outcomes.submitted(ticket, subject, raw, attempts=1)

    def _look_up(
        self,
        ticket: Ticket,
        payload: dict[str, Any],
        subject: dict[str, Any],
        deadline: Deadline,
        attempts: int,
        last: GatewayError | None,
    ) -> Outcome:
        """Settle by asking Alpaca for the order's id; if Alpaca does not have it, send it once more with
        the same id (Alpaca refuses a second copy, so this can never place it twice)."""
        resent, missing = False, False
        for _ in range(3):
            try:
                raw = self._alpaca.order_by_client_id(ticket.key, deadline=deadline)
            except GatewayError as exc:
                last, missing = exc, exc.status == 404
                if not missing or resent:
                    break
            else:
                return self._outcomes.submitted(ticket, subject, raw, attempts)
            resent, attempts = True, attempts + 1
            try:
                raw = self._alpaca.place_order(payload, deadline=deadline, reserve=LOOKUP_RESERVE_SECONDS)
            except GatewayError as exc:
                last = exc
                if sent_without_answer(exc) or exc.reason == "duplicate_client_order_id":
                    continue  # it may have landed: the next lookup tells
                if isinstance(exc, RateLimited | Unavailable):
                    break  # not sent this time either: the last lookup's 404 still holds
                return self._outcomes.rejected(ticket, subject, exc, attempts)
            else:
                return self._outcomes.submitted(ticket, subject, raw, attempts)
        return self._outcomes.unresolved(ticket, subject, last, attempts, at_broker=not missing)

    # -- repeats ---------------------------------------------------------------------------

    def _settled(self, doc_id: str, order: OrderRequest, deadline: Deadline) -> Outcome | None:
        """A repeat: the stored outcome once there is one; None if the record vanished (claim again)."""
        waited = self._clock.now() + self._in_flight_wait
        while True:
            record = self._records.get(doc_id)
            if record is None:
                return None
            if record.get("fingerprint") != order.fingerprint():
                raise Conflict(
                    "this idempotency key was used for a different order", reason="idempotency_key_reused"
                )
            if record.get("state") == "unresolved" or (
                record.get("state") == "pending" and self._stale(record)
            ):
                return self._reconcile(doc_id, record, deadline)
            if record.get("state") != "pending":
                return stored(record, replayed=True)
            if self._clock.now() >= waited:
                raise _in_flight()
            self._clock.sleep(POLL_SECONDS)

    def _stale(self, record: Mapping[str, Any]) -> bool:
        requested = record.get("requested_at")
        return requested is not None and self._clock.now() - requested.timestamp() > STALE_PENDING_SECONDS

    def _reconcile(self, doc_id: str, record: Mapping[str, Any], deadline: Deadline) -> Outcome:
        """Settle an unresolved or abandoned record: found at Alpaca means submitted; not found means it
        is sent now with its own id; no answer leaves it unresolved, saying why."""
        ticket = Ticket(
            doc_id,
            str(record["claim"]),
            str(record["client_order_id"]),
            str(record["caller"]),
            str(record.get("request_id") or ""),
        )
        payload = dict(record["request"])
        outcome = self._look_up(ticket, payload, {}, deadline, int(record.get("attempts") or 0), None)
        return Outcome(outcome.status, outcome.body, replayed=True)


def _in_flight() -> Conflict:
    return Conflict(
        "an order with this key is being placed right now; retry to get its outcome",
        reason="order_in_flight",
        retry_after=1,
    )
