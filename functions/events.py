"""Firestore-triggered entry points: notifications leave from here, never from the order path."""

from __future__ import annotations

from functions._events import Created, on_document


@on_document("notify_on_audit")
def notify_on_audit(created: Created) -> None:
    """An audit event was created: deliver it to the targets that want its type (and due retries)."""
    created.gateway.notify.on_event(created.id, created.data)
