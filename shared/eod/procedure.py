"""One flatten run: reducing-only first, then cancel the orders that hold the shares, close every position
of the run's asset classes, and poll until flat or the deadline, recording every step."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from shared.alpaca.client import AlpacaClient
from shared.audit import AuditLog, Event
from shared.auth.callers import Caller
from shared.clock import Clock
from shared.config import Settings
from shared.eod.liquidation import Liquidator, compact_symbol
from shared.eod.runs import Progress, Runs, RunState, report
from shared.eod.session import Session
from shared.errors import GatewayError, Unavailable
from shared.limits.protocol import Priority
from shared.models import Position
from shared.orders.exits import Exits
from shared.risk.settings import TradingState
from shared.risk.store import CACHE_SECONDS, RiskStore

log = logging.getLogger("execution_engine")
TRADE = Priority.TRADE
POLL_SECONDS = 0.5
FLATTEN_CALLER = "eod.flatten"


@dataclass(frozen=True)
class Plan:
    """What one flatten run closes, under which run id and order-id prefix, in which session."""

    run_id: str
    kind: str  # scheduled | on_demand
    tag: str
    session: Session
    classes: tuple[str, ...]
    caller: str
    request_id: str

    @property
    def session_date(self) -> str:
        return (self.session.closing_date if self.session.is_open else self.session.today).isoformat()


class Procedure:
    """What one run does, resumable: a resumed run skips what its record says is done and reads its
    orders back by their client order ids."""

    def __init__(
        self,
        alpaca: AlpacaClient,
        exits: Exits,
        risk: RiskStore,
        runs: Runs,
        audit: AuditLog,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._alpaca = alpaca
        self._exits = exits
        self._risk = risk
        self._runs = runs
        self._audit = audit
        self._clock = clock
        self._settings = settings

    def execute(self, plan: Plan, progress: Progress, *, resumed: bool) -> dict[str, Any]:
        """Do the run (or what is left of it) and answer its record."""
        record = progress.record
        offset = plan.session.now.timestamp() - self._clock.now()  # broker time minus ours
        deadline = plan.session.now + timedelta(seconds=self._settings.flatten_deadline_seconds)
        if plan.session.is_open:
            deadline = min(deadline, plan.session.next_close)  # a DAY order after the close would wait
        record["deadline_at"] = deadline
        if not resumed:
            self._audit.record(
                Event.EOD_FLATTEN_STARTED, plan.caller, plan.request_id, run=plan.run_id, run_kind=plan.kind
            )
        progress.step("resumed" if resumed else "started", deadline_at=deadline.isoformat())
        self._reduce(plan, progress)
        positions = self._positions()
        record.setdefault("before", [_position_json(p) for p in positions])
        record["left_alone"] = [
            {"symbol": p["symbol"], "asset_class": p.get("asset_class"), "qty": str(p["qty"])}
            for p in positions
            if not self._in_class(p, plan)
        ]
        self._liquidate(plan, progress, resumed, lambda: self._clock.now() + offset, deadline.timestamp())
        return self._finish(plan, progress)

    def _reduce(self, plan: Plan, progress: Progress) -> None:
        """Reducing-only before anything else, so no webhook reopens a position while the run works."""
        record = progress.record
        if "trading_state_before" in record:
            return  # a resumed run switched already
        current = self._risk.fresh()
        record["trading_state_before"] = current.trading_state.value
        record["reactivate_at"] = None
        if current.trading_state != TradingState.ACTIVE:
            progress.step("trading_state_kept", trading_state=current.trading_state.value)
            return
        reactivate = plan.session.next_open.isoformat() if self._reactivates() else None
        change = {"trading_state": TradingState.REDUCING.value, "reactivate_at": reactivate}
        self._risk.update(change, FLATTEN_CALLER, plan.request_id)
        record["reactivate_at"] = reactivate
        progress.step("trading_state_reducing", reactivate_at=reactivate)
        self._clock.sleep(CACHE_SECONDS)  # every instance's cached settings now say reducing

    def _reactivates(self) -> bool:
        return self._settings.flatten_reactivate == "next_open"

    def _liquidate(
        self, plan: Plan, progress: Progress, resumed: bool, broker_now: Callable[[], float], deadline: float
    ) -> None:
        entries = {str(e["symbol"]): e for e in progress.record["symbols"]}
        liquidator = Liquidator(self._alpaca, plan.tag)
        look_up_first = resumed
        while True:
            held = {compact_symbol(p["symbol"]): p for p in self._positions() if self._holds(p, plan)}
            for symbol, position in held.items():
                if symbol not in entries:
                    entries[symbol] = _entry(symbol, position)
                    progress.record["symbols"].append(entries[symbol])
            if not held or broker_now() >= deadline:
                return
            orders = self._alpaca.orders(status="open", limit=500, nested="false", priority=TRADE)
            blocking = [o for o in orders if compact_symbol(o["symbol"]) in held and not liquidator.ours(o)]
            if blocking:
                self._cancel(plan, progress, entries, blocking)
                self._await_release(set(held), liquidator, broker_now, deadline)
                continue
            working = {compact_symbol(o["symbol"]) for o in orders if liquidator.ours(o)}
            for symbol, position in held.items():
                if symbol not in working:
                    self._close(plan, progress, liquidator, entries[symbol], position, look_up_first)
            look_up_first = False
            self._clock.sleep(POLL_SECONDS)
            progress.save()

    def _close(
        self,
        plan: Plan,
        progress: Progress,
        liquidator: Liquidator,
        entry: dict[str, Any],
        position: dict[str, Any],
        look_up_first: bool,
    ) -> None:
        attempt = liquidator.next_attempt(entry, look_up_first)
        if attempt is None:
            return  # one of ours is still working at the broker
        current = liquidator.prepare(entry, position, attempt)
        progress.save()  # recorded before it is sent: a resumed run looks it up instead of guessing
        self._audit.record(
            Event.EOD_LIQUIDATION,
            plan.caller,
            plan.request_id,
            run=plan.run_id,
            symbol=entry["symbol"],
            client_order_id=current["client_order_id"],
            qty=current["qty"],
        )
        liquidator.place(current, position)
        detail = {k: current.get(k) for k in ("client_order_id", "status", "error")}
        progress.step("liquidation", symbol=entry["symbol"], **detail)

    def _cancel(
        self, plan: Plan, progress: Progress, entries: dict[str, dict[str, Any]], orders: list[dict[str, Any]]
    ) -> None:
        """Cancel (audited) every order holding shares of a symbol to close; legs of one group go together."""
        caller = Caller(plan.caller, frozenset())
        for order in orders:
            entry = entries[compact_symbol(order["symbol"])]
            try:
                result = self._exits.cancel(str(order["id"]), caller, plan.request_id)
                status = result.status
            except GatewayError as exc:
                status = exc.reason  # already ended with its group, most often
            entry["canceled"].append({"order_id": order["id"], "type": order.get("type"), "status": status})
        progress.step("canceled", orders=[str(o["id"]) for o in orders])

    def _await_release(
        self, symbols: set[str], liquidator: Liquidator, broker_now: Callable[[], float], deadline: float
    ) -> None:
        """Until no order of another holds shares of these symbols (a cancel may sit in pending_cancel)."""
        while broker_now() < deadline:
            orders = self._alpaca.orders(status="open", limit=500, nested="false", priority=TRADE)
            if not any(compact_symbol(o["symbol"]) in symbols and not liquidator.ours(o) for o in orders):
                return
            self._clock.sleep(POLL_SECONDS)

    def _finish(self, plan: Plan, progress: Progress) -> dict[str, Any]:
        record = progress.record
        final = self._positions()
        record["after"] = [_position_json(p) for p in final]
        still = {compact_symbol(p["symbol"]) for p in final if self._holds(p, plan)}
        liquidator = Liquidator(self._alpaca, plan.tag)
        for entry in record["symbols"]:
            liquidator.refresh(entry)
            entry.update(_outcome(entry, str(entry["symbol"]) in still))
        failed = [e["symbol"] for e in record["symbols"] if e["outcome"] == "failed"]
        record["state"] = (RunState.INCOMPLETE if failed else RunState.DONE).value
        record["finished_at"] = self._runs.now()
        progress.step("finished", state=record["state"], failed=failed)
        try:
            outcomes = {str(e["symbol"]): e["outcome"] for e in record["symbols"]}
            self._audit.record(
                Event.EOD_FLATTEN,
                plan.caller,
                plan.request_id,
                run=plan.run_id,
                state=record["state"],
                outcomes=outcomes,
            )
        except Unavailable:
            log.error("flatten %s: its outcome event could not be recorded", plan.run_id)
        return report(plan.run_id, record)

    def _positions(self) -> list[dict[str, Any]]:
        return self._alpaca.positions(priority=TRADE)

    def _in_class(self, position: dict[str, Any], plan: Plan) -> bool:
        return str(position.get("asset_class") or "us_equity") in plan.classes

    def _holds(self, position: dict[str, Any], plan: Plan) -> bool:
        return self._in_class(position, plan) and Decimal(str(position.get("qty") or "0")) != 0


def _entry(symbol: str, position: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "asset_class": position.get("asset_class"),
        "side": position.get("side"),
        "qty": str(position["qty"]),
        "canceled": [],
        "orders": [],
    }


def _outcome(entry: dict[str, Any], still_open: bool) -> dict[str, Any]:
    """closed (one of ours filled), already_flat (gone without ours), or failed with the last reason."""
    if not still_open:
        ours = any(o.get("status") == "filled" for o in entry["orders"])
        return {"outcome": "closed" if ours else "already_flat", "reason": None}
    errors = [o.get("error") for o in entry["orders"] if o.get("error")]
    return {"outcome": "failed", "reason": errors[-1] if errors else "not_flat_by_deadline"}


def _position_json(raw: dict[str, Any]) -> dict[str, Any]:
    return Position.from_alpaca(raw).model_dump(mode="json")
