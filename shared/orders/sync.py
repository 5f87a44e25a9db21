"""The order sync: Alpaca is the source of truth, so a scheduled run reads the orders and FILL activities
changed since its cursor and brings the order records, the fills and the order events up to date.

Windows overlap (`OVERLAP`) so nothing at a boundary is missed; every write is idempotent (event ids
derive from the Alpaca order and the fill), so overlapping or repeated runs never double an event. The
cursor moves only after a run succeeded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.alpaca.client import AlpacaClient
from shared.audit import AuditLog, Event
from shared.clock import Clock, parse_time
from shared.deadline import READ_SECONDS, Deadline
from shared.errors import GatewayError
from shared.firestore import ORDERS, READ_RETRY, SYNC, TIMEOUT_SECONDS, Duplicate, firestore_errors
from shared.models import Model
from shared.orders.arrival import ArrivalPrices
from shared.orders.fills import Fill, FillStore, time_key
from shared.orders.reconciler import Reconciler
from shared.orders.record import OrderRecord, OrderState
from shared.orders.store import OrderRecords, order_doc_id

OVERLAP = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(days=1)  # the first run ever starts this far back in broker time
ORDER_PAGE = 500
FILL_PAGE = 100
MAX_PAGES = 10  # per run and source; the cursor moves to what was read, the next run goes on
TRACK_MAX = 100  # orders refreshed by id per run (still open, or filled outside the window)
SETTLE_MAX = 50
SETTLE_AFTER_SECONDS = 30.0  # a pending record this old lost its instance: settle it
NOT_SENT_AFTER_SECONDS = 120.0  # Alpaca has no such order this long after the claim: nothing was sent
FINAL = frozenset({"filled", "canceled", "expired", "replaced", "rejected"})
STATUS_EVENTS = {
    "filled": Event.ORDER_FILLED,
    "canceled": Event.ORDER_CANCELED,
    "expired": Event.ORDER_EXPIRED,
    "rejected": Event.ORDER_REJECTED,
}
TIMES = ("filled_at", "canceled_at", "expired_at", "failed_at")
LEG_FIELDS: tuple[str, ...] = ("id", "client_order_id", "symbol", "side", "type", "status", "qty")
LEG_FIELDS += ("filled_qty", "filled_avg_price", "limit_price", "stop_price", "filled_at")


class SyncReport(Model):
    """What one run did."""

    run_key: str
    orders: int = 0
    fills: int = 0
    records_updated: int = 0
    events_written: int = 0
    settled: dict[str, int] = {}
    cursor: dict[str, str | None] = {}
    notifications_retried: int = 0


@dataclass
class Owner:
    """The record an Alpaca order (or one of its legs) belongs to."""

    record: OrderRecord
    parent_id: str

    def fields(self) -> dict[str, Any]:
        r = self.record
        return {"record": r.order, "caller": r.caller, "client_order_id": r.client_order_id}


@dataclass
class Pass:
    """One run's reads: orders by id (legs nested), fills, and the records they belong to."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    owners: dict[str, Owner] = field(default_factory=dict)

    def fills_of(self, order_id: str) -> list[Fill]:
        return [f for f in self.fills if f.order_id == order_id]


def event_id(alpaca_order_id: str, kind: Event, fill_id: str | None = None) -> str:
    """One event per order and kind, or per fill for partial fills: repeats meet their first copy."""
    tail = f"-{hashlib.sha256(fill_id.encode()).hexdigest()[:16]}" if fill_id else ""
    return f"sync-{alpaca_order_id}-{kind.value.replace('.', '-')}{tail}"


def _time(raw: Any) -> datetime | None:
    return parse_time(str(raw)) if raw else None


def broker_state(order: Mapping[str, Any]) -> str:
    """What, when unchanged since the last run, means the order needs no new write or event."""
    members = [order, *(order.get("legs") or [])]
    return ";".join(f"{m['id']}:{m['status']}:{m.get('filled_qty')}" for m in members)


class OrderSync:
    def __init__(
        self,
        alpaca: AlpacaClient,
        audit: AuditLog,
        records: OrderRecords,
        reconciler: Reconciler,
        fills: FillStore,
        arrivals: ArrivalPrices,
        clock: Clock,
    ) -> None:
        self._alpaca = alpaca
        self._audit = audit
        self._db = audit.db
        self._records = records
        self._reconciler = reconciler
        self._fills = fills
        self._arrivals = arrivals
        self._clock = clock

    def run(self, run_key: str) -> SyncReport:
        report = SyncReport(run_key=run_key, settled=self.settle_open())
        cursor = self._cursor()
        if not cursor.get("orders_after") or not cursor.get("fills_after"):
            start = time_key(parse_time(str(self._alpaca.clock()["timestamp"])) - FIRST_LOOKBACK)
            cursor = {"orders_after": start, "fills_after": start, **{k: v for k, v in cursor.items() if v}}
        seen = Pass()
        newest_order = self._read_orders(seen, str(cursor["orders_after"]))
        newest_fill = self._read_fills(seen, str(cursor["fills_after"]))
        self._read_tracked(seen)
        self._own(seen)
        for order in seen.orders.values():
            report.events_written += self._apply(order, seen, report)
        report.fills = self._fills.save(
            f.model_copy(update=self._owner_fields(seen, f.order_id)) for f in seen.fills
        )
        report.events_written += self._partial_events(seen)
        report.orders = len(seen.orders)
        report.cursor = self._advance(cursor, newest_order, newest_fill, run_key)
        return report

    # -- settling what the order path left open ------------------------------------------------

    def settle_open(self) -> dict[str, int]:
        """Unresolved and stale pending records, through the Reconciler, which never sends here."""
        now = self._clock.now()
        stale = [
            r
            for r in self._records.in_state(OrderState.PENDING, SETTLE_MAX)
            if now - r.requested_at.timestamp() > SETTLE_AFTER_SECONDS
        ]
        counts: dict[str, int] = {}
        for record in [*self._records.in_state(OrderState.UNRESOLVED, SETTLE_MAX), *stale][:SETTLE_MAX]:
            old = now - record.requested_at.timestamp() > NOT_SENT_AFTER_SECONDS
            deadline = Deadline(self._clock, READ_SECONDS)
            result = self._reconciler.resolve(record, deadline, free_if_missing=old)
            counts[result] = counts.get(result, 0) + 1
        return counts

    # -- reads ---------------------------------------------------------------------------------

    def _read_orders(self, seen: Pass, after: str) -> str | None:
        """Orders submitted after the cursor less the overlap, paged oldest first; the newest time."""
        start = parse_time(after) - OVERLAP
        newest: str | None = None
        for _ in range(MAX_PAGES):
            page = self._alpaca.orders_after(time_key(start), limit=ORDER_PAGE)
            fresh = [o for o in page if o["id"] not in seen.orders]
            for order in fresh:
                seen.orders[order["id"]] = order
                newest = max(newest or "", time_key(parse_time(order["submitted_at"])))
            if len(page) < ORDER_PAGE or not fresh:
                break
            # `after` is exclusive: step back a microsecond so orders sharing the last time are kept.
            start = parse_time(page[-1]["submitted_at"]) - timedelta(microseconds=1)
        return newest

    def _read_fills(self, seen: Pass, after: str) -> str | None:
        start = time_key(parse_time(after) - OVERLAP)
        token: str | None = None
        newest: str | None = None
        ids = set()
        for _ in range(MAX_PAGES):
            page = self._alpaca.fill_activities(start, page_token=token, page_size=FILL_PAGE)
            for raw in page:
                if raw.get("activity_type", "FILL") != "FILL" or raw["id"] in ids:
                    continue
                ids.add(raw["id"])
                fill = Fill.from_activity(raw)
                seen.fills.append(fill)
                newest = max(newest or "", time_key(fill.transaction_time))
            if len(page) < FILL_PAGE:
                break
            token = str(page[-1]["id"])
        return newest

    def _read_tracked(self, seen: Pass) -> None:
        """Records whose order (or a leg) was still open, and orders with new fills, outside the window."""
        query = (
            self._db.collection(ORDERS)
            .where(filter=firestore.FieldFilter("tracking", "==", True))
            .limit(TRACK_MAX)
        )
        with firestore_errors(reading=True):
            tracked = [OrderRecord.model_validate(s.to_dict()) for s in query.stream(retry=READ_RETRY)]
        known = set(seen.orders) | {leg["id"] for o in seen.orders.values() for leg in o.get("legs") or []}
        wanted = [r.alpaca_order_id for r in tracked if r.alpaca_order_id]
        wanted += [f.order_id for f in seen.fills]
        fetched = 0
        for order_id in dict.fromkeys(wanted):
            if order_id in known:
                continue  # in the window, or a leg of an order fetched just now
            if fetched >= TRACK_MAX:
                break
            fetched += 1
            try:
                order = self._alpaca.order_with_legs(order_id)
            except GatewayError as exc:
                if exc.status == 404:
                    continue
                raise
            seen.orders[order["id"]] = order
            known |= {order["id"], *(leg["id"] for leg in order.get("legs") or [])}

    def _own(self, seen: Pass) -> None:
        """Map each order and leg to the gateway's record of its client order id, read in one batch."""
        refs = {
            order_id: self._db.collection(ORDERS).document(order_doc_id(o["client_order_id"]))
            for order_id, o in seen.orders.items()
            if o.get("client_order_id")
        }
        if not refs:
            return
        with firestore_errors(reading=True):
            found = self._db.get_all(list(refs.values()), timeout=TIMEOUT_SECONDS)
            snaps = {snap.reference.path: snap for snap in found}
        for order_id, ref in refs.items():
            snap = snaps.get(ref.path)
            if snap is None or not snap.exists:
                continue
            owner = Owner(OrderRecord.model_validate(snap.to_dict()), order_id)
            for member in [seen.orders[order_id], *(seen.orders[order_id].get("legs") or [])]:
                seen.owners[member["id"]] = owner

    def _owner_fields(self, seen: Pass, order_id: str) -> dict[str, Any]:
        owner = seen.owners.get(order_id)
        return owner.fields() if owner else {}

    # -- writes --------------------------------------------------------------------------------

    def _apply(self, order: dict[str, Any], seen: Pass, report: SyncReport) -> int:
        """Events for each member's final status, then the record's update (so a record that shows a
        state implies its events exist). Unchanged since the last run: nothing at all."""
        owner = seen.owners.get(order["id"])
        record = owner.record if owner else None
        state = broker_state(order)
        if record is not None and record.broker_state == state:
            return 0
        written = 0
        for member in [order, *(order.get("legs") or [])]:
            kind = STATUS_EVENTS.get(str(member["status"]))
            if kind is not None:
                written += self._event(kind, member, order, owner, {})
        if record is not None and record.state == OrderState.SUBMITTED:
            self._update(record, order, seen)
            report.records_updated += 1
        return written

    def _update(self, record: OrderRecord, order: dict[str, Any], seen: Pass) -> None:
        legs = order.get("legs") or []
        members = [order, *legs]
        times = [f.transaction_time for m in members for f in seen.fills_of(m["id"])]
        times += [t for t in (record.first_fill_at, record.last_fill_at) if t is not None]
        update: dict[str, Any] = {
            "alpaca_order_id": order["id"],
            "alpaca_status": order["status"],
            "filled_qty": order.get("filled_qty"),
            "filled_avg_price": order.get("filled_avg_price"),
            "legs": [{k: leg.get(k) for k in LEG_FIELDS} for leg in legs] or None,
            "tracking": any(m["status"] not in FINAL for m in members),
            "broker_state": broker_state(order),
            "synced_at": firestore.SERVER_TIMESTAMP,
            **{name: _time(order.get(name)) for name in TIMES},
        }
        if times:
            update["first_fill_at"], update["last_fill_at"] = min(times), max(times)
        if record.arrival_price is None:
            update.update(self._arrivals.of(record))
        with firestore_errors():
            self._db.collection(ORDERS).document(record.order).update(update, timeout=TIMEOUT_SECONDS)

    def _partial_events(self, seen: Pass) -> int:
        written = 0
        for fill in seen.fills:
            if fill.type != "partial_fill":
                continue
            owner = seen.owners.get(fill.order_id)
            order = seen.orders.get(owner.parent_id if owner else fill.order_id) or {}
            member = next(
                (m for m in [order, *(order.get("legs") or [])] if m.get("id") == fill.order_id),
                {"id": fill.order_id, "symbol": fill.symbol, "side": fill.side},
            )
            extra = {
                "fill_id": fill.id,
                "fill_qty": str(fill.qty),
                "fill_price": str(fill.price),
                "cum_qty": str(fill.cum_qty),
                "leaves_qty": str(fill.leaves_qty),
                "fill_time": fill.transaction_time,
            }
            written += self._event(Event.ORDER_PARTIALLY_FILLED, member, order, owner, extra, fill.id)
        return written

    def _event(
        self,
        kind: Event,
        member: Mapping[str, Any],
        parent: Mapping[str, Any],
        owner: Owner | None,
        extra: dict[str, Any],
        fill_id: str | None = None,
    ) -> int:
        """Create the event once; 1 if this call wrote it, 0 if an earlier run or copy did."""
        record = owner.record if owner else None
        data: dict[str, Any] = {
            "order": record.order if record else None,
            "client_order_id": record.client_order_id if record else member.get("client_order_id"),
            "alpaca_order_id": member["id"],
            "symbol": member.get("symbol"),
            "side": member.get("side"),
            "order_type": member.get("type"),
            "qty": member.get("qty"),
            "filled_qty": member.get("filled_qty"),
            "filled_avg_price": member.get("filled_avg_price"),
            "status": member.get("status"),
            "leg": member.get("id") != parent.get("id", member.get("id")),
            **extra,
        }
        caller = record.caller if record else "alpaca"
        event = self._audit.event(kind, caller, record.request_id if record else None, **data)
        try:
            with firestore_errors():
                self._audit.ref(event_id(str(member["id"]), kind, fill_id)).create(
                    event, retry=None, timeout=TIMEOUT_SECONDS
                )
        except Duplicate:
            return 0
        return 1

    # -- the cursor ----------------------------------------------------------------------------

    def _cursor(self) -> dict[str, Any]:
        with firestore_errors(reading=True):
            snap = self._db.collection(SYNC).document("orders").get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        return dict(snap.to_dict() or {}) if snap.exists else {}

    def _advance(
        self, cursor: dict[str, Any], orders: str | None, fills: str | None, run_key: str
    ) -> dict[str, str | None]:
        """Move forward only: a slower overlapping run never takes the cursor back."""
        now = self._cursor()
        moved = {
            name: max(v for v in (cursor.get(name), now.get(name), new) if v)
            for name, new in (("orders_after", orders), ("fills_after", fills))
        }
        with firestore_errors():
            self._db.collection(SYNC).document("orders").set(
                {**moved, "run_key": run_key, "updated_at": firestore.SERVER_TIMESTAMP},
                timeout=TIMEOUT_SECONDS,
            )
        return dict(moved)
