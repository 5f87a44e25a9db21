"""`@on_document(trigger)`: a Firestore CloudEvent from Eventarc, decoded into the created document.

Only retryable failures (the broker or a dependency unavailable, rate limits) are raised, so Eventarc
delivers the event again; any other failure is logged and the event acknowledged, because retrying it
would fail the same way forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

import functions_framework
import proto  # type: ignore[import-untyped]
from cloudevents.http import CloudEvent
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.types import common, document

from functions.routes import Trigger, trigger_for
from shared.app import gateway
from shared.errors import GatewayError
from shared.gateway import Gateway

log = logging.getLogger("execution_engine")
RETRYABLE = frozenset({429, 502, 503, 504})


class DocumentEventData(proto.Message):  # type: ignore[misc]
    """google.events.cloud.firestore.v1.DocumentEventData, the payload Eventarc sends for Firestore."""

    value = proto.Field(proto.MESSAGE, number=1, message=document.Document)
    old_value = proto.Field(proto.MESSAGE, number=2, message=document.Document)
    update_mask = proto.Field(proto.MESSAGE, number=3, message=common.DocumentMask)


@dataclass(frozen=True)
class Created:
    """The document an event announces: its id, its path below `documents/`, and its fields."""

    gateway: Gateway
    id: str
    path: str
    data: dict[str, Any]
    event_id: str


def decode(event: CloudEvent) -> tuple[str, dict[str, Any]]:
    """The created document's path (below `documents/`) and fields, as Python values."""
    payload = event.get_data()
    raw = payload if isinstance(payload, bytes) else bytes(payload or b"")
    value = DocumentEventData.deserialize(raw).value
    path = str(value.name).split("/documents/", 1)[-1]
    # _helpers.decode_dict is the client's own Value decoder; references need no client here.
    fields = cast(dict[str, Any], _helpers.decode_dict(document.Document.pb(value).fields, None))
    return path, fields


def on_document(trigger: str | Trigger) -> Callable[[Callable[[Created], Any]], Callable[[CloudEvent], None]]:
    """Turn `handler(created)` into a CloudEvent entry point for the trigger's documents."""
    spec = trigger if isinstance(trigger, Trigger) else trigger_for(trigger)

    def decorate(handler: Callable[[Created], Any]) -> Callable[[CloudEvent], None]:
        @functions_framework.cloud_event
        @wraps(handler)
        def entry(event: CloudEvent) -> None:
            event_id = str(event["id"])
            try:
                path, data = decode(event)
                handler(Created(gateway(), path.rsplit("/", 1)[-1], path, data, event_id))
            except GatewayError as error:
                if error.status in RETRYABLE:
                    log.warning("%s event %s: %s, retried", spec.entry_point, event_id, error.reason)
                    raise
                log.error(
                    "%s event %s dropped: %s %s", spec.entry_point, event_id, error.status, error.reason
                )

        return entry

    return decorate
