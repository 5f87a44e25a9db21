"""The Reconciler: settles an order whose outcome is open by asking Alpaca, never by guessing.

Found by its client order id means submitted. Not found means it is sent now with the same id, which
Alpaca refuses to accept twice, so this can never place an order twice. No answer leaves it
unresolved, with what is known. The repeat path and the order sync both use it.
"""

from __future__ import annotations

from typing import Any

from shared.alpaca.client import AlpacaClient
from shared.alpaca.errors import sent_without_answer
from shared.deadline import Deadline
from shared.errors import GatewayError, NothingSent
from shared.orders.outcomes import Outcome, Outcomes, Ticket
from shared.orders.record import OrderRecord

LOOKUP_RESERVE_SECONDS = 0.5  # of an order's deadline, kept back from a send for one lookup


class Reconciler:
    def __init__(self, alpaca: AlpacaClient, outcomes: Outcomes) -> None:
        self._alpaca = alpaca
        self._outcomes = outcomes

    def settle(self, record: OrderRecord, deadline: Deadline) -> Outcome:
        """Settle an unresolved or abandoned (stale pending) record; the answer is a replay of the key."""
        ticket = Ticket.of(record)
        outcome = self.look_up(ticket, dict(record.request), {}, deadline, record.attempts, None)
        return Outcome(outcome.status, outcome.body, replayed=True)

    def resolve(self, record: OrderRecord, deadline: Deadline, *, free_if_missing: bool) -> str:
        """The order sync's settlement, which never sends: found is `submitted`; missing, once the
        in-flight window is over (`free_if_missing`), is `not_sent` with the key freed; else `open`."""
        ticket = Ticket.of(record)
        subject = {"symbol": record.symbol}
        try:
            raw = self._alpaca.order_by_client_id(ticket.key, deadline=deadline)
        except GatewayError as exc:
            if exc.status == 404 and free_if_missing:
                self._outcomes.not_sent(ticket, subject, exc)
                return "not_sent"
            return "open"
        self._outcomes.submitted(ticket, subject, raw, record.attempts)
        return "submitted"

    def look_up(
        self,
        ticket: Ticket,
        payload: dict[str, Any],
        subject: dict[str, Any],
        deadline: Deadline,
        attempts: int,
        last: GatewayError | None,
    ) -> Outcome:
        """Ask Alpaca for the order by its id; if Alpaca does not have it, send it (once more here)."""
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
                if isinstance(exc, NothingSent):
                    break  # not sent this time either: the last lookup's 404 still holds
                return self._outcomes.rejected(ticket, subject, exc, attempts)
            else:
                return self._outcomes.submitted(ticket, subject, raw, attempts)
        return self._outcomes.unresolved(ticket, subject, last, attempts, at_broker=not missing)
