"""Firestore as the engine uses it: collection names, the retry and timeout policy, error translation,
and values as JSON."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core import retry as gretry

from shared.errors import Unavailable

ORDERS = "orders"
AUDIT = "audit"
SETTINGS = "settings"
ORDER_RATE = "order_rate"
CLOSES = "closes"
RATELIMIT = "ratelimit"
SIGNATURES = "signatures"
SYNC = "sync"  # `orders`: the order sync's cursor
FILLS = "fills"  # FILL activities by activity id, for the fills feed and the analytics
NOTIFY_DELIVERIES = "notify_deliveries"  # one per (audit event, target): attempts and the next retry
NOTIFY_FAILED = "notify_failed"  # dead letters: deliveries that failed their last attempt
EOD_RUNS = "eod_runs"
POSITION_SNAPSHOTS = "position_snapshots"
CHANNEL = "channel"  # never written: the warm-up's read opens the client's channel and finds nothing

TIMEOUT_SECONDS = 3.0
# Reads may retry briefly; commits never do (a retried create could meet itself as a duplicate).
READ_RETRY = gretry.Retry(
    predicate=gretry.if_transient_error, initial=0.05, maximum=0.4, multiplier=2.0, timeout=2.0
)


class Duplicate(Exception):
    """The document already exists: somebody else created it first (an idempotency key is taken)."""


def audit_unavailable(reading: bool = False) -> Unavailable:
    message = (
        "the audit log cannot be read right now"
        if reading
        else "the audit log cannot be written, so nothing was sent"
    )
    return Unavailable(message, reason="audit_unavailable", retry_after=1)


@contextmanager
def firestore_errors(reading: bool = False) -> Iterator[None]:
    """Firestore failures become 503 (fail closed); an existing document is a Duplicate."""
    try:
        yield
    except gexc.AlreadyExists as exc:
        raise Duplicate(str(exc)) from exc
    except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
        raise audit_unavailable(reading) from exc


def open_channel(db: Any) -> None:
    """One read of a document nobody writes, so the client's gRPC channel (and its credentials) are ready
    before the first request's own call needs them."""
    db.collection(CHANNEL).document("open").get(timeout=TIMEOUT_SECONDS)


def as_json(value: Any) -> Any:
    """Firestore values as JSON: timestamps become RFC 3339 strings."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value
