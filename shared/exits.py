"""Cancels and position closes, audited before and after the upstream call like orders are."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from shared.audit import AuditLog, Event
from shared.auth import Caller
from shared.broker import Broker
from shared.errors import GatewayError, Unavailable
from shared.models import CancelResult, ClosePositionResult
from shared.risk import RiskStore
from shared.risk_checks import Denied, RiskChecks

log = logging.getLogger("execution_engine")
T = TypeVar("T")


class Exits:
    """Cancels pass in every trading state; closes in every state but halted."""

    def __init__(self, broker: Broker, audit: AuditLog, risk: RiskStore, checks: RiskChecks) -> None:
        self._broker = broker
        self._audit = audit
        self._risk = risk
        self._checks = checks

    def cancel(self, order_id: str, caller: Caller, request_id: str) -> CancelResult:
        subject = {"alpaca_order_id": order_id}
        self._audit.record(Event.ORDER_CANCEL_REQUESTED, caller.name, request_id, **subject)
        return self._audited(
            Event.ORDER_CANCEL_RESULT,
            caller,
            request_id,
            subject,
            lambda: self._broker.cancel_order(order_id),
        )

    def close(
        self, symbol: str, caller: Caller, request_id: str, *, qty: str | None, percentage: str | None
    ) -> ClosePositionResult:
        subject = {"symbol": symbol.upper(), "qty": qty, "percentage": percentage}
        try:
            self._checks.check_close(self._risk.current())
        except Denied as denial:
            self._audit.record(
                Event.POSITION_CLOSE_DENIED, caller.name, request_id, **subject, reason=denial.reason
            )
            raise
        self._audit.record(Event.POSITION_CLOSE_REQUESTED, caller.name, request_id, **subject)
        return self._audited(
            Event.POSITION_CLOSE_RESULT,
            caller,
            request_id,
            subject,
            lambda: self._broker.close_position(symbol, qty=qty, percentage=percentage),
        )

    def _audited(
        self, kind: Event, caller: Caller, request_id: str, subject: dict[str, Any], act: Callable[[], T]
    ) -> T:
        try:
            result = act()
        except GatewayError as exc:
            self._outcome(kind, caller, request_id, subject, ok=False, reason=exc.reason, status=exc.status)
            raise
        dumped = result.model_dump(mode="json") if hasattr(result, "model_dump") else {}
        self._outcome(kind, caller, request_id, subject, ok=True, result=dumped)
        return result

    def _outcome(
        self, kind: Event, caller: Caller, request_id: str, subject: dict[str, Any], **data: Any
    ) -> None:
        # The action already happened upstream; a lost outcome event is logged, not turned into an error.
        try:
            self._audit.record(kind, caller.name, request_id, **subject, **data)
        except Unavailable:
            log.error("request %s: %s could not be recorded", request_id, kind.value)
