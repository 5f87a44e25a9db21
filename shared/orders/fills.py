"""`fills/{activity id}`: Alpaca's FILL activities as the order sync stored them, and the fills feed.

The feed reads only Firestore, so a no-code tool polling it costs no upstream request. Each fill keeps
Alpaca's activity id as its stable id; `cursor` (the transaction time, then the id) orders the feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud import firestore

from shared.clock import parse_time
from shared.firestore import FILLS, READ_RETRY, TIMEOUT_SECONDS, firestore_errors
from shared.models import Amount, ApiModel, Model, Time

FEED_DEFAULT = 100
FEED_MAX = 500


def time_key(moment: datetime) -> str:
    """A fixed-width UTC form that sorts as the time does (microseconds, `Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fill(ApiModel):
    """One execution: part or all of an order, as Alpaca's FILL activity reports it."""

    id: str  # Alpaca's activity id: stable, never reused
    order_id: str
    client_order_id: str | None = None
    record: str | None = None  # orders/{id} when the gateway placed the order
    caller: str | None = None
    symbol: str
    side: str
    qty: Amount
    price: Amount
    cum_qty: Amount
    leaves_qty: Amount
    type: str  # fill | partial_fill
    order_status: str
    transaction_time: Time
    cursor: str

    @classmethod
    def from_activity(cls, raw: Mapping[str, Any], owner: Mapping[str, Any] | None = None) -> Fill:
        at = parse_time(str(raw["transaction_time"]))
        return cls(
            id=str(raw["id"]),
            order_id=str(raw["order_id"]),
            symbol=str(raw["symbol"]),
            side=str(raw["side"]),
            qty=Decimal(str(raw["qty"])),
            price=Decimal(str(raw["price"])),
            cum_qty=Decimal(str(raw.get("cum_qty") or raw["qty"])),
            leaves_qty=Decimal(str(raw.get("leaves_qty") or "0")),
            type=str(raw.get("type") or "fill"),
            order_status=str(raw.get("order_status") or ""),
            transaction_time=at,
            cursor=f"{time_key(at)}|{raw['id']}",
            **dict(owner or {}),
        )

    def stored(self) -> dict[str, Any]:
        found = self.model_dump(mode="json", exclude_none=True)
        found["transaction_time"] = self.transaction_time
        return found


class FillsPage(Model):
    """Fills oldest first; pass `next_cursor` as `cursor` for the next page (None: nothing more yet)."""

    fills: list[Fill]
    next_cursor: str | None = None


class FillStore:
    def __init__(self, db: Any) -> None:
        self._db = db

    def save(self, fills: Iterable[Fill]) -> int:
        """Store each fill under its activity id; a fill seen again is written again, unchanged."""
        batch, count = self._db.batch(), 0
        for fill in fills:
            batch.set(self._db.collection(FILLS).document(_doc_id(fill.id)), fill.stored())
            count += 1
            if count % 400 == 0:
                self._commit(batch)
                batch = self._db.batch()
        if count % 400:
            self._commit(batch)
        return count

    @staticmethod
    def _commit(batch: Any) -> None:
        with firestore_errors():
            batch.commit(timeout=TIMEOUT_SECONDS)

    def page(self, since: datetime | None, cursor: str | None, limit: int = FEED_DEFAULT) -> FillsPage:
        """Fills from `since` (inclusive) or after `cursor` (exclusive), oldest first."""
        query = self._db.collection(FILLS)
        if cursor is not None:
            query = query.where(filter=firestore.FieldFilter("cursor", ">", cursor))
        elif since is not None:
            query = query.where(filter=firestore.FieldFilter("cursor", ">=", time_key(since)))
        limit = max(1, min(limit, FEED_MAX))
        query = query.order_by("cursor").limit(limit)
        with firestore_errors(reading=True):
            snaps = list(query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS))
        fills = [Fill.model_validate(snap.to_dict()) for snap in snaps]
        last = fills[-1].cursor if fills else cursor
        return FillsPage(fills=fills, next_cursor=last)

    def between(self, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
        """Raw stored fills in [start, end), oldest first (the analytics' window)."""
        query = (
            self._db.collection(FILLS)
            .where(filter=firestore.FieldFilter("cursor", ">=", time_key(start)))
            .where(filter=firestore.FieldFilter("cursor", "<", time_key(end)))
            .order_by("cursor")
            .limit(limit)
        )
        with firestore_errors(reading=True):
            return [snap.to_dict() for snap in query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)]


def _doc_id(activity_id: str) -> str:
    """Alpaca's ids are `<digits>::<uuid>`: already a valid document id; a `/` is never allowed."""
    return activity_id.replace("/", "_")
