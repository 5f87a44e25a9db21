"""What a delivery sends: the Standard Webhooks JSON payload, or Slack's or Discord's message shape."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from shared.firestore import as_json

Format = Literal["json", "slack", "discord"]
HIDDEN = frozenset({"created_at", "request"})  # server bookkeeping and the raw Alpaca body


def payload(event_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """`{"type", "timestamp", "data"}` for an audit event (its id is `data.id`)."""
    data = {k: as_json(v) for k, v in event.items() if k not in HIDDEN and k not in ("type", "time")}
    when = as_json(event.get("time"))
    return {"type": str(event.get("type")), "timestamp": when, "data": {"id": event_id, **data}}


def summary(body: Mapping[str, Any]) -> str:
    data = body.get("data") or {}
    parts = [str(body.get("type"))]
    for name in ("symbol", "side", "qty", "fill_qty", "filled_qty"):
        if data.get(name) not in (None, ""):
            parts.append(f"{name}={data[name]}")
    price = data.get("fill_price") or data.get("filled_avg_price")
    if price:
        parts.append(f"price={price}")
    for name in ("reason", "client_order_id", "caller"):
        if data.get(name):
            parts.append(f"{name}={data[name]}")
    return " ".join(parts)


def encode(body: Mapping[str, Any], fmt: Format) -> bytes:
    """The request body in the target's format, compact JSON."""
    shaped: Any = body
    if fmt == "slack":
        shaped = {"text": f"Execution Engine: {summary(body)}"}
    elif fmt == "discord":
        shaped = {"content": f"Execution Engine: {summary(body)}"[:2000]}
    return json.dumps(shaped, separators=(",", ":"), sort_keys=True, default=str).encode()
