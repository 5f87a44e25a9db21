"""The answers of the end-of-day endpoints: a position snapshot, and a flatten run with each symbol's
outcome (the models give the OpenAPI document its schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict

from shared.models import Model, Position


class Snapshot(Model):
    """Account equity, cash, buying power and every position (crypto included) at one time."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    taken_at: str
    schedule_time: str | None  # Cloud Scheduler's schedule time (RFC 3339); null when run by hand
    date: str  # the exchange's date of the snapshot, YYYY-MM-DD
    equity: str
    cash: str
    buying_power: str
    positions: list[Position]


class LiquidationOrder(Model):
    model_config = ConfigDict(extra="allow", frozen=True)

    attempt: int
    client_order_id: str
    status: str
    order_id: str | None = None
    qty: str | None = None
    filled_qty: str | None = None
    error: str | None = None


class SymbolOutcome(Model):
    """One symbol the run closed: closed, already_flat (gone without our order), or failed with a reason."""

    model_config = ConfigDict(extra="allow", frozen=True)

    symbol: str
    asset_class: str | None = None
    side: str | None = None
    qty: str
    outcome: Literal["closed", "already_flat", "failed"] | None = None  # null while the run works
    reason: str | None = None
    canceled: list[dict[str, Any]]
    orders: list[LiquidationOrder]


class FlattenRun(Model):
    """One flatten run as `eod_runs` records it: state, times, outcomes, the orders placed, every step."""

    model_config = ConfigDict(extra="allow", frozen=True)

    run: str
    kind: Literal["scheduled", "on_demand"]
    session: str
    state: Literal["running", "done", "incomplete"]
    started_at: str
    finished_at: str | None = None
    deadline_at: str | None = None
    next_close: str | None = None
    next_open: str | None = None
    asset_classes: list[str]
    trading_state_before: str | None = None
    reactivate_at: str | None = None
    symbols: list[SymbolOutcome]
    left_alone: list[dict[str, Any]] = []
    before: list[Position] = []
    after: list[Position] = []
    steps: list[dict[str, Any]]
    resumes: int = 0
    duplicate: bool = False  # this delivery found the run already done or in progress, and did nothing
    replayed: bool = False  # a repeat of an on-demand flatten's Idempotency-Key
