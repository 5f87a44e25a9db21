"""The order record `orders/{sha256(key)}`, typed: what was asked, by whom, its state and its answer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

KeySource = Literal["client_order_id", "idempotency_key", "generated"]


class OrderState(StrEnum):
    PENDING = "pending"  # claimed; the send is under way, or its instance died (stale after a while)
    SUBMITTED = "submitted"  # Alpaca has it
    REJECTED = "rejected"  # Alpaca refused it
    DENIED = "denied"  # our risk checks refused it; never sent
    UNRESOLVED = "unresolved"  # sent or about to be, with no answer yet: a repeat or a sync settles it


class Answer(BaseModel):
    """The HTTP answer of a settled record, which every repeat of the key gets again."""

    model_config = ConfigDict(frozen=True)

    status: int
    body: dict[str, Any]


class OrderRecord(BaseModel):
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

    def stored(self) -> dict[str, Any]:
        """The Firestore form (server timestamps are added by the store)."""
        return self.model_dump(mode="python", exclude_none=True, exclude={"created_at", "updated_at"})
