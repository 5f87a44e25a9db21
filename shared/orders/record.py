"""The order record `orders/{sha256(key)}`, typed: what was asked, by whom, its state and its answer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict

from shared.models import Model

KeySource = Literal["client_order_id", "idempotency_key", "generated"]


class OrderState(StrEnum):
    PENDING = "pending"  # claimed; the send is under way, or its instance died (stale after a while)
    SUBMITTED = "submitted"  # Alpaca has it
    REJECTED = "rejected"  # Alpaca refused it
    DENIED = "denied"  # our risk checks refused it; never sent
    UNRESOLVED = "unresolved"  # sent or about to be, with no answer yet: a repeat or a sync settles it


class Answer(Model):
    """The HTTP answer of a settled record, which every repeat of the key gets again."""

    model_config = ConfigDict(frozen=True)

    status: int
    body: dict[str, Any]


class OrderRecord(Model):
    """One idempotency key's order. Created pending with its first event; settled by `OrderRecords`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    order: str  # the record's own id
    client_order_id: str
    symbol: str
    key_source: KeySource
    claim: str  # this claim's token: event ids derive from it
    caller: str
    request_id: str
    request: dict[str, Any]  # the POST /v2/orders body
    fingerprint: str
    state: OrderState
    requested_at: datetime
    attempts: int = 0
    response: Answer | None = None
    reason: str | None = None
    message: str | None = None
    upstream_status: int | None = None
    upstream_code: int | None = None
    alpaca_order_id: str | None = None
    alpaca_status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The order's story after the claim (README, The order sync). `requested_at` is the claim's time.
    received_at: datetime | None = None  # the gateway received the request
    sent_at: datetime | None = None  # the POST to Alpaca began
    acknowledged_at: datetime | None = None  # Alpaca's answer came back
    first_fill_at: datetime | None = None  # from the fill activities, set by the sync
    last_fill_at: datetime | None = None
    filled_qty: str | None = None
    filled_avg_price: str | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    legs: list[dict[str, Any]] | None = None
    arrival_price: str | None = None  # the quote mid at `received_at`, or the limit price
    arrival_source: Literal["quote_mid", "limit_price"] | None = None
    synced_at: datetime | None = None
    tracking: bool | None = None  # the order or a leg is still open at Alpaca: the sync refreshes it
    broker_state: str | None = None  # statuses and filled quantities the sync last saw

    def stored(self) -> dict[str, Any]:
        """The Firestore form (server timestamps are added by the store)."""
        return self.model_dump(mode="python", exclude_none=True, exclude={"created_at", "updated_at"})
