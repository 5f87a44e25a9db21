"""The per-caller order-rate counter: one Firestore document per caller and minute, bumped in the claim."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.clock import EASTERN
from shared.firestore import ORDER_RATE

RATE_WINDOW_SECONDS = 60


def rate_counter(db: Any, caller: str, epoch: float) -> tuple[Any, dict[str, Any]]:
    """The caller's order counter for the current minute, as a (ref, fetch-and-add write) pair."""
    window = int(epoch // RATE_WINDOW_SECONDS)
    name = hashlib.sha256(caller.encode()).hexdigest()[:16]
    ref = db.collection(ORDER_RATE).document(f"{name}-{window}")
    expires = datetime.fromtimestamp((window + 2) * RATE_WINDOW_SECONDS, EASTERN) + timedelta(hours=1)
    return ref, {"count": firestore.Increment(1), "expires_at": expires}
