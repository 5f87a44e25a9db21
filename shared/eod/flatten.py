"""The flatten's entry: the scheduled one acts only inside the lead time before Alpaca's next close, once
per session; the on-demand one now, once per Idempotency-Key. Each claims its run, then runs the procedure."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from shared.alpaca.client import AlpacaClient
from shared.config import Settings
from shared.eod.procedure import TRADE, Plan, Procedure
from shared.eod.runs import Claim, Progress, Runs, report
from shared.eod.session import Session, decide, scheduled_tag
from shared.errors import Conflict, GatewayError, Unavailable
from shared.risk.checks import Denied
from shared.risk.settings import TradingState
from shared.risk.store import RiskStore

log = logging.getLogger("execution_engine")


class Flattener:
    """The scheduled flatten, and the same procedure on demand."""

    def __init__(
        self, alpaca: AlpacaClient, risk: RiskStore, runs: Runs, settings: Settings, procedure: Procedure
    ) -> None:
        self._alpaca = alpaca
        self._risk = risk
        self._runs = runs
        self._settings = settings
        self._procedure = procedure

    def scheduled(self, caller: str, request_id: str) -> dict[str, Any]:
        """Act only inside the lead time before today's close, once per session; else say why not."""
        session = Session.from_clock(self._alpaca.clock(priority=TRADE))
        calendar = None
        if not session.is_open:
            today = session.today.isoformat()
            calendar = self._alpaca.calendar(today, today, priority=TRADE)
        decision = decide(session, self._settings.flatten_lead_minutes, calendar)
        if decision.skipped is not None:
            return self._skipped(decision.skipped, session)
        if self._risk.current().trading_state == TradingState.HALTED:
            return self._skipped("trading_halted", session)
        day = session.closing_date
        classes = self._settings.flatten_asset_classes
        plan = Plan(
            f"flatten_{day.isoformat()}",
            "scheduled",
            scheduled_tag(day),
            session,
            classes,
            caller,
            request_id,
        )
        return self._run(plan, resume_incomplete=True)

    def on_demand(
        self, key: str, classes: tuple[str, ...] | None, caller: str, request_id: str
    ) -> dict[str, Any]:
        """Flatten now. A repeat of `key` answers the first run's record and does nothing else."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        run_id = f"flatten_now_{digest}"
        existing = self._runs.get(run_id)
        if existing is not None:
            return {**report(run_id, existing), "replayed": True}
        chosen = classes or self._settings.flatten_asset_classes
        session = Session.from_clock(self._alpaca.clock(priority=TRADE))
        if not session.is_open and set(chosen) - {"crypto"}:
            raise Conflict(
                "the market is closed: a market order now would wait for the next open",
                reason="market_closed",
                next_open=session.next_open.isoformat(),
            )
        if self._risk.current().trading_state == TradingState.HALTED:
            raise Denied("trading is halted: only cancels are accepted", reason="trading_halted")
        plan = Plan(run_id, "on_demand", f"flat-{digest[:10]}", session, chosen, caller, request_id)
        return self._run(plan, resume_incomplete=False)

    def run_of(self, session_date: str) -> dict[str, Any] | None:
        """The scheduled run of one session, as answered."""
        run_id = f"flatten_{session_date}"
        record = self._runs.get(run_id)
        return None if record is None else report(run_id, record)

    def _skipped(self, reason: str, session: Session) -> dict[str, Any]:
        lead = self._settings.flatten_lead_minutes
        return {
            "skipped": reason,
            "now": session.now.isoformat(),
            "is_open": session.is_open,
            "next_open": session.next_open.isoformat(),
            "next_close": session.next_close.isoformat(),
            "acts_from": session.acts_from(lead).isoformat() if session.is_open else None,
        }

    def _run(self, plan: Plan, *, resume_incomplete: bool) -> dict[str, Any]:
        fields = {
            "kind": plan.kind,
            "session": plan.session_date,
            "tag": plan.tag,
            "asset_classes": list(plan.classes),
            "next_close": plan.session.next_close,
            "next_open": plan.session.next_open,
            "caller": plan.caller,
            "request_id": plan.request_id,
        }
        claim, record = self._runs.claim(
            plan.run_id, fields, plan.request_id, resume_incomplete=resume_incomplete
        )
        if claim in (Claim.BUSY, Claim.FINISHED):
            return {**report(plan.run_id, record), "duplicate": True}
        progress = Progress(self._runs, plan.run_id, record)
        try:
            return self._procedure.execute(plan, progress, resumed=claim is Claim.RESUMED)
        except GatewayError as exc:
            # The broker or Firestore failed part way: the answer is that error (Scheduler retries it),
            # and the run is left for the next delivery to resume, its lease given up now.
            log.warning("flatten %s stopped part way: %s", plan.run_id, exc.reason)
            try:
                self._runs.release(plan.run_id)
            except Unavailable:
                log.error("flatten %s: its lease could not be released", plan.run_id)
            raise
