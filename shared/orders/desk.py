"""OrderDesk: the order path of design §8, placing each idempotency key at most once, always recorded."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from pydantic_core import PydanticCustomError

from shared.alpaca.assets import Assets
from shared.alpaca.client import AlpacaClient
from shared.alpaca.errors import sent_without_answer
from shared.audit import AuditLog, Event
from shared.auth.callers import Caller
from shared.clock import Clock
from shared.deadline import TRADE_SECONDS, Deadline
from shared.errors import Conflict, GatewayError, NothingSent
from shared.firestore import Duplicate
from shared.limits.order_rate import rate_counter
from shared.limits.protocol import Permit, prepaid
from shared.orders.outcomes import Outcome, Outcomes, Ticket, denial_fields, error_fields, replay
from shared.orders.reconciler import LOOKUP_RESERVE_SECONDS, Reconciler
from shared.orders.record import KeySource, OrderRecord, OrderState
from shared.orders.request import OrderRequest
from shared.orders.rules import check_client_order_id, rule_error
from shared.orders.store import OrderRecords, order_doc_id
from shared.risk.checks import Denied, RiskChecks
from shared.risk.store import RiskStore

IN_FLIGHT_WAIT_SECONDS = 1.5
POLL_SECONDS = 0.05
STALE_PENDING_SECONDS = 30.0


class OrderDesk:
    def __init__(
        self,
        alpaca: AlpacaClient,
        audit: AuditLog,
        records: OrderRecords,
        outcomes: Outcomes,
        reconciler: Reconciler,
        assets: Assets,
        risk: RiskStore,
        checks: RiskChecks,
        clock: Clock,
        in_flight_wait: float = IN_FLIGHT_WAIT_SECONDS,
    ) -> None:
        self._alpaca = alpaca
        self._audit = audit
        self._records = records
        self._outcomes = outcomes
        self._reconciler = reconciler
        self._assets = assets
        self._risk = risk
        self._checks = checks
        self._clock = clock
        self._in_flight_wait = in_flight_wait

    # -- the path --------------------------------------------------------------------------

    def place(
        self, order: OrderRequest, *, caller: Caller, request_id: str, idempotency_key: str | None
    ) -> Outcome:
        """Key, check, claim, send, settle. Raises only before the claim or when nothing was sent."""
        deadline = Deadline(self._clock, TRADE_SECONDS)
        received = self._audit.now()
        key, source = self._key(order, idempotency_key)
        settings = self._risk.current()  # Firestore first: with it down nothing reaches the broker
        order = order.with_client_order_id(key)
        asset = self._assets.find(order.symbol, deadline)
        if asset is not None:
            try:
                order = order.for_asset(asset.asset_class, asset.symbol)
            except PydanticCustomError as exc:
                raise rule_error(exc) from exc
        denial: Denied | None = None
        try:
            self._checks.check_order(order, settings, self._clock.now(), deadline)
        except Denied as exc:
            denial = exc
        limits = [n for n in (settings.max_orders_per_minute, caller.max_orders_per_minute) if n]
        ticket = Ticket(order_doc_id(key), secrets.token_hex(4), key, caller.name, request_id)
        subject: dict[str, Any] = {"order": ticket.doc_id, "client_order_id": key, "symbol": order.symbol}
        record = OrderRecord(
            order=ticket.doc_id,
            client_order_id=key,
            symbol=order.symbol,
            key_source=source,
            claim=ticket.claim,
            caller=caller.name,
            request_id=request_id,
            request=order.to_alpaca(),
            fingerprint=order.fingerprint(),
            state=OrderState.PENDING,
            requested_at=self._audit.now(),
            received_at=received,
        )
        if denial is not None:
            record = record.model_copy(update=denial_fields(request_id, denial))
            event = self._audit.event(
                Event.ORDER_DENIED, caller.name, request_id, **subject, **error_fields(denial)
            )
        else:
            event = self._audit.event(
                Event.ORDER_REQUESTED, caller.name, request_id, **subject, request=record.request
            )
        counter = (
            rate_counter(self._audit.db, caller.name, self._clock.now()) if limits and not denial else None
        )
        for _ in range(3):
            # The send's limiter unit rides in the claim's commit: a duplicate key consumes none.
            reservation = self._alpaca.reservation() if denial is None else None
            try:
                count, permit = self._records.claim(record, event, counter, reservation)
                break
            except Duplicate:
                existing = self._repeat(ticket.doc_id, order, deadline)
                if existing is not None:
                    return existing
        else:
            raise _in_flight()
        if denial is not None:
            return Outcome(denial.status, {**denial.body(), "request_id": request_id})
        if count is not None and count > min(limits):
            if permit is not None:
                permit.release()
            return self._outcomes.denied_late(ticket, subject, min(limits))
        return self._send(ticket, order, subject, deadline, permit)

    def _key(self, order: OrderRequest, header: str | None) -> tuple[str, KeySource]:
        if order.client_order_id:
            return order.client_order_id, "client_order_id"
        if header is not None:
            try:
                check_client_order_id(header)
            except PydanticCustomError as exc:
                raise rule_error(exc, "Idempotency-Key: ") from exc
            return header, "idempotency_key"
        return uuid.uuid4().hex, "generated"

    def _send(
        self,
        ticket: Ticket,
        order: OrderRequest,
        subject: dict[str, Any],
        deadline: Deadline,
        permit: Permit | None = None,
    ) -> Outcome:
        payload = order.to_alpaca()
        sent = self._audit.now()
        try:
            with prepaid(permit):
                raw = self._alpaca.place_order(payload, deadline=deadline, reserve=LOOKUP_RESERVE_SECONDS)
        except GatewayError as exc:
            if isinstance(exc, NothingSent):
                # Refused before anything reached Alpaca (limiter, connect failure, 429, no time): free
                # the key, keeping the event that says why.
                event = self._audit.event(
                    Event.ORDER_NOT_SENT, ticket.caller, ticket.request_id, **subject, **error_fields(exc)
                )
                self._records.release(ticket.doc_id, ticket.claim, event)
                raise
            if sent_without_answer(exc):
                return self._reconciler.look_up(ticket, payload, subject, deadline, 1, exc)
            return self._outcomes.rejected(ticket, subject, exc, attempts=1)
        finally:
            if permit is not None:
                permit.release()  # unspent only if the send never went out
        timings = {"sent_at": sent, "acknowledged_at": self._audit.now()}
        return self._outcomes.submitted(ticket, subject, raw, attempts=1, timings=timings)

    # -- repeats ---------------------------------------------------------------------------

    def _repeat(self, doc_id: str, order: OrderRequest, deadline: Deadline) -> Outcome | None:
        """A repeat: the stored outcome once there is one; None if the record vanished (claim again)."""
        waited = self._clock.now() + self._in_flight_wait
        while True:
            record = self._records.get(doc_id)
            if record is None:
                return None
            if record.fingerprint != order.fingerprint():
                raise Conflict(
                    "this idempotency key was used for a different order", reason="idempotency_key_reused"
                )
            if record.state == OrderState.UNRESOLVED or (
                record.state == OrderState.PENDING and self._stale(record)
            ):
                return self._reconciler.settle(record, deadline)
            if record.state != OrderState.PENDING:
                return replay(record)
            if self._clock.now() >= waited:
                raise _in_flight()
            self._clock.sleep(POLL_SECONDS)

    def _stale(self, record: OrderRecord) -> bool:
        return self._clock.now() - record.requested_at.timestamp() > STALE_PENDING_SECONDS


def _in_flight() -> Conflict:
    return Conflict(
        "an order with this key is being placed right now; retry to get its outcome",
        reason="order_in_flight",
        retry_after=1,
    )
