"""Cancels and position closes, audited before and after the upstream call like orders are."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.alpaca.client import AlpacaClient
from shared.alpaca.errors import sent_without_answer
from shared.audit import AuditLog, Event
from shared.auth.callers import Caller
from shared.clock import Clock
from shared.deadline import TRADE_SECONDS, Deadline
from shared.errors import GatewayError, NotFound, Unavailable
from shared.limits.protocol import Priority
from shared.models import CancelResult, ClosePositionResult, Order
from shared.orders.closes import OpenCloses
from shared.risk.checks import Denied, RiskChecks
from shared.risk.store import RiskStore

log = logging.getLogger("execution_engine")
T = TypeVar("T", bound=BaseModel)


class CloseUnresolved(Exception):
    """A close was sent and its answer lost; it is recorded open under `close_id`."""

    def __init__(self, close_id: str | None, symbol: str) -> None:
        super().__init__(symbol)
        self.close_id = close_id
        self.symbol = symbol


class Exits:
    """Cancels pass in every trading state; closes in every state but halted."""

    def __init__(
        self,
        alpaca: AlpacaClient,
        audit: AuditLog,
        risk: RiskStore,
        checks: RiskChecks,
        closes: OpenCloses,
        clock: Clock,
    ) -> None:
        self._alpaca = alpaca
        self._audit = audit
        self._risk = risk
        self._checks = checks
        self._closes = closes
        self._clock = clock

    def cancel(self, order_id: str, caller: Caller, request_id: str) -> CancelResult:
        deadline = Deadline(self._clock, TRADE_SECONDS)
        subject = {"alpaca_order_id": order_id}
        self._audit.record(Event.ORDER_CANCEL_REQUESTED, caller.name, request_id, **subject)
        return self._audited(
            Event.ORDER_CANCEL_RESULT,
            caller,
            request_id,
            subject,
            lambda: self._cancel(order_id, deadline),
        )

    def close(
        self, symbol: str, caller: Caller, request_id: str, *, qty: str | None, percentage: str | None
    ) -> ClosePositionResult:
        """Close all of a position, or `qty` of it, or `percentage`; raises CloseUnresolved when the
        broker may have acted but did not answer in time."""
        deadline = Deadline(self._clock, TRADE_SECONDS)
        subject = {"symbol": symbol, "qty": qty, "percentage": percentage}
        try:
            self._checks.check_close(self._risk.current())
        except Denied as denial:
            self._audit.record(
                Event.POSITION_CLOSE_DENIED, caller.name, request_id, **subject, reason=denial.reason
            )
            raise
        self._settle_earlier(symbol)
        self._audit.record(Event.POSITION_CLOSE_REQUESTED, caller.name, request_id, **subject)

        def act() -> ClosePositionResult:
            # A lost answer is no failed close: it is kept open (and gets no result event yet).
            try:
                return self._close(symbol, qty, percentage, deadline)
            except GatewayError as exc:
                if sent_without_answer(exc):
                    close_id = self._keep_open(subject, caller, request_id, exc)
                    raise CloseUnresolved(close_id, symbol) from exc
                raise

        return self._audited(Event.POSITION_CLOSE_RESULT, caller, request_id, subject, act)

    def _cancel(self, order_id: str, deadline: Deadline) -> CancelResult:
        """Ask Alpaca to cancel, then report the status it now gives (never assume `canceled`)."""
        self._alpaca.cancel_order(order_id, deadline=deadline)
        raw = self._alpaca.order(order_id, priority=Priority.TRADE, deadline=deadline)
        return CancelResult.from_order(Order.from_alpaca(raw))

    def _close(
        self, symbol: str, qty: str | None, percentage: str | None, deadline: Deadline
    ) -> ClosePositionResult:
        try:
            raw = self._alpaca.close_position(symbol, qty=qty, percentage=percentage, deadline=deadline)
        except NotFound as exc:
            raise NotFound(f"no open position in {symbol}", reason="position_not_found") from exc
        return ClosePositionResult.from_order(Order.from_alpaca(raw))

    def _settle_earlier(self, symbol: str) -> None:
        """Earlier closes of this symbol with a lost answer are settled first, so the trail stays in order."""
        try:
            self._closes.settle(symbol)
        except GatewayError as exc:
            log.warning("open closes of %s not settled now: %s", symbol, exc.reason)

    def _keep_open(
        self, subject: dict[str, Any], caller: Caller, request_id: str, error: GatewayError
    ) -> str | None:
        try:
            return self._closes.record(subject, caller.name, request_id, error)
        except Unavailable:
            log.error("request %s: the open close of %s could not be recorded", request_id, subject["symbol"])
            return None

    def _audited(
        self, kind: Event, caller: Caller, request_id: str, subject: dict[str, Any], act: Callable[[], T]
    ) -> T:
        try:
            result = act()
        except GatewayError as exc:
            self._outcome(kind, caller, request_id, subject, ok=False, reason=exc.reason, status=exc.status)
            raise
        self._outcome(kind, caller, request_id, subject, ok=True, result=result.model_dump(mode="json"))
        return result

    def _outcome(
        self, kind: Event, caller: Caller, request_id: str, subject: dict[str, Any], **data: Any
    ) -> None:
        # The action already happened upstream; a lost outcome event is logged, not turned into an error.
        try:
            self._audit.record(kind, caller.name, request_id, **subject, **data)
        except Unavailable:
            log.error("request %s: %s could not be recorded", request_id, kind.value)
